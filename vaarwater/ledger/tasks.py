"""Celery tasks of the ledger: thin wrappers that take ids and paths and call a service."""

from pathlib import Path

from celery import shared_task

from .importing import ImportFailed, csv_import
from .models import Creditor


@shared_task(name="ledger.import_file", acks_late=True, time_limit=6 * 3600)
def import_file(*, kind: str, path: str, creditor_code: str, skip_invalid: bool = False) -> dict:
    """Import one CSV file on a worker; return the counts, or the problems if it was refused."""
    creditor = Creditor.objects.get(code=creditor_code)
    try:
        result = csv_import(
            kind=kind, path=Path(path), creditor=creditor, skip_invalid=skip_invalid
        )
    except ImportFailed as failed:
        return {"ok": False, "problems": failed.lines()}
    return {
        "ok": True,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "rejected_file": result.rejected_file,
    }
