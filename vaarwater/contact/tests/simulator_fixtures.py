"""The SMS/WhatsApp provider simulator for tests: real HTTP on a free port.

Import the fixtures into a test module::

    from vaarwater.contact.tests.simulator_fixtures import simulator, simulator_live  # noqa: F401

- ``simulator``: a fresh simulator per test; Django settings point the Twilio and WhatsApp
  adapters at it. It yields the ``Simulator`` (``.messages``, ``.webhooks``, ``.configure()``,
  ``.inbound()``, ``.wait_for()``, ``.base_url``). Its status webhooks go nowhere useful.
- ``simulator_live``: the same, with pytest-django's ``live_server`` as the app it reports to
  (``PUBLIC_URL`` = the live server, so StatusCallback URLs and Twilio signatures match). It
  needs a transactional database; the fixture asks for one.
"""

import pytest

from vaarwater.contact.simulator.server import simulator_start

# Fast statuses and retries: a test waits a fraction of a second for its webhooks.
STATUS_DELAY = 0.05
WEBHOOK_BACKOFF = 0.1
WEBHOOK_ATTEMPTS = 5


@pytest.fixture
def simulator(settings):
    """Start a simulator on a free port and point both adapters at it; stop it afterwards."""
    server, url = simulator_start(
        port=0,
        webhook_base=settings.PUBLIC_URL,
        status_delay=STATUS_DELAY,
        webhook_backoff=WEBHOOK_BACKOFF,
        webhook_attempts=WEBHOOK_ATTEMPTS,
    )
    settings.TWILIO_API_BASE = url
    settings.WHATSAPP_API_BASE = url
    try:
        yield server.sim
    finally:
        server.stop()


@pytest.fixture
def simulator_live(transactional_db, live_server, settings, simulator):
    """A simulator whose webhooks reach this app, served by ``live_server``."""
    settings.PUBLIC_URL = live_server.url
    simulator.configure(webhook_base=live_server.url)
    return simulator
