"""(b) The floor: the daily run's cases and decisions written by set-based SQL.

Two statements, each timed with its commit, on a copy of the prepared database:

1. ``INSERT INTO strategy_case ... SELECT``: the debtors to look at by the engine's own
   rule (one aggregate over the ledger), then per debtor its open items and credit from its
   ledger entries and allocations (index scans in a ``LATERAL`` subquery), one case where
   the overdue claim is positive and an item is past the grace days; the segment comes from
   the strategy's conditions as a ``CASE`` expression and the variant from a hash of the
   debtor. It opens the same cases as the engine (``LIMIT`` to the engine's number, as a
   guard). How many cases the whole ledger calls for is counted apart, untimed: the engine's
   rule misses some debtors, see docs/performance.md;
2. ``INSERT INTO strategy_decision ... SELECT``: the first step of each new case's path (a
   small ``VALUES`` list taken from the strategy) with its reason and data, as many as the
   engine decided (``LIMIT``).

The issue's floor is (2): the least a run can do to write the same decisions. (1) is the
second floor line, the cases those decisions need; (1) + (2) read the ledger and write what
the run's decisions rest on. As a third, informative line, the other rows the engine writes
for the same cases (transitions, events, messages, call tasks) are written the same way, as
many of each as the engine wrote.

Nothing here applies the engine's contact or payday rules; a floor only has to write rows
of the same shape and number.
"""

import time
from datetime import date, timedelta

LINES = ("cases", "decisions", "the other rows")


def _segment_case(strategy) -> str:
    """The strategy's segment conditions as one SQL ``CASE`` (only the facts it needs)."""
    parts = []
    for segment in strategy.segments:
        cond, tests = segment.when, []
        if cond.vulnerable is not None:
            tests.append(f"d.vulnerable = {str(cond.vulnerable).upper()}")
        if cond.first_time is not None:
            tests.append(("" if cond.first_time else "NOT ") + "o.first_time")
        if cond.balance_min is not None:
            tests.append(f"o.claim >= {int(cond.balance_min)}")
        if cond.balance_max is not None:
            tests.append(f"o.claim <= {int(cond.balance_max)}")
        if cond.days_past_due_min is not None:
            tests.append(f"o.dpd >= {int(cond.days_past_due_min)}")
        if cond.days_past_due_max is not None:
            tests.append(f"o.dpd <= {int(cond.days_past_due_max)}")
        if cond.open_items_min is not None:
            tests.append(f"o.items >= {int(cond.open_items_min)}")
        if cond.open_items_max is not None:
            tests.append(f"o.items <= {int(cond.open_items_max)}")
        if cond.risk_score_min is not None:
            tests.append(f"d.risk_score >= {int(cond.risk_score_min)}")
        if cond.risk_score_max is not None:
            tests.append(f"d.risk_score <= {int(cond.risk_score_max)}")
        if cond.reachable or cond.unreachable or cond.sector:
            raise NotImplementedError(f"segment {segment.name}: the floor has no contact facts")
        test = " AND ".join(tests) or "TRUE"
        parts.append((test, segment.name, segment.path))
    return parts


def _variant_sql(strategy) -> str:
    """Challengers take consecutive slices of [0, 100) of a per-debtor hash, as in the run."""
    edge, whens = 0, []
    for name, share in strategy.variant_shares():
        edge += share
        whens.append(f"WHEN o.draw < {edge} THEN '{name}'")
    return f"CASE {' '.join(whens)} ELSE 'champion' END" if whens else "'champion'"


CASE_COLUMNS = (
    "creditor_id, debtor_id, status, opened_on, close_reason, strategy_version_id, variant, "
    "variant_draw, segment, path, anchor_due, step_index, last_step_on, last_decision_on, "
    "updated_at"
)


def cases_sql(strategy) -> str:
    from vaarwater.strategy.models import Case

    return f"""
        INSERT INTO {Case._meta.db_table} ({CASE_COLUMNS})
        {case_select_sql(strategy)}
        LIMIT %(cases)s
    """


def _segment_columns(strategy) -> tuple[str, str]:
    segments = _segment_case(strategy)
    segment = "CASE " + " ".join(f"WHEN {t} THEN '{n}'" for t, n, _ in segments) + " END"
    path = "CASE " + " ".join(f"WHEN {t} THEN '{p}'" for t, _, p in segments) + " END"
    return segment, path


def case_select_sql(strategy) -> str:
    """The new cases, the way a set-based engine finds them, in one statement.

    First the debtors to look at, with the engine's own rule (one aggregate over the ledger,
    as ``debtors_to_look_at``); then, per debtor, its open items and credit from its ledger
    entries and allocations (index scans in a ``LATERAL`` subquery, as ``open_positions``
    per chunk); a case where the overdue claim minus credit is positive and an item is past
    the grace days.
    """
    from vaarwater.ledger.models import Allocation, Debtor, Invoice, LedgerEntry
    from vaarwater.strategy.models import Case

    segment, path = _segment_columns(strategy)
    entries, allocations = LedgerEntry._meta.db_table, Allocation._meta.db_table
    invoices = Invoice._meta.db_table
    return f"""
        WITH candidates AS MATERIALIZED (
            SELECT e.debtor_id FROM {entries} e
            LEFT JOIN {invoices} i ON i.id = e.invoice_id
            WHERE (e.invoice_id IS NULL OR i.due_date < %(day)s)
              AND e.creditor_id = %(creditor)s
            GROUP BY e.debtor_id HAVING SUM(e.amount_cents) > 0
        ),
        -- read once, before the insert: a per-row lookup in the table being inserted into
        -- could scan every row inserted so far
        closed AS MATERIALIZED (
            SELECT DISTINCT debtor_id FROM {Case._meta.db_table} WHERE status = 'closed'
        )
        SELECT d.creditor_id, d.id AS debtor_id, 'open', %(day)s, '', %(version)s,
               {_variant_sql(strategy)} AS variant, o.draw, {segment} AS segment,
               {path} AS path, o.anchor_due, 1, %(day)s, %(day)s, now()
        FROM candidates c
        JOIN {Debtor._meta.db_table} d ON d.id = c.debtor_id
        LEFT JOIN closed ON closed.debtor_id = c.debtor_id
        CROSS JOIN LATERAL (
            SELECT
                coalesce(sum(y.open) FILTER (WHERE y.due_date < %(day)s), 0)
                    + coalesce(sum(y.open) FILTER (WHERE y.invoice_id IS NULL), 0) AS claim,
                min(y.due_date) FILTER (WHERE y.due_date < %(late_before)s) AS anchor_due,
                %(day)s - min(y.due_date) FILTER (WHERE y.due_date < %(day)s) AS dpd,
                count(*) FILTER (WHERE y.due_date < %(day)s) AS items,
                closed.debtor_id IS NULL AS first_time,
                (abs(hashtext(c.debtor_id::text)) %% 1000000) / 10000.0 AS draw
            FROM (
                -- open per invoice; the NULL invoice holds minus the unallocated credit;
                -- due dates looked up only for what is still open
                SELECT t.invoice_id, i.due_date, t.open
                FROM (
                    SELECT u.invoice_id, sum(u.amount) AS open
                    FROM (
                        SELECT invoice_id, amount_cents AS amount
                          FROM {entries} WHERE debtor_id = c.debtor_id
                        UNION ALL
                        SELECT invoice_id, -amount_cents FROM {allocations}
                         WHERE debtor_id = c.debtor_id
                        UNION ALL
                        SELECT NULL, amount_cents FROM {allocations}
                         WHERE debtor_id = c.debtor_id
                    ) u
                    GROUP BY u.invoice_id
                    HAVING sum(u.amount) <> 0
                ) t
                LEFT JOIN {invoices} i ON i.id = t.invoice_id
            ) y
        ) o
        WHERE o.claim > 0 AND o.anchor_due IS NOT NULL
    """


def eligible_sql(strategy) -> str:
    """How many debtors the whole ledger says have an overdue claim past grace (untimed).

    Per invoice over the whole ledger, not only the debtors the engine's rule looks at: the
    difference is the debtors that rule misses.
    """
    from vaarwater.ledger.models import Allocation, Component, Invoice, LedgerEntry

    entries, allocations = LedgerEntry._meta.db_table, Allocation._meta.db_table
    return f"""
        SELECT count(*) FROM (
            SELECT x.debtor_id,
                   sum(x.open) - coalesce(max(c.credit), 0) AS claim,
                   min(x.due_date) FILTER (WHERE x.due_date < %(late_before)s) AS anchor_due
            FROM (
                SELECT t.debtor_id, t.invoice_id, max(i.due_date) AS due_date,
                       sum(t.amount) AS open
                FROM (
                    SELECT debtor_id, invoice_id, amount_cents AS amount
                      FROM {entries} WHERE invoice_id IS NOT NULL
                    UNION ALL
                    SELECT debtor_id, invoice_id, -amount_cents FROM {allocations}
                ) t
                JOIN {Invoice._meta.db_table} i ON i.id = t.invoice_id
                WHERE i.due_date < %(day)s
                GROUP BY t.debtor_id, t.invoice_id
                HAVING sum(t.amount) <> 0
            ) x
            LEFT JOIN (
                SELECT debtor_id, sum(amount) AS credit FROM (
                    SELECT debtor_id, -amount_cents AS amount FROM {entries}
                     WHERE component = '{Component.PAYMENT.value}'
                    UNION ALL
                    SELECT debtor_id, -amount_cents FROM {allocations}
                ) p GROUP BY debtor_id
            ) c ON c.debtor_id = x.debtor_id
            GROUP BY x.debtor_id
        ) o
        WHERE o.claim > 0 AND o.anchor_due IS NOT NULL
    """


def first_steps(strategy) -> list[tuple]:
    """(path, variant, step kind, channel, template, label) of every path's first step."""
    rows = []
    variants = [("champion", strategy.paths)] + [(c.name, c.paths) for c in strategy.challengers]
    for variant, paths in variants:
        for path in strategy.paths:
            steps = paths.get(path) or strategy.paths[path]
            step = steps[0]
            channel = getattr(step, "channel", "") or ("phone" if step.step == "call_task" else "")
            rows.append(
                (
                    path,
                    variant,
                    step.step,
                    channel,
                    getattr(step, "template", "") or "",
                    step.label or step.step,
                    step.day,
                )
            )
    return rows


def decisions_sql(strategy, label: str) -> tuple[str, list]:
    from vaarwater.strategy.models import Case, Decision

    steps = first_steps(strategy)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(steps))
    params = [v for row in steps for v in row]
    sql = f"""
        INSERT INTO {Decision._meta.db_table} (
            case_id, creditor_id, debtor_id, run_date, strategy_version_id, variant, segment,
            path, step_index, step_kind, channel, template, outcome, reason, data, created_at)
        SELECT c.id, c.creditor_id, c.debtor_id, %s, c.strategy_version_id, c.variant,
               c.segment, c.path, 0, s.kind, s.channel, s.template, 'done',
               'strategie ' || %s
                 || CASE WHEN c.variant <> 'champion' THEN ', variant ' || c.variant ELSE '' END
                 || ', segment ''' || c.segment || ''', stap 1: ' || s.label || ', '
                 || s.day || ' dagen na vervaldatum; ' || s.channel || ' '''
                 || s.template || ''' klaargezet',
               jsonb_build_object(
                   'step_kind', s.kind, 'outcome', 'done',
                   'strategy_version', c.strategy_version_id, 'variant', c.variant,
                   'segment', c.segment, 'path', c.path, 'step', 0, 'channel', s.channel),
               now()
        FROM {Case._meta.db_table} c
        JOIN (VALUES {values}) s(path, variant, kind, channel, template, label, day)
          ON s.path = c.path AND s.variant = c.variant
        WHERE c.opened_on = %s
        LIMIT %s
    """
    return sql, params


def other_rows_sql() -> list[tuple[str, str]]:
    """(label, SQL) for the transitions, events, messages and call tasks of the new cases."""
    from vaarwater.contact.models import CallTask, Message
    from vaarwater.core.models import Event
    from vaarwater.strategy.models import Case, CaseTransition, Decision

    case, decision = Case._meta.db_table, Decision._meta.db_table
    return [
        (
            "transitions",
            f"""INSERT INTO {CaseTransition._meta.db_table} (case_id, from_status, to_status,
                    code, reason, on_date, actor_label, created_at)
                SELECT c.id, '', 'open', 'opened', 'geopend: ' || c.segment || ', pad '
                       || c.path, c.opened_on, 'dagelijkse run', now()
                FROM {case} c WHERE c.opened_on = %(day)s LIMIT %(transitions)s""",
        ),
        (
            "events",
            f"""INSERT INTO {Event._meta.db_table} (creditor_id, debtor_id, verb, subject_type,
                    subject_id, actor_kind, actor_label, reason, data, occurred_on, created_at)
                SELECT * FROM (
                    SELECT c.creditor_id, c.debtor_id, 'case.opened', 'strategy.case', c.id,
                           'system', 'dagelijkse run', 'geopend: pad ' || c.path,
                           jsonb_build_object('case', c.id, 'from', '', 'to', 'open',
                                              'segment', c.segment, 'path', c.path),
                           c.opened_on, now()
                    FROM {case} c WHERE c.opened_on = %(day)s
                    UNION ALL
                    SELECT d.creditor_id, d.debtor_id, 'decision.made', '', NULL, 'system',
                           'dagelijkse run', d.reason, d.data || jsonb_build_object(
                               'case', d.case_id), d.run_date, now()
                    FROM {decision} d WHERE d.run_date = %(day)s
                ) e LIMIT %(events)s""",
        ),
        (
            "messages",
            f"""INSERT INTO {Message._meta.db_table} (creditor_id, debtor_id, case_id, channel,
                    template, language, purpose, status, not_before, idempotency_key, context,
                    created_at, updated_at)
                SELECT d.creditor_id, d.debtor_id, d.case_id, d.channel, d.template, 'nl',
                       'reminder', 'queued', d.run_date + time '10:00',
                       'case-' || d.case_id || '-' || d.run_date || '-' || d.step_index,
                       jsonb_build_object('case', d.case_id, 'oldest_due', c.anchor_due),
                       now(), now()
                FROM {decision} d JOIN {case} c ON c.id = d.case_id
                WHERE d.run_date = %(day)s AND d.step_kind <> 'call_task'
                LIMIT %(messages)s""",
        ),
        (
            "call tasks",
            f"""INSERT INTO {CallTask._meta.db_table} (creditor_id, debtor_id, case_id,
                    window_start, window_end, priority, reason, status, idempotency_key,
                    created_at)
                SELECT d.creditor_id, d.debtor_id, d.case_id, d.run_date + time '09:00',
                       d.run_date + time '20:00', 50, d.reason, 'open',
                       'case-' || d.case_id || '-' || d.run_date || '-' || d.step_index, now()
                FROM {decision} d
                WHERE d.run_date = %(day)s AND d.step_kind = 'call_task'
                LIMIT %(call_tasks)s""",
        ),
    ]


def floor_run(
    url: str,
    *,
    run_date: date,
    creditor_id: int,
    version_id: int,
    decisions: int | None,
    cases: int | None,
    engine_written: dict | None,
    count_eligible: bool = True,
    log,
) -> dict:
    import psycopg

    from vaarwater.strategy.documents import version_strategy
    from vaarwater.strategy.models import StrategyVersion

    version = StrategyVersion.objects.get(pk=version_id)
    strategy = version_strategy(version)
    grace = strategy.settings.grace_days
    params = {
        "day": run_date,
        "late_before": run_date - timedelta(days=grace),
        "version": version_id,
        "creditor": creditor_id,
        "cases": cases,  # None: no limit
    }
    out: dict = {"lines": []}

    def timed(conn, name: str, sql: str, args) -> int:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
        out["lines"].append({"name": name, "rows": rows, "seconds": round(seconds, 2)})
        log(f"  floor: {name}: {rows:,} rows in {seconds:,.2f} s")
        return rows

    from django.db import connection

    connection.close()  # the floor uses its own connection
    with psycopg.connect(url) as conn:
        cases = timed(conn, "cases", cases_sql(strategy), params)
        sql, values = decisions_sql(strategy, version.label)
        limit = cases if decisions is None else decisions
        timed(conn, "decisions", sql, [run_date, version.label, *values, run_date, limit])
        written = engine_written or {}
        limits = {
            "day": run_date,
            "transitions": written.get("transitions", cases),
            "events": written.get("events", 2 * cases),
            "messages": written.get("messages", cases),
            "call_tasks": written.get("call tasks", cases),
        }
        for name, sql in other_rows_sql():
            timed(conn, name, sql, limits)
        if count_eligible:
            with conn.cursor() as cur:
                cur.execute(eligible_sql(strategy), params)
                out["eligible_cases"] = cur.fetchone()[0]
            conn.rollback()
            log(f"  (the ledger calls for {out['eligible_cases']:,} cases on {run_date})")
    lines = {line["name"]: line for line in out["lines"]}
    out["cases_seconds"] = lines["cases"]["seconds"]
    out["decisions_seconds"] = lines["decisions"]["seconds"]
    out["cases_plus_decisions_seconds"] = round(
        lines["cases"]["seconds"] + lines["decisions"]["seconds"], 2
    )
    out["all_seconds"] = round(sum(line["seconds"] for line in out["lines"]), 2)
    out["all_rows"] = sum(line["rows"] for line in out["lines"])
    return out
