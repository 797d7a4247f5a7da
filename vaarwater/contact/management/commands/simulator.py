"""``vaarwater simulator [--port 8025] [--webhook-base http://127.0.0.1:8000]``: the local SMS
(Twilio API), WhatsApp (Cloud API) and iDEAL (Mollie API) provider simulator, in the
foreground."""

from django.core.management.base import BaseCommand, CommandError

from vaarwater.contact.simulator.server import simulator_server


class Command(BaseCommand):
    help = (
        "Run the local SMS/WhatsApp/iDEAL provider simulator: it speaks the Twilio Messages API, "
        "the WhatsApp Cloud API and Mollie's Payments API with this installation's dev "
        "credentials, keeps the messages (see / and /_sim/messages) and payments (/_sim/mollie/), "
        "has an iDEAL checkout page, and sends webhooks back to --webhook-base (Mollie: to each "
        "payment's webhookUrl)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8025, help="port (default 8025)")
        parser.add_argument(
            "--webhook-base",
            default=None,
            help="where this installation listens for webhooks (default: PUBLIC_URL)",
        )
        parser.add_argument(
            "--status-delay",
            type=float,
            default=1.0,
            help="seconds between the statuses sent, delivered and read (default 1)",
        )
        parser.add_argument(
            "--unknown-suffix",
            default="999",
            help="numbers ending in this do not exist (default 999; empty: none)",
        )

    def handle(self, *args, host, port, webhook_base, status_delay, unknown_suffix, **options):
        try:
            server = simulator_server(
                host=host,
                port=port,
                webhook_base=webhook_base,
                status_delay=status_delay,
                unknown_suffix=unknown_suffix,
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(
            f"Simulator on {server.base_url} (Twilio API, WhatsApp Cloud API, Mollie API); "
            f"webhooks to {server.sim.config.webhook_base}. Messages: {server.base_url}/, "
            f"iDEAL payments: {server.base_url}/_sim/mollie/. Stop with Ctrl+C."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Simulator stopped.")
        finally:
            server.sim.stop()
            server.server_close()
