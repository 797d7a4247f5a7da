from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _start_on_shipped_strategy(sender, instance, created, raw=False, **kwargs):
    """A new creditor starts on the shipped strategy for its sector until it loads its own."""
    if created and not raw:
        from .documents import shipped_version_load

        shipped_version_load(instance)


class StrategyConfig(AppConfig):
    name = "vaarwater.strategy"
    label = "strategy"
    verbose_name = _("Strategy")

    def ready(self):
        post_save.connect(
            _start_on_shipped_strategy,
            sender="ledger.Creditor",
            dispatch_uid="strategy.shipped_for_new_creditor",
        )
