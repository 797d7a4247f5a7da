from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArrangementsConfig(AppConfig):
    name = "vaarwater.arrangements"
    label = "arrangements"
    verbose_name = _("Payment arrangements")
    default_auto_field = "django.db.models.BigAutoField"
