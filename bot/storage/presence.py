"""Which processes are alive: so the rows a killed process held are taken over at once.

Every process has a random ``instance`` number and writes it as the ``owner`` of the rows it
leases (inbox updates, replies being sent). On PostgreSQL the process holds an advisory lock
keyed by that number on a connection of its own; PostgreSQL drops the lock the moment the
process dies (kill -9 included), so ``alive`` — the numbers whose lock is held — tells a dead
owner from a live one without waiting for a lease to run out. A database restart drops every
process's lock at once: for ``REGRACE_SECONDS`` after the database server started, and after a
process found its own lock gone and took it again, every owner counts as alive — the time the
others need to take theirs again —, so their rows are not taken over while their lock is merely
missing. SQLite lives on one machine: there the number is the process id, and a process is
alive while the operating system knows its id.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

# longer than the others need to notice and take their lock again (their workers look every 2 s)
REGRACE_SECONDS = 10.0
NAMESPACE = 0x61677270  # "agrp": the first key of the two-key advisory locks of live processes
# the numbers whose lock is held, and how long ago the database server started (seconds)
_ALIVE = text(
    "SELECT ARRAY(SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND classid = CAST(:ns AS oid) AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), "
    "EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())::float8")


class Presence:
    def __init__(self, engine: Engine, instance: int | None = None) -> None:
        self.engine = engine
        if instance is None:
            instance = secrets.randbelow(2**31 - 2) + 1 if self.shared else os.getpid()
        self.instance = instance
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self._held_before = False
        self._retaken_at: float | None = None  # when this process took its lock again

    @property
    def shared(self) -> bool:
        """Several processes may share the database (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    def announce(self) -> None:
        """Hold this process's lock (again, after the database was away). Idempotent."""
        if not self.shared:
            return
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT 1"))
                    self._connection.commit()
                    return
                except Exception:
                    self._drop()
                    log.warning("presence: the database dropped this process's lock; taking it again")
            connection = self.engine.connect()
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:ns, :me)"),
                                       {"ns": NAMESPACE, "me": self.instance}).scalar()
            connection.commit()
            if not taken:  # the session that held it lingers on the server: it still holds it for us
                connection.close()
                log.warning("presence: this process's lock is still held by its former connection; trying again")
                return
            if self._held_before:  # lost, so the others' locks most likely too (a restart)
                self._retaken_at = time.monotonic()
                log.warning("presence: lock taken again; no other process's rows are taken over for %.0f s",
                            REGRACE_SECONDS)
            self._connection, self._held_before = connection, True

    def alive(self, candidates: Iterable[int] = ()) -> set[int]:
        """The numbers of the processes alive now (this one included). On SQLite, those among
        ``candidates`` (the owners of leased rows) that run. On PostgreSQL, those holding their
        lock — but all ``candidates`` for ``REGRACE_SECONDS`` after the database started or this
        process took its own lock again, while the others may still be taking theirs again."""
        if not self.shared:
            return {self.instance} | {pid for pid in candidates if _running(pid)}
        self.announce()
        if self._retaken_at is not None and time.monotonic() - self._retaken_at < REGRACE_SECONDS:
            return {self.instance, *candidates}
        with self.engine.connect() as connection:
            holders, uptime = connection.execute(_ALIVE, {"ns": NAMESPACE}).one()
        if uptime < REGRACE_SECONDS:
            return {self.instance, *candidates}
        return {int(n) for n in holders} | {self.instance}

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()
            self._held_before, self._retaken_at = False, None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True
