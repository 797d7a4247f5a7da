"""SEPA mandates and planned collections: validation at the edge, unique ids, revocation."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.core.models import Event
from vaarwater.payments.sepa import (
    SepaError,
    collections_cancel,
    collections_plan,
    creditor_id_validate,
    mandate_create,
    mandate_revoke,
    sepa_text,
)
from vaarwater.payments.sepa_models import CollectionStatus, MandateStatus

from .test_sepa_fixtures import (  # noqa: F401
    CREDITOR_ID,
    load_strategy,
    make_debtor,
    make_mandate,
    sepa_creditor,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("NL69ZZZ123456780000", "NL69ZZZ123456780000"),
        (" nl69 zzz 1234 5678 0000 ", "NL69ZZZ123456780000"),
        ("DE98ZZZ09999999999", "DE98ZZZ09999999999"),
    ],
)
def test_creditor_id_valid(raw, compact):
    """A creditor identifier is stored compact and upper-case when its mod-97 check holds."""
    assert creditor_id_validate(raw) == compact


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing"),
        ("NL70ZZZ123456780000", "check digits 70 are wrong"),
        ("NL69ZZZ12345678", "12 digits"),
        ("NLXXZZZ123456780000", "expected country"),
        ("NL69ZZZ123456780000" + "9" * 20, "expected country"),
    ],
)
def test_creditor_id_invalid(raw, reason):
    """A wrong creditor identifier is refused with the reason."""
    with pytest.raises(ValueError, match=reason):
        creditor_id_validate(raw)


def test_mandate_create(make_mandate, sepa_creditor):
    """A mandate gets an id unique per creditor, the IBAN compact and the BIC from the IBAN,
    and an event."""
    mandate = make_mandate(iban="nl91 abna 0417 1643 00")
    assert mandate.mandate_id == f"VW-ENERGIE-{mandate.debtor.external_id}-1"
    assert mandate.iban == "NL91ABNA0417164300"
    assert mandate.bic == "ABNANL2A"
    assert mandate.status == MandateStatus.ACTIVE and not mandate.first_collected
    event = Event.objects.get(verb="mandate.created")
    assert event.debtor_id == mandate.debtor_id
    assert event.data["iban"] == "NL91…4300"  # no full IBAN in the timeline
    second = mandate_create(
        debtor=mandate.debtor,
        iban="NL20INGB0001234567",
        account_holder="J de Vries",
        signed_on=TODAY(),
        signed_via="paper",
        bic="ingbnl2a",
    )
    assert second.mandate_id.endswith("-2") and second.bic == "INGBNL2A"


def test_mandate_id_fits_35_characters_and_stays_unique(sepa_creditor, make_debtor):
    """Long or odd customer numbers give a SEPA-safe id of at most 35 characters, unique."""
    first = make_debtor()
    second = make_debtor()
    first.external_id = "klant/2026 nummer_ä-" + "9" * 40
    first.save()
    second.external_id = "klant/2026 nummer_ä-" + "9" * 41
    second.save()
    ids = []
    for debtor in (first, second, first):
        mandate = mandate_create(
            debtor=debtor,
            iban="NL91ABNA0417164300",
            account_holder="Klant",
            signed_on=TODAY(),
            signed_via="agent",
        )
        ids.append(mandate.mandate_id)
    assert len(set(ids)) == 3
    for value in ids:
        assert len(value) <= 35
        assert value.startswith("VW-ENERGIE-KLANT-2026-NUMMER-A-")
        assert all(ch.isalnum() or ch == "-" for ch in value)


@pytest.mark.parametrize(
    ("over", "field", "reason"),
    [
        ({"iban": "NL91ABNA0417164301"}, "iban", "invalid IBAN"),
        ({"iban": ""}, "iban", "invalid IBAN"),
        ({"iban": "BR1800360305000010009795493C1"}, "iban", "not in the SEPA area"),
        ({"bic": "NOTABIC"}, "bic", "invalid BIC"),
        ({"holder": "  ?! "}, "account_holder", "required"),
        ({"holder": "Jan " * 18}, "account_holder", "longer than 70"),
        ({"signed_via": "fax"}, "signed_via", "expected one of"),
    ],
)
def test_mandate_bad_input(make_mandate, over, field, reason):
    """Bad input is refused with the field and the reason; nothing is stored."""
    with pytest.raises(SepaError, match=reason) as caught:
        make_mandate(**over)
    assert caught.value.field == field


def test_mandate_signed_in_the_future(make_mandate):
    """A signature date after today is refused."""
    tomorrow = TODAY() + timedelta(days=1)
    with pytest.raises(SepaError, match="lies in the future") as caught:
        make_mandate(signed_on=tomorrow)
    assert caught.value.field == "signed_on"


def test_account_holder_in_the_sepa_character_set(make_mandate):
    """Accents are dropped, & becomes +, other signs a space: what a bank accepts."""
    mandate = make_mandate(holder="Zoë & Jürgen Ørsted_Bakker!")
    assert mandate.account_holder == "Zoe + Jurgen Orsted Bakker"
    assert sepa_text("Ĳsbrand ’t Hoën") == "IJsbrand 't Hoen"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"sepa_creditor_id": ""}, "sepa_creditor_id", "no SEPA creditor identifier"),
        ({"sepa_creditor_id": "NL70ZZZ123456780000"}, "sepa_creditor_id", "check digits"),
        ({"iban": ""}, "iban", "no collection account"),
        ({"iban": "NL00ABNA0000000000"}, "iban", "invalid IBAN"),
    ],
)
def test_creditor_without_usable_sepa_data(make_mandate, sepa_creditor, change, field, reason):
    """A creditor without a valid creditor identifier or collection account cannot take
    mandates."""
    for name, value in change.items():
        setattr(sepa_creditor, name, value)
    sepa_creditor.save()
    with pytest.raises(SepaError, match=reason) as caught:
        make_mandate()
    assert caught.value.field == field


def items(n=3, *, start=date(2030, 3, 25), prefix="arrangement:1", amount=5000):
    return [
        (f"{prefix}:instalment:{i}", amount, start + timedelta(days=30 * i), f"Termijn {i + 1}")
        for i in range(n)
    ]


def test_collections_plan(make_mandate):
    """One collection per item, with unique SEPA-safe end-to-end ids; planning twice plans
    once."""
    mandate = make_mandate()
    planned = collections_plan(mandate=mandate, items=items())
    assert [row.amount_cents for row in planned] == [5000, 5000, 5000]
    ids = [row.end_to_end_id for row in planned]
    assert len(set(ids)) == 3
    assert all(len(value) <= 35 and value.startswith("VWI-") for value in ids)
    assert all(row.status == CollectionStatus.PLANNED for row in planned)
    assert all(row.debtor_id == mandate.debtor_id for row in planned)
    again = collections_plan(mandate=mandate, items=items())
    assert [row.pk for row in again] == [row.pk for row in planned]
    assert Event.objects.filter(verb="collections.planned").count() == 1


def test_collection_description_is_cleaned(make_mandate):
    """The description the debtor sees is in the SEPA character set and at most 140 long."""
    [row] = collections_plan(
        mandate=make_mandate(), items=[("x:1", 100, date(2030, 3, 25), "Één termijn — €5 " * 20)]
    )
    assert row.description.startswith("Een termijn -- EUR5 Een")
    assert row.description == row.description.strip()
    assert len(row.description) <= 140


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (("p", 0, date(2030, 1, 1), "x"), "positive whole number"),
        (("p", 10.5, date(2030, 1, 1), "x"), "positive whole number"),
        (("p", 100, "2030-01-01", "x"), "expected a date"),
        (("", 100, date(2030, 1, 1), "x"), "purpose"),
        (("p", 100, date(2030, 1, 1), "!!"), "description"),
        (("p", 100), "expected"),
    ],
)
def test_collections_plan_bad_items(make_mandate, item, reason):
    """A bad item names its position and the problem."""
    with pytest.raises(SepaError, match=reason) as caught:
        collections_plan(mandate=make_mandate(), items=[item])
    assert caught.value.field == "items[1]"


def test_collections_cancel_matches_whole_purposes(make_mandate):
    """A purpose prefix cancels its own planned debits, never those of a longer number."""
    mandate = make_mandate()
    collections_plan(mandate=mandate, items=items(2, prefix="arrangement:5"))
    collections_plan(mandate=mandate, items=items(2, prefix="arrangement:51"))
    assert collections_cancel(purpose_prefix="arrangement:5", reason="plan gestopt") == 2
    statuses = dict(mandate.collections.values_list("purpose", "status"))
    assert statuses["arrangement:5:instalment:0"] == CollectionStatus.CANCELLED
    assert statuses["arrangement:51:instalment:0"] == CollectionStatus.PLANNED
    assert collections_cancel(purpose_prefix="arrangement:51:", reason="x") == 2
    assert collections_cancel(purpose_prefix="arrangement:51", reason="x") == 0
    assert Event.objects.filter(verb="collection.cancelled").count() == 4


def test_mandate_revoke_cancels_planned_debits(make_mandate):
    """Revoking cancels the planned debits; a revoked mandate plans nothing; twice is once."""
    mandate = make_mandate()
    collections_plan(mandate=mandate, items=items())
    assert mandate_revoke(mandate=mandate, reason="klant wil per overboeking betalen") == 3
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.REVOKED and mandate.revoked_on == TODAY()
    assert set(mandate.collections.values_list("status", flat=True)) == {"cancelled"}
    assert mandate_revoke(mandate=mandate, reason="again") == 0
    assert Event.objects.filter(verb="mandate.revoked").count() == 1
    with pytest.raises(SepaError, match="revoked"):
        collections_plan(mandate=mandate, items=items(1, prefix="arrangement:2"))


def test_outside_the_eea_the_bic_is_required(make_mandate):
    """A Swiss or San Marino account (SEPA, not EEA) needs the debtor bank's BIC (EPC
    rulebook); when it cannot be told from the IBAN it must be given, else the bank would
    refuse the file. Given, it is used; inside the EEA it never is asked."""
    for iban in ("CH9300762011623852957", "SM86U0322509800000000270100"):
        with pytest.raises(SepaError, match="outside the EEA") as caught:
            make_mandate(iban=iban)
        assert caught.value.field == "bic"
    swiss = make_mandate(iban="CH9300762011623852957", bic="UBSWCHZH80A")
    assert swiss.bic == "UBSWCHZH80A"
    assert make_mandate(iban="GB33BUKB20201555555555").bic == "BUKBGB22"  # known from the IBAN
    assert make_mandate(iban="NL91ABNA0417164300").bic  # EEA: derived, never required
