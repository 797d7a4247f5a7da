"""The contact side of ``vaarwater demo``: the local provider simulator, a webhook receiver,
and the outbox run at simulated moments of each past day."""

import contextlib
import socket
import threading
import time as clock
from collections import Counter
from datetime import date, datetime, time
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server
from zoneinfo import ZoneInfo

from django.conf import settings

TZ = ZoneInfo("Europe/Amsterdam")
# The outbox runs at these moments of a simulated day (one per time band).
DEMO_MOMENTS = (time(9, 0), time(13, 0), time(18, 0))


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # the demo's output stays readable
        pass


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Services:
    """The running simulator and webhook receiver."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.simulator = None
        self.receiver = None

    def settle(self, seconds: float = 20.0) -> None:
        """Wait until the simulator has delivered its status webhooks (or ``seconds`` pass)."""
        if self.simulator is None or self.receiver is None:
            return
        from .models import Message, MessageStatus

        deadline = clock.monotonic() + seconds
        while clock.monotonic() < deadline:
            waiting = Message.objects.filter(
                channel__in=("sms", "whatsapp"), status=MessageStatus.SENT
            ).count()
            if not waiting:
                break
            clock.sleep(0.5)


@contextlib.contextmanager
def contact_services(stdout):
    """Run the provider simulator and, on the public URL's port, this app to receive its
    delivery webhooks, for as long as the block runs."""
    from django.core.wsgi import get_wsgi_application

    from .simulator.server import simulator_start

    services = Services(stdout)
    public = urlsplit(settings.PUBLIC_URL)
    host, port = public.hostname or "127.0.0.1", public.port or 80
    sim_port = urlsplit(settings.TWILIO_API_BASE or "http://127.0.0.1:8025").port or 8025
    if not _bindable("127.0.0.1", sim_port):
        sim_port = 0
    server, base_url = simulator_start(port=sim_port, webhook_base=settings.PUBLIC_URL)
    services.simulator = server
    old = (settings.TWILIO_API_BASE, settings.WHATSAPP_API_BASE)
    settings.TWILIO_API_BASE = settings.WHATSAPP_API_BASE = base_url
    stdout.write(f"provider simulator (SMS, WhatsApp) at {base_url}")
    receiver = None
    if _bindable(host, port):
        receiver = make_server(host, port, get_wsgi_application(), handler_class=_Quiet)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        services.receiver = receiver
    else:
        stdout.write(f"{host}:{port} is busy: delivery webhooks are not received in this run")
    try:
        yield services
    finally:
        settings.TWILIO_API_BASE, settings.WHATSAPP_API_BASE = old
        if receiver is not None:
            receiver.shutdown()
            receiver.server_close()
        server.stop()


def outbox_day(day: date) -> str:
    """Send what is due at each of the day's demo moments, then make the day's print batch."""
    from vaarwater.ledger.models import Creditor

    from .letters.batch import print_batch_create
    from .models import Message, MessageStatus
    from .services import outbox_dispatch

    before = _sent_by_channel()
    for moment in DEMO_MOMENTS:
        while outbox_dispatch(now=datetime.combine(day, moment, TZ))["dispatched"]:
            pass
    for creditor in Creditor.objects.all():
        print_batch_create(creditor=creditor, day=day)
    after = _sent_by_channel()
    diff = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
    failed = Message.objects.filter(status=MessageStatus.FAILED).count()
    text = ", ".join(f"{k} {v}" for k, v in sorted(diff.items())) or "none"
    return text + (f" ({failed} failed so far)" if failed else "")


def _sent_by_channel() -> Counter:
    from django.db.models import Count

    from .models import Message

    return Counter(
        {
            row["channel"]: row["n"]
            for row in Message.objects.filter(sent_at__isnull=False)
            .values("channel")
            .annotate(n=Count("id"))
        }
    )
