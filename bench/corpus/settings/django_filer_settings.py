from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["easy_thumbnails", "filer"]  # noqa: F405
THUMBNAIL_PROCESSORS = (
    "easy_thumbnails.processors.colorspace",
    "easy_thumbnails.processors.autocrop",
    "filer.thumbnail_processors.scale_and_crop_with_subject_location",
    "easy_thumbnails.processors.filters",
)
