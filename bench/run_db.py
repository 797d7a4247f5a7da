"""The daily-run benchmark's databases: one prepared portfolio, and a copy per measurement.

The prepared database (``<base>_<size>``, e.g. ``vaarwater_bench_run_1000000``) holds the
migrated schema, the energy creditor and the imported synthetic portfolio, nothing else. A
marker in its ``COMMENT ON DATABASE`` records the portfolio (size, seed, as-of date) and how
long preparing it took; a database whose marker matches is reused as it is (only ``migrate``
runs again, for migrations added since).

Every contender is timed on its own ``CREATE DATABASE <copy> TEMPLATE <prepared>`` copy, so
each starts from exactly the same state and can commit the way it does in production: the
real run commits once per chunk, which a rolled-back outer transaction would have turned
into savepoints of one long transaction. ``STRATEGY FILE_COPY`` copies the files directly
(a few seconds per GB) instead of logging every block to the WAL.

The bench process talks to one database at a time through Django's ``default``
connection; ``use()`` closes it and points it at another database.

Only databases whose name starts with ``vaarwater_bench`` are ever dropped or created.
"""

import json
import os
from urllib.parse import urlsplit, urlunsplit

BENCH_DB_PREFIX = "vaarwater_bench"


class BenchDatabases:
    def __init__(self, url: str, size: int):
        parts = urlsplit(url)
        base = parts.path.lstrip("/")
        if not base.startswith(BENCH_DB_PREFIX):
            raise SystemExit(
                f"--pg-url names database {base!r}: the bench only drops and creates "
                f"databases whose name starts with {BENCH_DB_PREFIX!r}"
            )
        self._parts = parts
        self.prepared = f"{base}_{size}"

    def url(self, db: str) -> str:
        return urlunsplit(self._parts._replace(path=f"/{db}"))

    def copy_name(self, label: str) -> str:
        return f"{self.prepared}_{label}"

    # -- administration, on the ``postgres`` database ------------------------------------

    def _admin(self, *statements: str, params=None) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement, params)

    def _admin_value(self, sql: str, params=None):
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def server_version(self) -> str:
        return self._admin_value("SHOW server_version")

    def server_settings(self) -> dict:
        """The settings that matter most here, as the server has them."""
        import psycopg

        names = ("autovacuum", "jit", "shared_buffers", "work_mem", "synchronous_commit")
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}

    def exists(self, db: str) -> bool:
        return bool(self._admin_value("SELECT 1 FROM pg_database WHERE datname = %s", [db]))

    def marker(self) -> dict | None:
        """The prepared database's marker, or None when it is missing or unreadable."""
        text = self._admin_value(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [self.prepared],
        )
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    def set_marker(self, marker: dict) -> None:
        import psycopg.sql as sql

        self._admin(
            sql.SQL("COMMENT ON DATABASE {} IS {}")
            .format(sql.Identifier(self.prepared), sql.Literal(json.dumps(marker)))
            .as_string(None)
        )

    def create_prepared(self) -> None:
        self.drop(self.prepared)
        self._admin(f'CREATE DATABASE "{self.prepared}"')

    def copy(self, label: str) -> str:
        """A fresh copy of the prepared database; returns its name."""
        name = self.copy_name(label)
        self.drop(name)
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.prepared}" STRATEGY FILE_COPY')
        return name

    def drop(self, db: str) -> None:
        if not db.startswith(BENCH_DB_PREFIX):
            raise ValueError(f"refusing to drop {db!r}")
        self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def drop_copies(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s",
                    [self.prepared.replace("_", r"\_") + r"\_%"],
                )
            ]
        for name in names:
            self.drop(name)

    def size_bytes(self, db: str) -> int:
        return self._admin_value("SELECT pg_database_size(%s)", [db])

    def before_timing(self) -> None:
        """Start every measurement with clean buffers written out, as the import bench does."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        os.sync()


def use(db: str) -> None:
    """Point Django's default connection at ``db`` (closing the current connection)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = db
