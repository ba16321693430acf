"""Request handlers of the example shop: some get_or_create calls are safe, some are not."""

from django.contrib.auth.models import User

from .models import Basket, Coupon, Customer, Line, Order, Product


def register(email, name):
    # Safe: Customer.email is unique.
    customer, _ = Customer.objects.get_or_create(email=email, defaults={"name": name})
    return customer


def current_order(customer):
    # Unsafe: nothing makes (customer, status) unique; a double click makes two open orders.
    order, _ = Order.objects.get_or_create(customer=customer, status="new")
    return order


def open_basket(user: User):
    # Safe: the conditional constraint applies, since the created row has status="open".
    basket, _ = Basket.objects.get_or_create(owner=user, status=Basket.OPEN)
    return basket


def frozen_basket(user: User):
    # Unsafe: the created row has status="frozen", which the constraint's condition excludes.
    basket, _ = Basket.objects.get_or_create(owner=user, defaults={"status": "frozen"})
    return basket


def add_line(basket, sku):
    product = Product.objects.get(sku=sku)
    # Safe: unique_together (basket, product).
    line, created = Line.objects.get_or_create(basket=basket, product=product)
    return line


def product_by_title(title):
    # Unsafe: title__iexact is not written on create, and title is not unique anyway.
    return Product.objects.get_or_create(title__iexact=title, defaults={"sku": title[:32]})


def generic_coupon(code):
    # Unsafe: campaign=None, and NULLs never collide in unique_together.
    return Coupon.objects.get_or_create(code=code, campaign=None)


def rename_customer(email, new_email):
    # Unsafe: the created row gets new_email, so it never matches email=email.
    return Customer.objects.update_or_create(email=email, defaults={"email": new_email})


def recent_order(customer, number):
    # Unsafe: the filter narrows the lookup but the created order has status "new".
    return Order.objects.filter(status="paid").get_or_create(customer=customer, number=number)
