"""The back-office debtor list: login, balances, scoping per creditor, Dutch and English."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from vaarwater.ledger.models import CreditorMembership, Debtor
from vaarwater.ledger.services import invoice_create, payment_book
from vaarwater.testing import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(creditor):
    user = get_user_model().objects.create_user("agent", password="pw-agent-123")
    CreditorMembership.objects.create(user=user, creditor=creditor)
    return user


@pytest.fixture
def portfolio(creditor, other_creditor):
    d1 = Debtor.objects.create(creditor=creditor, external_id="D1", name="Jan de Vries")
    invoice_create(
        debtor=d1,
        external_id="F1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 15),
        amount_cents=123456,
    )
    payment_book(debtor=d1, external_id="P1", date=date(2026, 1, 20), amount_cents=23456)
    Debtor.objects.create(creditor=other_creditor, external_id="W1", name="Piet Verborgen")
    return d1


def test_login_required(client):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_lists_debtors_with_balances_in_dutch(client, agent, portfolio):
    """The page lists the creditor's debtors with their derived balance, in Dutch by default."""
    login_verified(client, agent)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Jan de Vries" in html
    assert 'data-balance-cents="100000"' in html
    assert "€ 1.000,00" in html
    assert "Debiteuren van Energie Noord BV" in html


def test_english_on_request(client, agent, portfolio):
    """With English chosen, the page and the amounts are English."""
    login_verified(client, agent)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "Debtors of Energie Noord BV" in html
    assert "€1,000.00" in html


def test_other_creditors_debtors_are_invisible(client, agent, portfolio):
    """An agent sees only their own creditor's debtors, even when asking for another."""
    login_verified(client, agent)
    assert "Piet Verborgen" not in client.get("/").content.decode()
    assert client.get("/?creditor=WONEN").status_code == 404


def test_search(client, agent, portfolio, creditor):
    """Search by name or customer number narrows the list."""
    Debtor.objects.create(creditor=creditor, external_id="D2", name="Anna Bakker")
    login_verified(client, agent)
    html = client.get("/?q=bakker").content.decode()
    assert "Anna Bakker" in html and "Jan de Vries" not in html


def test_admin_is_scoped(client, agent, portfolio):
    """The admin's debtor list shows only the agent's creditor's debtors."""
    from django.contrib.auth.models import Permission

    agent.is_staff = True
    agent.save()
    agent.user_permissions.add(Permission.objects.get(codename="view_debtor"))
    login_verified(client, agent)
    html = client.get("/admin/ledger/debtor/").content.decode()
    assert "Jan de Vries" in html and "Piet Verborgen" not in html
