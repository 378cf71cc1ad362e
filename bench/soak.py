"""Soak: mixed traffic against a real `agribot serve`, killed with SIGKILL every 60-120 s.

    SOAK_SECONDS=600 .venv/bin/python -m bench.soak        (or `make soak`; SOAK_SECONDS=120 for a short run)

Loopback only. A fake Telegram Bot API (tests/fakes/telegram_api.py) runs in this process;
`agribot serve` runs as a subprocess on a fresh PostgreSQL schema (AGRIBOT_BENCH_POSTGRES_URL or
the local server), or on a SQLite file when PostgreSQL cannot be reached. Traffic, all at once:

- Telegram webhook updates (questions), one new chat per update; an update that got no 200 is
  posted again later with the same update id, as Telegram does;
- web chat messages from a few browsers (httpx clients keeping their `agribot_chat` cookie);
- an extension officer (registered with an invite code, as in README "Reporting by chat")
  filing training logs through the web chat, each with a unique number of participants; a
  filing cut by a kill is abandoned and the next goes on with a newly invited officer of
  another commune.

At the end: every acknowledged update answered exactly once (sendMessage calls per chat at the
fake API), every report acknowledged «✅ Đã gửi» present once in the database and no interrupted
one twice. Prints a summary, writes bench/soak_results.json; exit code 1 when anything is lost
or doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import pg_schema  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.db import make_engine, make_session_factory, unit_of_work, utcnow  # noqa: E402
from bot.storage.models import InboxUpdate, OutgoingMessage  # noqa: E402
from reporting import areas, demo, people  # noqa: E402
from reporting.models import Report  # noqa: E402
from tests.fakes.server import free_port, serve, wait_for  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

SECRET = "soak-secret"
PROVINCE, HUU_LUNG = 20, 6385  # Lạng Sơn (the demo province), Xã Hữu Lũng
QUESTIONS = ["ủ rơm với urê", "cá nổi đầu"]  # each answered with one message
WEB_QUESTIONS = ["hầm biogas ít khí", "làm đệm lót cho heo", "ủ phân gà", "cá nổi đầu", "xin chào"]
FIRST_PARTICIPANTS = 10_000  # filing k has 10_000 + k participants: the demo's trainings have far fewer
OFFICERS = 60


class Service:
    """`agribot serve` as a subprocess: started, killed with SIGKILL, started again."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen | None = None
        self.up = threading.Event()
        self.kills = 0
        self.restart_seconds: list[float] = []

    def start(self) -> None:
        t = time.perf_counter()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT,
                                            env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._healthy, timeout=120, interval=0.2)
        self.restart_seconds.append(time.perf_counter() - t)
        self.up.set()

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"agribot serve exited with {self.process.returncode}; see {self.log}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.up.clear()
        self.process.send_signal(signal.SIGKILL)  # no shutdown, no flush
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Traffic:
    def __init__(self, base: str, tg: FakeTelegram, service: Service, stop: threading.Event, seed: int) -> None:
        self.base, self.tg, self.service, self.stop = base, tg, service, stop
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.acked: set[int] = set()  # chat ids whose update got a 200
        self.unacked: dict[int, dict[str, Any]] = {}  # chat id -> update to post again
        self.webhook_posts = Counter[str]()
        self.web = Counter[str]()
        self.reports_acked: set[int] = set()
        self.reports_interrupted: set[int] = set()
        self.officer_steps = 0
        self.last_replies: list[dict[str, Any]] = []
        self.errors: list[str] = []

    # -- Telegram webhook --------------------------------------------------------------------
    def _post_update(self, client: httpx.Client, update: dict[str, Any]) -> bool:
        chat = update["message"]["chat"]["id"]
        try:
            r = client.post(f"{self.base}/telegram/webhook", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            status = str(r.status_code)
        except httpx.HTTPError:
            status = "no answer"
        with self.lock:
            self.webhook_posts[status] += 1
            if status == "200":
                self.acked.add(chat)
                self.unacked.pop(chat, None)
                return True
            self.unacked[chat] = update
        return False

    def telegram(self, first_chat: int, per_second: float) -> None:
        chat = first_chat
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                self.service.up.wait(timeout=1)
                with self.lock:
                    retry = next(iter(self.unacked.values()), None) if self.service.up.is_set() else None
                if retry is not None and retry["message"]["chat"]["id"] % 2 == first_chat % 2:
                    self._post_update(client, retry)  # Telegram delivers an unacknowledged update again
                else:
                    self._post_update(client, self.tg.text_update(chat, self.rng.choice(QUESTIONS)))
                    chat += 2
                time.sleep(self.rng.expovariate(per_second))

    def resend_unacknowledged(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=10) as client:
            while self.unacked and time.monotonic() < deadline:
                for update in list(self.unacked.values()):
                    self._post_update(client, update)
                time.sleep(0.5)

    # -- web chat ----------------------------------------------------------------------------
    def web_chat(self, browsers: int, per_second: float) -> None:
        clients = [httpx.Client(timeout=30) for _ in range(browsers)]  # each keeps its cookie
        try:
            while not self.stop.is_set():
                client = self.rng.choice(clients)
                try:
                    r = client.post(f"{self.base}/api/chat", json={"text": self.rng.choice(WEB_QUESTIONS)})
                    ok = r.status_code == 200 and bool(r.json()["replies"])
                    self.web["answered" if ok else f"status {r.status_code}"] += 1
                except httpx.HTTPError:
                    self.web["no answer (service down)"] += 1
                    self.service.up.wait(timeout=5)
                time.sleep(self.rng.expovariate(per_second))
        finally:
            for c in clients:
                c.close()

    # -- reporting by chat -------------------------------------------------------------------
    def officer(self, codes: list[tuple[str, int]], pause: float) -> None:
        k = 0
        while not self.stop.is_set() and codes:
            self.service.up.wait()
            code, commune = codes.pop(0)
            with httpx.Client(timeout=30) as browser:  # a newly invited officer: a new browser and cookie

                def say(**body: str) -> list[dict[str, Any]]:
                    r = browser.post(f"{self.base}/api/chat", json=body)
                    r.raise_for_status()
                    self.officer_steps += 1
                    time.sleep(pause)
                    self.last_replies = r.json()["replies"]
                    return self.last_replies

                def press(replies: list[dict[str, Any]], part: str, *, label: bool = False) -> list[dict[str, Any]]:
                    data = next(b["data"] for reply in replies for row in reply.get("buttons", []) for b in row
                                if part in (b["text"] if label else b["data"]))
                    return say(button=data)

                try:
                    welcome = " | ".join(r["text"][:80] for r in say(text=code))
                except (httpx.HTTPError, StopIteration):
                    continue
                while not self.stop.is_set():
                    k += 1
                    participants = FIRST_PARTICIPANTS + k
                    opened = ""
                    try:
                        opened = " | ".join(r["text"][:60] for r in say(text="/taphuan"))
                        topics = press(say(text="hôm nay"), f":{commune}")
                        press(press(topics, ":biogas"), "rpt:done:")
                        say(text=str(participants))
                        for answer in ("3", "1", "0", "0"):
                            say(text=answer)
                        summary = say(text="0")
                        if not any("Xem lại" in r["text"] for r in summary):
                            raise RuntimeError(f"no summary: {summary[0]['text'][:80]!r}")
                        done = press(summary, "Gửi", label=True)
                    except (httpx.HTTPError, StopIteration, RuntimeError, KeyError) as exc:
                        self.reports_interrupted.add(participants)
                        if not isinstance(exc, httpx.TransportError):
                            said = " | ".join(r["text"][:60] for r in self.last_replies)
                            self.errors.append(f"officer, filing {k}: {type(exc).__name__} {exc} after «{said}»; "
                                               f"invite: «{welcome}»; /taphuan: «{opened}»"[:400])
                        break  # the next filing goes on with another officer
                    if any("✅ Đã gửi" in r["text"] for r in done):
                        self.reports_acked.add(participants)
                    else:
                        self.reports_interrupted.add(participants)
                        self.errors.append(f"officer, filing {k}: {done[0]['text'][:80]!r}")
                        break


def _database(stack: ExitStack, work: Path) -> tuple[str, str]:
    try:
        return stack.enter_context(pg_schema()), "PostgreSQL"
    except OperationalError:
        return f"sqlite:///{work / 'soak.db'}", "SQLite (PostgreSQL not reachable)"


def prepare(url: str) -> list[tuple[str, int]]:
    """Migrate, seed the demo province, and invite an extension officer to each of its communes
    (a commune's unfinished draft belongs to the commune: a second officer there would be
    offered the draft an interrupted filing left)."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as s:
        if demo.is_empty(s):
            demo.seed(s, now=utcnow())
    with unit_of_work(sessions) as s:
        communes = [HUU_LUNG, *(c.code for c in areas.communes_of(PROVINCE) if c.code != HUU_LUNG)][:OFFICERS]
        codes = [(people.create_invite(s, role=people.EXTENSION_OFFICER, commune_code=commune, now=utcnow(),
                                       created_by="soak").code, commune) for commune in communes]
    engine.dispose()
    return codes


def count(url: str, traffic: Traffic, tg: FakeTelegram) -> dict[str, Any]:
    per_chat = Counter(int(c.params["chat_id"]) for c in tg.sent(ok_only=True))
    acked = traffic.acked
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            filed = Counter(int(v["participants"]) for v in s.scalars(select(Report.values).where(
                Report.form == "training", Report.status == "filed")) if int(v.get("participants") or 0)
                >= FIRST_PARTICIPANTS)
            inbox_left = s.scalar(select(func.count()).select_from(InboxUpdate).where(InboxUpdate.state != "done"))
            replies_unsent = s.scalar(select(func.count()).select_from(OutgoingMessage).where(
                OutgoingMessage.state != "sent"))
    finally:
        engine.dispose()
    return {
        "webhook": {
            "posts": dict(traffic.webhook_posts), "acknowledged_updates": len(acked),
            "never_acknowledged": len(traffic.unacked),
            "answered_once": sum(1 for c in acked if per_chat.get(c) == 1),
            "lost": sorted(c for c in acked if c not in per_chat)[:20],
            "lost_count": sum(1 for c in acked if c not in per_chat),
            "doubled": {str(c): n for c, n in per_chat.items() if n > 1},
            "answered_not_acknowledged": sum(1 for c in per_chat if c not in acked),
        },
        "web_chat": dict(traffic.web),
        "reports": {
            "acknowledged": len(traffic.reports_acked), "interrupted_by_a_kill": len(traffic.reports_interrupted),
            "present_once": sum(1 for p in traffic.reports_acked if filed.get(p) == 1),
            "interrupted_but_filed": sum(1 for p in traffic.reports_interrupted if filed.get(p) == 1),
            "lost": sorted(p for p in traffic.reports_acked if p not in filed),
            "doubled": {str(p): n for p, n in filed.items() if n > 1},
            "unknown": sorted(p for p in filed if p not in traffic.reports_acked | traffic.reports_interrupted),
            "chat_messages": traffic.officer_steps,
        },
        "left_behind": {"inbox_not_done": inbox_left, "replies_not_sent": replies_unsent},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "17")))
    parser.add_argument("--webhooks-per-second", type=float, default=4.0)
    parser.add_argument("--web-per-second", type=float, default=1.5)
    parser.add_argument("-o", "--output", default=str(ROOT / "bench" / "soak_results.json"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="agribot-soak-"))
    with ExitStack() as stack:
        url, database = _database(stack, work)
        print(f"soak: {args.seconds:.0f} s on {database}; logs in {work}", flush=True)
        codes = prepare(url)
        tg = FakeTelegram()
        api = stack.enter_context(serve(tg.app()))
        port = free_port()
        env = {"AGRIBOT_DATABASE_URL": url, "AGRIBOT_PORT": str(port), "AGRIBOT_FILES_DIR": str(work),
               "AGRIBOT_LOG_LEVEL": "warning", "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": api,
               "TELEGRAM_WEBHOOK_URL": "https://soak.invalid/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
               "AGRIBOT_TELEGRAM_RATE_OVERALL": "200", "AGRIBOT_FLOOD_LIMIT_PER_MINUTE": "100000"}
        service = Service(env, port, work / "server.log")
        service.start()
        stop = threading.Event()
        traffic = Traffic(f"http://127.0.0.1:{port}", tg, service, stop, args.seed)
        threads = [threading.Thread(target=traffic.telegram, args=(1_000_000 + i, args.webhooks_per_second / 2),
                                    daemon=True) for i in range(2)]
        threads.append(threading.Thread(target=traffic.web_chat, args=(6, args.web_per_second), daemon=True))
        threads.append(threading.Thread(target=traffic.officer, args=(codes, 0.2), daemon=True))
        started = time.monotonic()
        for t in threads:
            t.start()
        next_kill = min(rng.uniform(60, 120), args.seconds * 0.7)
        while (elapsed := time.monotonic() - started) < args.seconds:
            if elapsed >= next_kill:
                service.kill()
                print(f"soak: kill -9 at {elapsed:.0f} s", flush=True)
                time.sleep(rng.uniform(0, 2))
                service.start()
                print(f"soak: serving again after {service.restart_seconds[-1]:.1f} s", flush=True)
                next_kill = elapsed + rng.uniform(60, 120)
            time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        traffic.resend_unacknowledged(timeout=60)
        try:
            wait_for(lambda: traffic.acked <= {int(c.params["chat_id"]) for c in tg.sent(ok_only=True)},
                     timeout=180, interval=0.5)
        except Exception:  # what is missing is counted below
            pass
        time.sleep(3.0)  # anything answered twice would show now
        service.stop()
        result = count(url, traffic, tg)
    w, r = result["webhook"], result["reports"]
    failed = bool(w["lost_count"] or w["doubled"] or w["never_acknowledged"] or r["lost"] or r["doubled"]
                  or r["unknown"] or r["present_once"] != r["acknowledged"]
                  or not w["acknowledged_updates"] or not r["acknowledged"])  # no traffic proves nothing
    out = {"date": date.today().isoformat(), "seconds": args.seconds, "database": database,
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
           "kills": service.kills, "restart_seconds": [round(s, 1) for s in service.restart_seconds[1:]],
           **result, "errors": traffic.errors[:20], "ok": not failed}
    Path(args.output).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(summary(out))
    return 1 if failed else 0


def summary(out: dict[str, Any]) -> str:
    w, r, left = out["webhook"], out["reports"], out["left_behind"]
    lines = [
        f"soak {out['seconds']:.0f} s on {out['database']}: {out['kills']} kill -9, "
        f"back in {', '.join(f'{s} s' for s in out['restart_seconds']) or '-'}",
        f"webhook: {w['acknowledged_updates']} updates acknowledged ({w['posts']}), answered once "
        f"{w['answered_once']}, lost {w['lost_count']}, doubled {len(w['doubled'])}, never acknowledged "
        f"{w['never_acknowledged']}",
        f"web chat: {out['web_chat']}",
        f"reports: {r['acknowledged']} filed and acknowledged, present once {r['present_once']}, lost "
        f"{len(r['lost'])}, doubled {len(r['doubled'])}; {r['interrupted_by_a_kill']} interrupted "
        f"({r['interrupted_but_filed']} of them filed); {r['chat_messages']} officer messages",
        f"left behind: {left['inbox_not_done']} inbox updates not done, {left['replies_not_sent']} replies not sent",
        *(f"error: {e}" for e in out["errors"]),
        "OK: nothing acknowledged was lost or doubled" if out["ok"] else "FAILED: something was lost or doubled",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
