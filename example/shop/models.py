from django.conf import settings
from django.db import models
from django.db.models import Q


class Customer(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=100)


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)


class Basket(models.Model):
    OPEN, FROZEN = "open", "frozen"
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, default=OPEN)

    class Meta:
        constraints = [
            # One open basket per owner; frozen ones may pile up.
            models.UniqueConstraint(
                fields=["owner"], condition=Q(status="open"), name="one_open_basket_per_owner"
            ),
        ]


class Line(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        unique_together = [("basket", "product")]


class Coupon(models.Model):
    code = models.CharField(max_length=20)
    campaign = models.CharField(max_length=50, null=True, blank=True)

    class Meta:
        unique_together = [("code", "campaign")]


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=20, default="new")
