"""Celery tasks of the strategy engine: one chunk of the daily run per task."""

from datetime import date

from celery import shared_task
from django.db.models import F

from .models import DailyRun
from .run import chunk_run


@shared_task(name="strategy.run_chunk", acks_late=True, time_limit=3600)
def run_chunk(run_date: str, debtor_ids: list[int], run_id: int | None = None) -> dict:
    """Decide for one chunk of debtors on a worker; return the counts.

    Safe to run twice (a redelivered task): the chunk's decisions are unique per case and day.
    """
    counts, _ = chunk_run(date.fromisoformat(run_date), debtor_ids)
    if run_id is not None:  # progress, visible while the run waits for its chunks
        DailyRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)
    return dict(counts)
