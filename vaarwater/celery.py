"""Celery application: scale-out of batch work (imports, the daily run).

In the embedded default (no ``VAARWATER_BROKER_URL``) tasks run eagerly in-process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaarwater.settings")

app = Celery("vaarwater")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The outbox: due messages leave within a minute of their allowed moment.
app.conf.beat_schedule = {
    "outbox-dispatch": {"task": "contact.dispatch", "schedule": 60.0},
}
