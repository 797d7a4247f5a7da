"""The daily run fanned out over a real Celery worker, with the real Redis as broker.

A worker process is started on the test's own PostgreSQL database and a queue no one else
uses; the test process sends the chunks through Redis and waits for their results there.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Count, Sum

from vaarwater.contact.models import CallTask, Message
from vaarwater.ledger.models import LedgerEntry
from vaarwater.ledger.services import payment_book
from vaarwater.strategy import run as run_module
from vaarwater.strategy.models import Case, Decision
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.processes import STRATEGY_NO_CHALLENGER, kill_group

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_DB = 7  # kept apart from a developer's default database 0
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
CHUNK = 4
DAYS = [date(2026, 10, 5) + timedelta(days=3 * n) for n in range(14)]  # to 13 November


def redis_or_fail():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {BROKER} cannot be reached ({exc}): the Celery test needs a running "
            "Redis server (redis-server on 127.0.0.1:6379)",
            pytrace=False,
        )
    return client


def database_url() -> str:
    """The URL of the database this test uses (the test database, not the configured one)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'])}"


def reset_producers(app):
    """Forget the connection pools, producer and backend made from an older configuration."""
    app._pool = None
    app.__dict__.pop("amqp", None)
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def celery_worker(client, tmp_path):
    """A real ``celery worker`` process (prefork, two children) on a queue of its own."""
    queue = f"vaarwater-test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vaarwater.settings",
        "VAARWATER_DATABASE_URL": database_url(),
        "VAARWATER_BROKER_URL": BROKER,
        "VAARWATER_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("VAARWATER_RESULT_BACKEND", None)
    env.pop("VAARWATER_TEST_DATABASE_NAME", None)
    celery = Path(sys.executable).parent / "celery"
    command = [str(celery)] if celery.exists() else ["celery"]
    log = log_path.open("w")
    options = "--loglevel=INFO --pool=prefork --concurrency=2 --without-gossip --without-mingle"
    proc = subprocess.Popen(
        [*command, "-A", "vaarwater", "worker", *options.split(), "--without-heartbeat"]
        + ["-Q", queue, "-n", f"{queue}@%h"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while "ready." not in log_path.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield {"queue": queue, "log": log_path, "proc": proc}
    finally:
        proc.terminate()  # warm shutdown: finishes what it has, then stops its children
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_group(proc, signal.SIGKILL)
            proc.wait()
        log.close()
        # Nothing of this test stays behind in Redis: its queue and the chunks' results.
        ids = re.findall(r"strategy\.run_chunk\[([0-9a-f-]+)\]", log_path.read_text())
        client.delete(queue, *client.scan_iter(match=f"*{queue}*"))
        for task_id in set(ids):
            client.delete(f"celery-task-meta-{task_id}")


@contextmanager
def via_broker(settings, queue):
    """This process sends chunks to the broker instead of running them eagerly."""
    from vaarwater.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    before = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=BROKER,
        result_backend=BROKER,
        task_always_eager=False,
        task_default_queue=queue,
    )
    reset_producers(app)
    try:
        yield app
    finally:
        app.conf.update(before)
        reset_producers(app)


def portfolio(make_debtor, creditor):
    debtors = []
    for n in range(30):
        debtors.append(
            make_debtor(
                on=creditor,
                amount=(2500, 4500, 25000, 60000)[n % 4],
                due=date(2026, 10, 1) + timedelta(days=(n * 3) % 17),
                email=n % 5 != 0,
                phone=None if n % 7 == 0 else ("+31612345678" if n % 3 else "+31201234567"),
                street="" if n % 11 == 0 else "Dorpsstraat",
                invoices=1 + n % 3,
            )
        )
    return debtors


def outcome(creditor) -> dict:
    """What the runs did for one creditor, in terms that do not depend on ids."""
    decisions = Counter(
        Decision.objects.filter(creditor=creditor).values_list(
            "run_date", "step_kind", "channel", "outcome", "segment", "path"
        )
    )
    cases = Counter(Case.objects.filter(creditor=creditor).values_list("status", "close_reason"))
    entries = {
        row["kind"]: (row["n"], row["s"])
        for row in LedgerEntry.objects.filter(creditor=creditor)
        .values("kind")
        .annotate(n=Count("id"), s=Sum("amount_cents"))
    }
    return {
        "decisions": decisions,
        "cases": cases,
        "entries": entries,
        "messages": Counter(
            Message.objects.filter(creditor=creditor).values_list("channel", "template")
        ),
        "calls": CallTask.objects.filter(creditor=creditor).count(),
    }


def test_chunks_run_on_a_real_worker_and_decide_as_in_process(
    creditor, other_creditor, load_strategy, make_debtor, settings, monkeypatch, tmp_path
):
    """Two creditors with the same portfolio: one run on the worker, one in-process."""
    client = redis_or_fail()
    settings.VAR_DIR = tmp_path / "var"
    load_strategy(STRATEGY_NO_CHALLENGER)
    load_strategy(STRATEGY_NO_CHALLENGER, on=other_creditor)
    on_worker = portfolio(make_debtor, creditor)
    in_process = portfolio(make_debtor, other_creditor)

    local_chunks = Counter()
    real_chunk_run = run_module.chunk_run

    def counting_chunk_run(*args, **kwargs):
        local_chunks[settings.CELERY_TASK_ALWAYS_EAGER] += 1
        return real_chunk_run(*args, **kwargs)

    monkeypatch.setattr(run_module, "chunk_run", counting_chunk_run)
    with celery_worker(client, tmp_path) as worker, via_broker(settings, worker["queue"]):
        sent = 0
        for n, day in enumerate(DAYS):
            if n in (4, 8):  # some debtors pay: in full or a little
                for group in (on_worker, in_process):
                    for k, debtor in enumerate(group[n::6]):
                        payment_book(
                            debtor=debtor,
                            external_id=f"P{n}-{k}",
                            date=day - timedelta(days=1),
                            amount_cents=200000 if k % 2 else 700,
                        )
            settings.CELERY_TASK_ALWAYS_EAGER = False
            remote = daily_run(run_date=day, creditor=creditor, chunk_size=CHUNK)
            sent += remote.chunks
            settings.CELERY_TASK_ALWAYS_EAGER = True
            local = daily_run(run_date=day, creditor=other_creditor, chunk_size=CHUNK)
            assert remote.chunks == local.chunks >= 2, day
            assert remote.counts == local.counts, day

    assert sent >= 5 * len(DAYS)
    assert local_chunks[False] == 0, "a chunk meant for the worker ran in the test process"
    assert local_chunks[True] == sent
    log = worker["log"].read_text()
    succeeded = re.findall(r"Task strategy\.run_chunk\[[0-9a-f-]+\] succeeded", log)
    assert len(succeeded) == sent, log[-3000:]
    assert "ERROR" not in log, log[-3000:]

    remote, local = outcome(creditor), outcome(other_creditor)
    assert remote == local
    kinds = {kind for _, kind, *_ in remote["decisions"]}
    assert {"message", "call_task", "charge_costs", "start_interest", "pause"} <= kinds, kinds
