"""Inbound calls: an agent finds the caller's case by phone number or reference, within the
agent's own creditors only."""

import pytest
from django.utils import timezone

from vaarwater.ledger.models import ContactKind, ContactPoint, ContactSource, Debtor, Invoice
from vaarwater.strategy.models import CaseStatus
from vaarwater.testing import login_verified

from .factories import agent_for, case_create, version_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(creditor, other_creditor):
    mine = case_create(version_create(creditor))
    ContactPoint.objects.create(
        debtor=mine.debtor,
        kind=ContactKind.PHONE,
        value="+31612345678",
        source=ContactSource.IMPORT,
    )
    Invoice.objects.create(
        creditor=creditor,
        debtor=mine.debtor,
        external_id="F-2026-0042",
        issue_date=timezone.localdate(),
        due_date=timezone.localdate(),
        amount_cents=1000,
    )
    theirs_debtor = Debtor.objects.create(
        creditor=other_creditor, external_id="Z-1", name="Anna Anders"
    )
    theirs = case_create(version_create(other_creditor), debtor=theirs_debtor)
    ContactPoint.objects.create(
        debtor=theirs_debtor,
        kind=ContactKind.PHONE,
        value="+31612345678",
        source=ContactSource.IMPORT,
    )
    return mine, theirs


@pytest.mark.parametrize(
    "typed", ["06-12345678", "+31 6 1234 5678", "0031612345678", "(06) 123 456 78"]
)
def test_a_phone_number_as_the_caller_says_it_opens_the_case(client, creditor, setup, typed):
    mine, _ = setup
    login_verified(client, agent_for(creditor))
    response = client.get("/inbound/", {"q": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{mine.pk}/"


def test_references_and_numbers_find_the_case(client, creditor, setup):
    mine, _ = setup
    login_verified(client, agent_for(creditor))
    for typed in (mine.reference, mine.debtor.external_id, "f-2026-0042"):
        response = client.get("/inbound/", {"q": typed})
        assert response["Location"] == f"/cases/{mine.pk}/", typed


def test_a_wrong_check_digit_finds_nothing(client, creditor, setup):
    mine, _ = setup
    login_verified(client, agent_for(creditor))
    digits, check = mine.reference.split("-")
    wrong = f"{digits}-{(int(check) + 1) % 10}"
    response = client.get("/inbound/", {"q": wrong})
    assert response.status_code == 200
    assert response.context["cases"] == []


def test_another_creditors_caller_is_never_found(client, creditor, other_creditor, setup):
    mine, theirs = setup
    login_verified(client, agent_for(other_creditor, username="other"))
    response = client.get("/inbound/", {"q": "0612345678"})
    assert response["Location"] == f"/cases/{theirs.pk}/"
    for typed in (mine.reference, mine.debtor.external_id, "F-2026-0042"):
        response = client.get("/inbound/", {"q": typed})
        assert response.status_code == 200 and response.context["cases"] == [], typed


def test_several_cases_are_listed_open_first(client, creditor, setup):
    mine, _ = setup
    mine.status, mine.closed_on, mine.close_reason = CaseStatus.CLOSED, mine.opened_on, "paid"
    mine.save(update_fields=["status", "closed_on", "close_reason"])
    newer = case_create(mine.strategy_version, debtor=mine.debtor)
    login_verified(client, agent_for(creditor))
    response = client.get("/inbound/", {"q": "0612345678", "list": "1"})
    assert [case.pk for case in response.context["cases"]] == [newer.pk, mine.pk]


def test_the_page_needs_a_login(client):
    response = client.get("/inbound/", {"q": "0612345678"})
    assert response.status_code == 302 and "login" in response["Location"]
