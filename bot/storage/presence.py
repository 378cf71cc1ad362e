"""Which processes are alive: so the rows a killed process held are taken over at once.

Every process has a random ``instance`` number and writes it as the ``owner`` of the rows it
leases (inbox updates, replies being sent). On PostgreSQL the process holds an advisory lock
keyed by that number on a connection of its own; PostgreSQL drops the lock the moment the
process dies (kill -9 included), so ``alive`` — the numbers whose lock is held — tells a dead
owner from a live one without waiting for a lease to run out. SQLite lives on one machine: there
the number is the process id, and a process is alive while the operating system knows its id.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterable

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

NAMESPACE = 0x61677270  # "agrp": the first key of the two-key advisory locks of live processes
_ALIVE = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND classid = CAST(:ns AS oid) AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class Presence:
    def __init__(self, engine: Engine, instance: int | None = None) -> None:
        self.engine = engine
        if instance is None:
            instance = secrets.randbelow(2**31 - 2) + 1 if self.shared else os.getpid()
        self.instance = instance
        self._connection: Connection | None = None
        self._lock = threading.Lock()

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
            connection = self.engine.connect()
            connection.execute(text("SELECT pg_advisory_lock(:ns, :me)"), {"ns": NAMESPACE, "me": self.instance})
            connection.commit()
            self._connection = connection

    def alive(self, candidates: Iterable[int] = ()) -> set[int]:
        """The numbers of the processes alive now (this one included); on SQLite, among
        ``candidates`` (the owners of leased rows)."""
        if not self.shared:
            return {self.instance} | {pid for pid in candidates if _running(pid)}
        self.announce()
        with self.engine.connect() as connection:
            alive = {int(n) for n in connection.execute(_ALIVE, {"ns": NAMESPACE}).scalars()}
        return alive | {self.instance}

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


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True
