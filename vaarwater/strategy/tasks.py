"""Celery tasks of the strategy engine: one chunk of the daily run per task."""

from datetime import date

from celery import shared_task

from .run import chunk_run


@shared_task(name="strategy.run_chunk", acks_late=True, time_limit=3600)
def run_chunk(run_date: str, debtor_ids: list[int]) -> dict:
    """Decide for one chunk of debtors on a worker; return the counts.

    Safe to run twice (a redelivered task): the chunk's decisions are unique per case and day.
    """
    counts, _ = chunk_run(date.fromisoformat(run_date), debtor_ids)
    return dict(counts)
