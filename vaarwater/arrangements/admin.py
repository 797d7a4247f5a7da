"""Read-only admin pages for payment plans, instalments, promises and assessments.

Plans and promises change only through the services (accept, cancel, the daily follow-up),
which record why; the admin shows them, scoped to the user's creditors.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vaarwater.core.money import format_eur
from vaarwater.ledger.admin import ReadOnlyAdmin

from .models import Arrangement, Assessment, Instalment, Promise


def _eur(cents) -> str:
    return "" if cents is None else format_eur(cents)


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    can_delete = False
    fields = ["number", "due_on", "amount", "paid", "status", "paid_on", "reminded_on"]
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount(self, obj):
        return _eur(obj.amount_cents)

    @admin.display(description=_("paid"))
    def paid(self, obj):
        return _eur(obj.paid_cents)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Arrangement)
class ArrangementAdmin(ReadOnlyAdmin):
    list_display = ["reference", "debtor", "status", "kind", "method", "total", "paid", "misses"]
    list_filter = ["status", "method", "kind", "channel"]
    search_fields = ["reference", "debtor__external_id", "debtor__name"]
    list_select_related = ["debtor"]
    raw_id_fields = ["debtor", "case", "assessment", "mandate", "replaces", "hold"]
    inlines = [InstalmentInline]

    @admin.display(description=_("the plan covers"))
    def total(self, obj):
        return _eur(obj.total_cents)

    @admin.display(description=_("paid so far"))
    def paid(self, obj):
        return _eur(obj.paid_cents)


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    list_display = ["debtor", "amount", "due_on", "status", "source", "made_on", "made_by"]
    list_filter = ["status", "source"]
    search_fields = ["debtor__external_id", "debtor__name"]
    list_select_related = ["debtor"]
    raw_id_fields = ["debtor", "case", "hold"]

    @admin.display(description=_("amount"))
    def amount(self, obj):
        return _eur(obj.amount_cents)


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["debtor", "source", "household", "capacity", "created_at", "created_by"]
    list_filter = ["source", "household"]
    search_fields = ["debtor__external_id", "debtor__name"]
    list_select_related = ["debtor"]
    raw_id_fields = ["debtor", "case"]

    @admin.display(description=_("monthly capacity"))
    def capacity(self, obj):
        return _eur(obj.capacity_cents)
