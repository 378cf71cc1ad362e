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
        # a process starting now, long after the database server started: a missing lock is a
        # dead process, at once (a killed process's rows are taken over without waiting) …
        newcomer = Presence(engines[2])
        assert second.instance not in newcomer.alive([second.instance])
        newcomer.close()
        # … but one starting just after the database server did waits for the others too
        # (a grace longer than the server has run: the server is as good as just started)
        monkeypatch.setattr(presence, "REGRACE_SECONDS", 10.0**12)
        newcomer = Presence(engines[2])
        assert second.instance in newcomer.alive([second.instance])
        newcomer.close()
        monkeypatch.setattr(presence, "REGRACE_SECONDS", 1.5)

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


def test_a_lock_still_held_by_a_lingering_former_connection_does_not_block_the_process(
        postgres_schema_url: str) -> None:
    """After a network cut the server may keep the old session, and its lock, for a while: taking
    the lock again must not wait for it (the workers' housekeeping would hang), and is retried."""
    engine = make_engine(postgres_schema_url)
    me = Presence(engine)
    lingering = engine.connect()
    try:
        lingering.execute(text("SELECT pg_advisory_lock(:ns, :me)"), {"ns": NAMESPACE, "me": me.instance})
        lingering.commit()
        started = time.monotonic()
        assert me.instance in me.alive()  # returns at once; the lingering session holds it for us
        assert time.monotonic() - started < 5
        lingering.invalidate()  # the server ends the old session (its connection really closed)
        me.announce()
        with engine.connect() as c:
            holder = c.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                "AND classid = CAST(:ns AS oid) AND objid::bigint = :me AND pid <> pg_backend_pid()"),
                {"ns": NAMESPACE, "me": me.instance}).scalar()
        assert holder == 1  # this process holds it itself now
    finally:
        me.close()
        lingering.close()
        engine.dispose()
