"""Which processes are alive (PostgreSQL advisory locks): a dead process's rows are taken over at
once, but a database restart — which drops every process's lock — does not make the living look
dead."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from bot.storage import presence
from bot.storage.db import make_engine
from bot.storage.presence import NAMESPACE, Presence


def _drop_locks(url: str, *instances: int) -> None:
    """What a database restart does to the processes' locks: their sessions end."""
    admin = create_engine(url)
    try:
        with admin.begin() as c:
            pids = c.execute(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
                "AND classid = CAST(:ns AS oid) AND objid::bigint = ANY(:ids)"),
                {"ns": NAMESPACE, "ids": list(instances)}).scalars().all()
            assert len(pids) == len(instances)
            for pid in pids:
                c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_after_the_database_dropped_every_lock_the_living_are_not_taken_for_dead(
        postgres_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presence, "REGRACE_SECONDS", 1.5)
    engines = [make_engine(postgres_schema_url) for _ in range(3)]
    first, second = Presence(engines[0]), Presence(engines[1])
    try:
        first.announce()
        second.announce()
        assert second.instance in first.alive([second.instance])

        _drop_locks(postgres_schema_url, first.instance, second.instance)  # a restart
        # the first process notices, takes its lock again and waits before judging the others
        assert second.instance in first.alive([second.instance])
        # a process starting now knows no restart: a missing lock is a dead process, at once
        newcomer = Presence(engines[2])
        assert second.instance not in newcomer.alive([second.instance])
        newcomer.close()

        second.announce()  # the second process takes its lock again within the grace
        time.sleep(1.6)
        assert second.instance in first.alive([second.instance])  # the lock itself says so again

        _drop_locks(postgres_schema_url, first.instance, second.instance)
        assert second.instance in first.alive([second.instance])  # grace again
        time.sleep(1.6)  # the second process never came back: dead, its rows taken over
        assert second.instance not in first.alive([second.instance])
        assert first.instance in first.alive()
    finally:
        first.close()
        second.close()
        for engine in engines:
            engine.dispose()
