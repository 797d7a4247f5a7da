"""A real SMTP server (aiosmtpd) for tests, with addresses that bounce.

Import the fixture into a test module: ``from .smtp_fixtures import smtp_server  # noqa: F401``.
"""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

# Recipients on this domain are refused with 550 (a hard bounce); on the next with 451.
BOUNCE_DOMAIN = "bounce.example"
TEMPFAIL_DOMAIN = "busy.example"


@dataclass
class Mailbox:
    """What the server received: parsed messages, in order."""

    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


class _Handler:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@" + BOUNCE_DOMAIN):
            return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"
        if address.endswith("@" + TEMPFAIL_DOMAIN):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.messages.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Start aiosmtpd on a free port and point Django's SMTP backend at it."""
    box = Mailbox()
    port = _free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield box
    finally:
        controller.stop()
