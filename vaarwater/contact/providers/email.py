"""Email over SMTP with Django's mail backend: a text and an HTML part, List-Unsubscribe.

SMTP gives two answers we can act on at once: a recipient refused with a 5xx code is a hard
bounce (the address is marked invalid); 4xx codes, refused connections and timeouts are
temporary. Later bounces (a DSN from the receiving server) arrive through the signed email-event
webhook (``contact.views.email_webhook``).
"""

import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from .base import Adapter, PermanentFailure, Sent, TemporaryFailure


def message_id_header(message) -> str:
    """A stable Message-ID: the same outbox row always carries the same one."""
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "vaarwater.localhost"
    return f"<vaarwater.{message.pk}.{digest}@{domain}>"


class EmailAdapter(Adapter):
    name = "smtp"
    can_lookup = False

    def send(self, message) -> Sent:
        msg_id = message_id_header(message)
        unsubscribe = message.context.get("unsubscribe_url", "")
        headers = {"Message-ID": msg_id, "X-Vaarwater-Message": str(message.pk)}
        if unsubscribe:
            # RFC 2369 and RFC 8058 one-click: mail programs show an "unsubscribe" button.
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers=headers,
            connection=get_connection(fail_silently=False),
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            reason = f"SMTP {code}: {_text(text)}"
            if 500 <= code < 600:
                raise PermanentFailure(reason, contact_invalid=True, bounced=True) from exc
            raise TemporaryFailure(reason) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            reason = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(reason) from exc
            raise TemporaryFailure(reason) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from exc
        return Sent(
            provider_id=msg_id.strip("<>"),
            detail=f"aangenomen door {settings.EMAIL_HOST}"
            if "smtp" in settings.EMAIL_BACKEND
            else "weggeschreven",
        )


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
