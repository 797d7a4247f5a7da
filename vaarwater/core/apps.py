from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vaarwater.core"
    label = "core"
    verbose_name = "Vaarwater"
