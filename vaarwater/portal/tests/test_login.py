"""The fallback login: the same answer whether or not a case exists, and rate-limited."""

from datetime import date, timedelta

import pytest

from vaarwater.core.models import Event
from vaarwater.portal.login import MAX_PER_CLIENT, MAX_PER_REFERENCE
from vaarwater.portal.models import AccessToken, LoginAttempt
from vaarwater.strategy.models import Case
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(load_strategy, make_debtor):  # noqa: F811
    load_strategy()
    debtor = make_debtor(due=date.today() - timedelta(days=10))
    daily_run(run_date=date.today())
    return Case.objects.get(debtor=debtor)


def post(client, reference, postcode="1234 ab", house="1", ip="10.0.0.1"):
    return client.post(
        "/p/",
        {"reference": reference, "postcode": postcode, "house_number": house},
        REMOTE_ADDR=ip,
    )


def test_the_right_details_open_the_file(client, case):
    """Reference, postcode and house number of one case give a fresh personal link."""
    response = post(client, case.reference.replace("-", ""), postcode="1234AB")
    assert response.status_code == 302
    token = response["Location"].split("/")[2]
    page = client.get(response["Location"])
    assert page.status_code == 200 and case.reference in page.content.decode()
    access = AccessToken.objects.get(case=case)
    assert (access.expires_at - access.created_at) <= timedelta(days=1, seconds=5)
    assert len(token) == 32
    assert Event.objects.filter(verb="portal.login", debtor=case.debtor).count() == 1


def test_a_wrong_postcode_and_an_unknown_case_get_the_same_answer(client, case):
    """No enumeration: a real case with a wrong address and a made-up case look alike."""
    wrong = post(client, case.reference, postcode="9999ZZ")
    unknown = post(client, "999999-1")
    malformed = post(client, "abc")
    assert wrong.status_code == unknown.status_code == malformed.status_code == 200
    strip = lambda r: r.content.decode().split("csrfmiddlewaretoken")[0]  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert "We konden geen dossier vinden" in wrong.content.decode()
    assert not AccessToken.objects.exists()


def test_failures_are_limited_per_reference_even_from_many_addresses(client, case):
    """After MAX_PER_REFERENCE failures on one reference, even the right details wait."""
    for n in range(MAX_PER_REFERENCE):
        assert post(client, case.reference, postcode="9999ZZ", ip=f"10.1.0.{n}").status_code == 200
    blocked = post(client, case.reference, ip="10.2.0.1")
    assert blocked.status_code == 429
    assert "Te veel pogingen" in blocked.content.decode()
    assert not AccessToken.objects.exists()


def test_failures_are_limited_per_client_for_unknown_references_too(client, case):
    """A client guessing references is stopped, whether or not the references exist."""
    for n in range(MAX_PER_CLIENT):
        post(client, f"{n:06d}-0")
    assert post(client, case.reference).status_code == 429
    assert post(client, case.reference, ip="10.9.9.9").status_code == 302


def test_only_hashes_are_stored(client, case):
    post(client, case.reference, postcode="9999ZZ")
    attempt = LoginAttempt.objects.get()
    assert case.reference not in attempt.reference_hash and "10.0.0.1" not in attempt.client_hash


def test_empty_fields_get_field_errors(client, db):
    page = client.post("/p/", {"reference": "", "postcode": "", "house_number": ""})
    assert page.status_code == 200
    assert page.content.decode().count('aria-invalid="true"') == 3
    assert not LoginAttempt.objects.exists()


def test_behind_a_proxy_the_forwarded_client_is_counted(client, case, settings):
    """With PORTAL_BEHIND_PROXY the limit is per forwarded client, not per proxy."""
    settings.PORTAL_BEHIND_PROXY = True
    for n in range(MAX_PER_CLIENT):
        client.post(
            "/p/",
            {"reference": f"{n:06d}-0", "postcode": "1234AB", "house_number": "1"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="192.0.2.7",
        )
    other = client.post(
        "/p/",
        {"reference": case.reference, "postcode": "1234AB", "house_number": "1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.8",
    )
    assert other.status_code == 302
