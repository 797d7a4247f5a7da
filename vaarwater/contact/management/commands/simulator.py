"""``vaarwater simulator [--port 8025] [--webhook-base http://127.0.0.1:8000]``: the local SMS
(Twilio API) and WhatsApp (Cloud API) provider simulator, in the foreground."""

from django.core.management.base import BaseCommand, CommandError

from vaarwater.contact.simulator.server import simulator_server


class Command(BaseCommand):
    help = (
        "Run the local SMS/WhatsApp provider simulator: it speaks the Twilio Messages API and "
        "the WhatsApp Cloud API with this installation's dev credentials, keeps the messages "
        "(see / and /_sim/messages) and sends delivery webhooks back to --webhook-base."
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
            f"Simulator on {server.base_url} (Twilio API and WhatsApp Cloud API); webhooks to "
            f"{server.sim.config.webhook_base}. Messages: {server.base_url}/. Stop with Ctrl+C."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Simulator stopped.")
        finally:
            server.sim.stop()
            server.server_close()
