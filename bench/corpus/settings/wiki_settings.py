from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + SITES + [  # noqa: F405
    "django.contrib.humanize.apps.HumanizeConfig",
    "django_nyt.apps.DjangoNytConfig",
    "mptt",
    "sekizai",
    "sorl.thumbnail",
    "wiki.apps.WikiConfig",
    "wiki.plugins.attachments.apps.AttachmentsConfig",
    "wiki.plugins.notifications.apps.NotificationsConfig",
    "wiki.plugins.images.apps.ImagesConfig",
    "wiki.plugins.macros.apps.MacrosConfig",
    "wiki.plugins.editsection.apps.EditSectionConfig",
    "wiki.plugins.globalhistory.apps.GlobalHistoryConfig",
    "wiki.plugins.help.apps.HelpConfig",
    "wiki.plugins.links.apps.LinksConfig",
    "wiki.plugins.redlinks.apps.RedlinksConfig",
]
TEMPLATES[0]["OPTIONS"]["context_processors"] += [  # noqa: F405
    "django.template.context_processors.debug",
    "django.template.context_processors.i18n",
    "sekizai.context_processors.sekizai",
]
