"""The back-office statement pages: the worklist, booking or ignoring a payment by hand, and
assigning a statement of an unknown account; each user sees only their creditors' entries."""

import pytest
from django.contrib.auth import get_user_model

from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import CreditorMembership, Debtor
from vaarwater.payments.statement_models import (
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)
from vaarwater.payments.statements.importing import statement_import
from vaarwater.payments.statements.synthetic import CREDITOR_IBAN, Stmt, Tx, camt053
from vaarwater.testing import login_verified

pytestmark = pytest.mark.django_db

OTHER_IBAN = "NL56AGDH9619008421"
UNKNOWN_IBAN = "NL86INGB0002445588"


def agent(creditor, name, role="supervisor"):
    """Booking from the worklist is for supervisors (and administrators)."""
    user = get_user_model().objects.create_user(name, password="pw-12345-abc")
    CreditorMembership.objects.create(user=user, creditor=creditor, role=role)
    return user


@pytest.fixture
def worklist(creditor, other_creditor):
    creditor.iban = CREDITOR_IBAN
    creditor.save(update_fields=["iban"])
    other_creditor.iban = OTHER_IBAN
    other_creditor.save(update_fields=["iban"])
    Debtor.objects.create(creditor=creditor, external_id="100001", name="Jan de Vries")
    Debtor.objects.create(creditor=other_creditor, external_id="200001", name="Jan de Vries")
    for account, name in ((CREDITOR_IBAN, "Gever Energie"), (OTHER_IBAN, "Gever Wonen")):
        raw = camt053([Stmt(account=account, txs=[Tx(1234, name=name, ustrd="onbekend")])])
        statement_import(raw=raw, file_name=f"{account}.xml", actor=Actor.system("test"))
    raw = camt053([Stmt(account=UNKNOWN_IBAN, txs=[Tx(99, name="Gever Elders")])])
    statement_import(raw=raw, file_name="elders.xml", actor=Actor.system("test"))
    return {
        "mine": StatementEntry.objects.get(creditor=creditor),
        "theirs": StatementEntry.objects.get(creditor=other_creditor),
    }


def test_the_worklist_shows_only_the_users_creditors(client, english, creditor, worklist):
    login_verified(client, agent(creditor, "a"))
    page = client.get("/statements/").content.decode()
    assert "Gever Energie" in page and "Gever Wonen" not in page
    assert 'href="/statements/" aria-current="page"' in page
    assert "no reference, IBAN or name+amount match" in page
    # Statements of unknown accounts are for administrators only.
    assert "Gever Elders" not in page and UNKNOWN_IBAN not in page
    assert client.get("/statements/?creditor=WONEN").status_code == 404


def test_another_creditors_entry_is_a_404(client, creditor, worklist):
    login_verified(client, agent(creditor, "a"))
    theirs = worklist["theirs"]
    assert client.get(f"/statements/entries/{theirs.pk}/").status_code == 404
    other_debtor = Debtor.objects.get(external_id="200001")
    response = client.post(
        f"/statements/entries/{theirs.pk}/", {"debtor": other_debtor.pk, "note": "x"}
    )
    assert response.status_code == 404
    response = client.post(f"/statements/entries/{theirs.pk}/ignore/", {"reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == EntryStatus.UNMATCHED
    # Nor may a debtor of another creditor be chosen for one's own entry.
    mine = worklist["mine"]
    response = client.post(
        f"/statements/entries/{mine.pk}/", {"debtor": other_debtor.pk, "note": "x"}
    )
    assert response.status_code == 404


def test_book_a_payment_on_a_customer_found_by_search(client, english, creditor, worklist):
    login_verified(client, agent(creditor, "a"))
    mine = worklist["mine"]
    page = client.get(f"/statements/entries/{mine.pk}/?q=vries").content.decode()
    assert "100001" in page and "200001" not in page
    debtor = Debtor.objects.get(external_id="100001")
    response = client.post(
        f"/statements/entries/{mine.pk}/", {"debtor": debtor.pk, "note": "belde: is van hem"}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.debtor, mine.payment.amount_cents) == ("booked", debtor, 1234)
    event = Event.objects.get(verb="statement.entry_assigned")
    assert (event.reason, event.actor_label) == ("belde: is van hem", "a")
    assert "Gever Energie" not in client.get("/statements/").content.decode()


def test_ignore_needs_a_reason(client, english, creditor, worklist):
    login_verified(client, agent(creditor, "a"))
    mine = worklist["mine"]
    client.post(f"/statements/entries/{mine.pk}/ignore/", {"reason": ""})
    mine.refresh_from_db()
    assert mine.status == EntryStatus.UNMATCHED
    client.post(f"/statements/entries/{mine.pk}/ignore/", {"reason": "rente van de bank"})
    mine.refresh_from_db()
    assert (mine.status, mine.resolved_by) == (EntryStatus.IGNORED, "a")


def test_an_administrator_assigns_an_unknown_account(client, english, creditor, worklist):
    waiting = Statement.objects.get(status=StatementStatus.UNKNOWN_ACCOUNT)
    login_verified(client, agent(creditor, "a"))
    assert (
        client.post(f"/statements/{waiting.pk}/assign/", {"creditor": "ENERGIE"}).status_code == 404
    )
    admin = get_user_model().objects.create_superuser("root", password="pw-12345-abc")
    login_verified(client, admin)
    page = client.get("/statements/").content.decode()
    assert UNKNOWN_IBAN in page
    response = client.post(
        f"/statements/{waiting.pk}/assign/", {"creditor": "ENERGIE", "note": "tweede rekening"}
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.creditor) == (StatementStatus.IMPORTED, creditor)
    assert StatementEntry.objects.filter(statement=waiting, amount_cents=99).exists()


def test_login_is_required(client, worklist):
    response = client.get("/statements/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_agent_may_look_but_not_book(client, creditor, worklist):
    """The worklist is open to agents; booking or setting aside a payment is not (403)."""
    login_verified(client, agent(creditor, "a", role="agent"))
    mine = worklist["mine"]
    assert client.get("/statements/").status_code == 200
    assert client.get(f"/statements/entries/{mine.pk}/").status_code == 200
    response = client.post(f"/statements/entries/{mine.pk}/ignore/", {"reason": "rente"})
    assert response.status_code == 403
    response = client.post(f"/statements/entries/{mine.pk}/", {"debtor": "100001", "reason": "x"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.status == EntryStatus.UNMATCHED
