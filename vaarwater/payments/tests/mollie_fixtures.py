"""The Mollie simulator for tests: real HTTP on a free port, the official client talking to it.

Import the fixtures into a test module::

    from vaarwater.payments.tests.mollie_fixtures import mollie, mollie_live  # noqa: F401

- ``mollie``: a fresh provider simulator per test with ``MOLLIE_API_BASE`` pointing at it. It
  yields the ``Simulator``: ``.mollie.payments``, ``.mollie.set_status()``, ``.mollie.fail()``,
  ``.webhooks``, ``.hold_webhooks()``, ``.wait_for()``. Its webhooks go to ``PUBLIC_URL``, where
  nothing listens (they are given up quickly); a test calls the webhook view itself.
- ``mollie_live``: the same, with pytest-django's ``live_server`` as ``PUBLIC_URL``, so Mollie's
  webhooks reach the app over HTTP. It needs a transactional database; the fixture asks for one.

``checkout(url, choice)`` is the debtor's browser on the simulator's checkout page: it opens
the page, presses Betalen (``paid``), Annuleren (``canceled``) or Mislukt (``failed``) and
returns where the simulator sends the browser back to.
"""

import pytest
import requests

from vaarwater.contact.simulator.server import simulator_start

WEBHOOK_BACKOFF = 0.1


@pytest.fixture
def mollie(settings):
    """Start a simulator on a free port and point the Mollie client at it."""
    server, url = simulator_start(
        port=0,
        webhook_base=settings.PUBLIC_URL,
        status_delay=0.05,
        webhook_backoff=WEBHOOK_BACKOFF,
        webhook_attempts=2,
    )
    settings.MOLLIE_API_BASE = url
    try:
        yield server.sim
    finally:
        server.stop()


@pytest.fixture
def mollie_live(transactional_db, live_server, settings, mollie):
    """A simulator whose webhooks reach this app, served by ``live_server``."""
    settings.PUBLIC_URL = live_server.url
    mollie.configure(webhook_base=live_server.url, webhook_attempts=5)
    return mollie


def checkout(url: str, choice: str = "paid", issuer: str = "ideal_INGBNL2A") -> str:
    """Open the simulator's checkout page, choose, and return the redirect back (``Location``)."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.text
    assert "Betalen met iDEAL" in page.text
    answer = requests.post(
        url, data={"status": choice, "issuer": issuer}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]
