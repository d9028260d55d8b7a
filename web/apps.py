from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages: the buyer portal and the seller dashboard, above every domain app."""

    name = "web"
    verbose_name = _("网页")
