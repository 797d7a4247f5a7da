"""Back-office admin pages for the ledger, scoped to the creditors a user belongs to."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vaarwater.core.models import Event
from vaarwater.core.money import format_eur

from .models import (
    Allocation,
    ContactPoint,
    Contract,
    Creditor,
    CreditorMembership,
    Debtor,
    ImportRun,
    Invoice,
    LedgerEntry,
    Payment,
)
from .selectors import debtor_balance


class CreditorScopedAdmin(admin.ModelAdmin):
    """Show and offer only rows of the user's creditors; ``creditor_path`` names the link."""

    creditor_path = "creditor"
    show_full_result_count = False  # counting millions of rows on every page costs seconds
    list_per_page = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.creditor_path}__in": Creditor.objects.for_user(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Creditor and not request.user.is_superuser:
            kwargs["queryset"] = Creditor.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(CreditorScopedAdmin):
    """Append-only rows: viewable, never edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Creditor)
class CreditorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sector", "can_reclaim_vat"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return Creditor.objects.for_user(request.user)


@admin.register(CreditorMembership)
class CreditorMembershipAdmin(CreditorScopedAdmin):
    list_display = ["user", "creditor"]
    autocomplete_fields = ["creditor"]


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    fields = ["kind", "value", "verified_at", "invalid_since", "source"]


@admin.register(Debtor)
class DebtorAdmin(CreditorScopedAdmin):
    list_display = ["external_id", "name", "postcode", "city", "creditor"]
    list_filter = ["creditor", "language", "payday_cycle"]
    search_fields = ["=external_id", "name", "=postcode"]
    readonly_fields = ["balance", "created_at", "updated_at"]
    inlines = [ContactPointInline]

    @admin.display(description=_("balance"))
    def balance(self, obj):
        return format_eur(debtor_balance(obj)) if obj.pk else "-"


@admin.register(ContactPoint)
class ContactPointAdmin(CreditorScopedAdmin):
    creditor_path = "debtor__creditor"
    list_display = ["debtor", "kind", "value", "verified_at", "invalid_since", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["=value", "=debtor__external_id"]
    raw_id_fields = ["debtor"]


@admin.register(Contract)
class ContractAdmin(CreditorScopedAdmin):
    list_display = ["external_id", "debtor", "creditor"]
    search_fields = ["=external_id", "=debtor__external_id"]
    raw_id_fields = ["debtor"]


@admin.register(Invoice)
class InvoiceAdmin(CreditorScopedAdmin):
    list_display = ["external_id", "debtor", "issue_date", "due_date", "amount", "description"]
    list_filter = ["creditor"]
    search_fields = ["=external_id", "=debtor__external_id"]
    raw_id_fields = ["debtor", "contract"]
    date_hierarchy = "due_date"

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, obj):
        return format_eur(obj.amount_cents)

    def has_change_permission(self, request, obj=None):
        return False  # amounts change through an import or a ledger correction, with an event


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "debtor", "date", "amount", "reference", "source"]
    list_filter = ["source"]
    search_fields = ["=external_id", "=debtor__external_id", "reference"]

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, obj):
        return format_eur(obj.amount_cents)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["booked_on", "debtor", "kind", "component", "amount", "invoice", "payment"]
    list_filter = ["kind", "component"]
    search_fields = ["=debtor__external_id", "=invoice__external_id"]

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, obj):
        return format_eur(obj.amount_cents)


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["payment", "invoice", "component", "amount_cents", "created_at"]
    search_fields = ["=payment__external_id", "=invoice__external_id"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "kind",
        "file_name",
        "rows",
        "created",
        "updated",
        "unchanged",
        "rejected",
    ]
    list_filter = ["kind"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verb", "debtor", "actor_kind", "actor_label", "reason"]
    list_filter = ["verb", "actor_kind"]
    search_fields = ["=debtor__external_id", "verb"]
