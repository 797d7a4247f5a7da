"""Celery tasks of the outbox: one message per task, by id; a dispatcher every minute."""

from celery import shared_task

from .services import message_send, outbox_dispatch


@shared_task(name="contact.send_message", acks_late=True, time_limit=120)
def send_message(*, message_id: int) -> str:
    """Send one message by id. A redelivered task is harmless: only one caller claims the row."""
    return message_send(message_id=message_id)


@shared_task(name="contact.dispatch", time_limit=600)
def dispatch() -> dict:
    """Hand every due message to a sender and settle interrupted ones (Celery beat, each minute)."""
    return outbox_dispatch()
