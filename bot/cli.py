"""The ``agribot`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, SettingsRefused, load_settings
from reporting.vocabulary import ROLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.storage.models import HandoverRequest


@contextmanager
def _database(args: argparse.Namespace, *, write: bool = True) -> Iterator[Session]:
    """A session on the (upgraded) database of the same runtime ``agribot serve`` builds (the
    content is not loaded); with ``write``, committed once at the end."""
    from bot.runtime import create_runtime
    from bot.storage.db import unit_of_work

    runtime = create_runtime(_settings(args), load_content=False)
    try:
        if write:
            with unit_of_work(runtime.sessions) as session:
                yield session
        else:
            with runtime.sessions() as session:
                yield session
    finally:
        runtime.close()


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    if getattr(args, "content_dir", None):
        overrides["content_dir"] = Path(args.content_dir)
    return load_settings(**overrides)


# -- ask ------------------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace) -> int:
    from bot.runtime import build_services

    services = build_services(_settings(args))
    if args.batch:
        with open(args.batch, encoding="utf-8") as f:
            lines = [line.rstrip("\r\n") for line in f]
    elif args.question:
        lines = [" ".join(args.question)]
    else:
        print("Cần một câu hỏi hoặc --batch FILE.", file=sys.stderr)
        return 2
    out = sys.stdout
    for result in services.index.search_many(lines):
        line = result.question
        if args.json:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            continue
        card = services.library.cards.get(result.answer) if result.answer else None
        if card is not None:
            out.write(f"{line}\n  → {card.id}: {card.title}\n    {card.summary}\n")
        elif result.offered:
            out.write(f"{line}\n  → hỏi lại: «Có phải bác muốn hỏi…?» {', '.join(result.offered)}\n")
        elif result.intent:
            out.write(f"{line}\n  → không phải câu hỏi cho thẻ ({result.intent})\n")
        else:
            out.write(f"{line}\n  → chưa có câu trả lời (chuyển cán bộ khuyến nông)\n")
        for c in result.candidates[:3]:
            out.write(f"    {c.score:.3f}  {c.card_id}\n")
    out.flush()
    return 0


# -- chat -----------------------------------------------------------------------------------
def cmd_chat(args: argparse.Namespace) -> int:
    from bot.channels.console import ConsoleChannel
    from bot.runtime import create_runtime

    settings = _settings(args)
    runtime = create_runtime(settings)
    try:
        ConsoleChannel(runtime, settings).chat(args.user, sys.stdin)
    finally:
        runtime.close()
    return 0


# -- content, db, serve -----------------------------------------------------------------------
def cmd_content_check(args: argparse.Namespace) -> int:
    from bot.knowledge.library import ContentError, load_library

    settings = _settings(args)
    try:
        library = load_library(settings.content_dir)
    except ContentError as exc:
        for p in exc.problems:
            print(p)
        return 1
    from reporting import consistency

    reporting = [f"reporting/{line}" for line in consistency.problems()]
    for p in library.problems:
        print(p)
    for line in reporting:
        print(line)
    if library.problems or reporting:
        print(f"{len(library.problems) + len(reporting)} problem(s) in {settings.content_dir} and reporting/")
        return 1
    print(
        f"OK: {len(library.cards)} cards in {len(library.topics)} topics, "
        f"{len(library.catalogue)} catalogue ids, {len(library.synonyms)} synonym groups; "
        "forms, plans and indicators agree"
    )
    return 0


def cmd_content_eval(args: argparse.Namespace) -> int:
    from bot.knowledge import evaluation
    from bot.knowledge.library import load_checked
    from bot.knowledge.search import SearchIndex

    settings = _settings(args)
    library = load_checked(settings.content_dir)
    cards = list(library.cards.values())
    examples = evaluation.library_examples(library)
    index = SearchIndex(library, thresholds=evaluation.Thresholds(0.0, 0.0, 0.0))
    intercepted = lambda q: index.search(q).intent is not None  # noqa: E731
    cv = evaluation.cross_validate(
        evaluation.shipped_factory(library), cards, examples, k=args.folds, intercepted=intercepted
    )
    n_in = sum(label in library.cards for _, label in examples)
    print(f"== {args.folds}-fold cross-validation: {n_in} example questions of {len(cards)} cards, "
          f"{len(examples) - n_in} out of scope (each fold scored by an index built without it, "
          "with thresholds fitted on the other folds)")
    print(cv.metrics.report())
    print(f"gain per question:         {cv.metrics.gain:6.3f} (the value the thresholds maximise: README, «Q&A»)")
    t = cv.thresholds
    print(f"thresholds fitted on all folds: answer {t.answer:.3f}, margin {t.margin:.3f}, offer {t.offer:.3f}")
    if args.write:
        evaluation.write_thresholds(settings.content_dir, t, cv.metrics, args.folds)
        print(f"written to {settings.content_dir / evaluation.THRESHOLDS_FILE}")
    shipped = SearchIndex(library, thresholds=t, ranker=index.ranker)
    for path in args.held_out:
        if not Path(path).exists():
            print(f"== {path}: not found, skipped")
            continue
        questions = evaluation.load_questions(Path(path))
        metrics = evaluation.held_out(shipped, questions)
        print(f"== held out, never tuned on: {path}")
        print(metrics.report())
        for line in evaluation.intent_report(shipped, Path(path)):
            print(f"  {line}")
        if args.show_misses:
            for o in metrics.misses:
                print(f"  MISS {o.question!r}: expected {sorted(o.expected)}, answer {o.answer}, "
                      f"offered {o.offered}, intent {o.intent}, top3 {o.top3}")
        row = metrics.row()
        print(" ".join(f"{k}={v:.1f}" for k, v in row.items() if k != "rank1"))
    return 0


def cmd_content_questions(args: argparse.Namespace) -> int:
    import yaml

    from bot.services import learned

    with _database(args, write=False) as session:
        exported = learned.export(session)
    text = (
        "# Questions editors attached on the dashboard (agribot content questions --export).\n"
        "# Merge each list into the card's `questions:`; «out-of-scope» into content/out-of-scope.yaml.\n"
        + yaml.safe_dump(exported, allow_unicode=True, sort_keys=True, width=1000)
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{sum(len(v) for v in exported.values())} câu hỏi → {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage import migrate
    from bot.storage.db import make_engine

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    print(f"database at revision {migrate.current_revision(engine)}")
    engine.dispose()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app

    settings = _settings(args)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """More inbox workers in another process (PostgreSQL): stored updates are handled here and
    their replies sent from here; this process may also become the scheduler's leader."""
    import asyncio
    import signal

    from bot.app import wire

    settings = _settings(args)
    if not settings.database_url.startswith("postgresql"):
        print("agribot worker needs PostgreSQL; on SQLite `agribot serve` handles the inbox itself", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        wiring = wire(settings)
        wiring.inbox.concurrency = args.concurrency
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        wiring.runtime.leases.start(wiring.runtime.sessions)
        await wiring.channels.start_sending()
        wiring.inbox.start()
        if wiring.scheduler is not None:
            wiring.scheduler.start()
        logging.getLogger("bot.cli").info("agribot worker %d draining the inbox", wiring.runtime.instance)
        try:
            await stop.wait()
        finally:
            if wiring.scheduler is not None:
                await wiring.scheduler.stop()
            await wiring.inbox.stop()
            await wiring.channels.stop()
            await wiring.runtime.leases.stop()
            wiring.runtime.close()

    asyncio.run(run())
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def cmd_invite_create(args: argparse.Namespace) -> int:
    from bot.storage.db import utcnow
    from reporting import areas, people, unit_registry

    settings = _settings(args)
    try:
        commune_code = None
        if args.commune is not None:
            commune_code = areas.resolve_commune(args.commune, province_code=args.province).code
        with _database(args) as session:
            new = people.create_invite(
                session, role=args.role, commune_code=commune_code, province_code=args.province,
                unit_name=args.unit, created_by="cli", now=utcnow(), valid_days=args.days,
            )
            warnings = unit_registry.same_name_warnings(session, role=args.role, name=args.unit,
                                                        commune_code=commune_code)
    except ValueError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 2
    if commune_code is not None:
        print(f"xã: {areas.full_name(commune_code)}")
    for line in warnings:
        print(line, file=sys.stderr)
    code = people.format_code(new.code)
    print(f"code: {code}")
    print(f"role: {new.invite.role}  expires: {new.invite.expires_at:%Y-%m-%d %H:%M} UTC")
    username = settings.telegram.bot_username
    if username:
        print(f"telegram: https://t.me/{username.lstrip('@')}?start={new.code}")
    else:
        print(f"telegram: https://t.me/<bot username>?start={new.code}  (set AGRIBOT_TELEGRAM_BOT_USERNAME)")
    print(f"or type the code {code} to the bot on any channel")
    return 0


def cmd_unit(args: argparse.Namespace) -> int:
    """Units of reporting: list, rename, merge into another, retire (each change audited)."""
    from bot.storage.db import utcnow
    from reporting import unit_registry

    try:
        with _database(args, write=args.unit_command != "list") as session:
            if args.unit_command == "list":
                for row in unit_registry.listing(session, province_code=args.province):
                    state = ""
                    if row.unit.merged_into_id:
                        state = f"  [đã gộp vào {row.unit.merged_into_id}]"
                    elif row.unit.retired_at:
                        state = "  [ngừng báo cáo]"
                    print(f"{row.unit.id}\t{unit_registry.KIND_LABELS.get(row.unit.kind)}\t{row.unit.name}\t"
                          f"{row.where}\t{row.reports} báo cáo{state}")
                return 0
            if args.unit_command == "rename":
                unit = unit_registry.rename(session, unit_id=args.id, name=args.name, by="cli", now=utcnow())
                print(f"đã đổi tên: {unit_registry.describe(unit)}")
            elif args.unit_command == "merge":
                moved = unit_registry.merge(session, unit_id=args.id, into_id=args.into, by="cli", now=utcnow())
                print(f"đã gộp đơn vị {args.id} vào {args.into}: {moved} báo cáo chuyển sang")
            else:
                unit = unit_registry.retire(session, unit_id=args.id, by="cli", now=utcnow())
                print(f"đã cho ngừng báo cáo: {unit_registry.describe(unit)}")
    except unit_registry.UnitError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_baseline_import(args: argparse.Namespace) -> int:
    from bot.storage.db import utcnow
    from reporting.baseline import BaselineError, import_file

    try:
        with _database(args) as session:
            result = import_file(session, Path(args.file), now=utcnow())
    except BaselineError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} lỗi; chưa ghi dòng nào.", file=sys.stderr)
        return 1
    except FileNotFoundError:
        print(f"không thấy tệp {args.file}", file=sys.stderr)
        return 2
    print(f"đã nhập số liệu nền của {result.communes} xã/phường và {result.provinces} tỉnh")
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from bot.storage.db import utcnow
    from reporting import demo

    with _database(args) as session:
        if not demo.is_empty(session):
            print("database already has reporting data: demo not seeded")
            return 0 if args.if_empty else 1
        counts = demo.seed(session, now=utcnow())
    print(f"demo province Lạng Sơn: {counts['communes']} communes, {counts['baselines']} baselines, "
          f"{counts['reports']} reports, {counts['trainings']} trainings")
    return 0


def _indicator_inputs(args: argparse.Namespace) -> tuple[Any, Any] | None:
    """The plan and period of ``--plan``/``--period`` (and a commune of its area), or None after
    printing why not."""
    from reporting.indicators import area_communes
    from reporting.periods import parse
    from reporting.plans import load_plans

    plan = load_plans().get(args.plan)
    if plan is None:
        print(f"error: no plan {args.plan!r}; plans: {', '.join(sorted(load_plans()))}", file=sys.stderr)
        return None
    try:
        period = parse(args.period)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    if not 2000 <= period.year <= 2100:
        print(f"error: no reports for the year {period.year}", file=sys.stderr)
        return None
    if getattr(args, "commune", None) is not None and not area_communes(plan, args.commune):
        print(f"error: commune {args.commune} is not in the area of {plan.id}", file=sys.stderr)
        return None
    return plan, period


def cmd_indicators(args: argparse.Namespace) -> int:
    from reporting.completeness import completeness
    from reporting.exports import progress_by_indicator, to_csv, to_json, to_table, to_xlsx
    from reporting.indicators import compute
    from reporting.progress import track_plan, with_assessments

    inputs = _indicator_inputs(args)
    if inputs is None:
        return 2
    plan, period = inputs
    if args.format == "xlsx" and not args.output:
        print("error: --format xlsx needs -o FILE.xlsx", file=sys.stderr)
        return 2
    with _database(args, write=False) as session:
        report = compute(session, plan=plan, period=period, commune_code=args.commune)
        rates = completeness(session, plan=plan, period=period, commune_code=args.commune)
        tracked = track_plan(session, plan, period, commune_code=args.commune) if args.format == "json" else []
        progress = progress_by_indicator(session, plan, period) \
            if args.format == "xlsx" and args.commune is None else None  # the path is the province's
    data: bytes
    if args.format == "json":  # the same JSON as GET /api/indicators, each indicator with its assessment
        data = (json.dumps(with_assessments(to_json(report, rates), tracked), ensure_ascii=False, indent=2)
                + "\n").encode()
    elif args.format == "csv":
        data = to_csv(report).encode("utf-8-sig" if args.output else "utf-8")
    elif args.format == "xlsx":
        data = to_xlsx(report, rates, agency=_settings(args).agency_name, progress=progress)
    else:
        data = to_table(report, rates).encode()
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(data.decode())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The report document (.docx) a Sở sends to the provincial People's Committee."""
    from reporting.completeness import completeness
    from reporting.exports import progress_by_indicator
    from reporting.indicators import compute
    from reporting.report_document import to_docx

    inputs = _indicator_inputs(args)
    if inputs is None:
        return 2
    plan, period = inputs
    if not args.output.lower().endswith(".docx"):
        print("error: -o must name a .docx file", file=sys.stderr)
        return 2
    with _database(args, write=False) as session:
        report = compute(session, plan=plan, period=period)
        rates = completeness(session, plan=plan, period=period)
        progress = progress_by_indicator(session, plan, period)
    Path(args.output).write_bytes(to_docx(report, rates, agency=_settings(args).agency_name, progress=progress))
    print(f"wrote {args.output}")
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    """Remind every unit that has not reported for the plan and period, now (once a unit a day)."""
    from bot.runtime import create_runtime
    from bot.services import reminders
    from bot.storage.db import unit_of_work, utcnow
    from reporting.clock import local_date, spoken
    from reporting.periods import containing, parse
    from reporting.plans import load_plans

    plans = load_plans()
    plan = plans.get(args.plan)
    if plan is None:
        print(f"Không có kế hoạch «{args.plan}». Các kế hoạch: {', '.join(sorted(plans))}.", file=sys.stderr)
        return 2
    now = utcnow()
    this_year = containing(local_date(now), "Y", plan.cutoff_day).year
    try:
        period = parse(args.period)
    except ValueError:
        print(f"Không hiểu kỳ «{args.period}»: hãy ghi năm (2026) hoặc nửa năm (2026S1, 2026S2).", file=sys.stderr)
        return 2
    if period.kind not in ("Y", "S") or not plan.first_year <= period.year <= this_year:
        print(f"Kỳ «{args.period}» không có báo cáo để nhắc trong kế hoạch {plan.id}: hãy ghi một năm hay nửa năm "
              f"từ {plan.first_year} đến {this_year} (ví dụ {this_year} hoặc {this_year}S1).", file=sys.stderr)
        return 2
    if not reminders.due(plan, period):
        print(f"Kế hoạch {plan.id} không có hạn nộp báo cáo cho kỳ «{period.name}», nên không có gì để nhắc.",
              file=sys.stderr)
        return 2
    runtime = create_runtime(_settings(args))
    try:
        with unit_of_work(runtime.sessions) as session:
            summary = reminders.remind_all(session, plan=plan, period=period, by="cli", now=now,
                                           t=runtime.services.messages)
    finally:
        runtime.close()
    name = period.name[:1].lower() + period.name[1:]
    print(f"Nhắc báo cáo {name} — {plan.name}:")
    print(f"- Đã gửi nhắc: {len(summary.sent)} đơn vị")
    for sent in summary.sent:
        held = f" (giờ nghỉ đêm: tin đi {spoken(sent.goes_at, now)})" if sent.goes_at > sent.at else ""
        print(f"  · {sent.unit}: {len(sent.recipients)} người nhận{held}")
    print(f"- Đã được nhắc hôm nay rồi: {len(summary.already)} đơn vị")
    for unit, when in summary.already:
        print(f"  · {unit}: {spoken(when.at, now)} — {when.by}")
    print(f"- Chưa có cán bộ đăng ký: {len(summary.no_officer)} đơn vị")
    for unit in summary.no_officer:
        print(f"  · {unit}")
    return 0


def _handover_state(row: HandoverRequest) -> str:
    return "escalated" if row.state == "open" and row.escalated_at else row.state


def cmd_handover_list(args: argparse.Namespace) -> int:
    from bot.services import handovers
    from bot.storage.db import utcnow
    from reporting import areas

    now = utcnow()
    with _database(args, write=False) as session:
        rows = handovers.queue(session, province_code=args.province)
    rows = [r for r in rows if not args.state or _handover_state(r) == args.state]
    for r in rows:
        commune = areas.commune(r.commune_code) if r.commune_code else None
        hours = int((now - r.created_at).total_seconds() // 3600)
        place = commune.name if commune else "-"
        print(f"#{r.id}\t{_handover_state(r)}\t{hours} h\t{place}\t{r.channel}\t{r.question}")
    if not rows:
        print("no hand-over requests")
    return 0


def cmd_feedback_report(args: argparse.Namespace) -> int:
    from bot.services.feedback import groups

    with _database(args, write=False) as session:
        found = groups(session)
    for g in found[: args.top]:
        cards = ", ".join(sorted(g.cards)) or "-"
        print(f"{g.count:4d}  {g.text}  [{', '.join(sorted(g.kinds))}; thẻ gần nhất: {cards}]")
        for example in g.examples[1:]:
            print(f"        · {example}")
    if not found:
        print("no unanswered or 'chưa đúng' questions")
    return 0


def cmd_zalo_token(args: argparse.Namespace) -> int:
    """Store a new Zalo token pair (after authorising the app again); held messages go out."""
    import getpass

    from bot.channels.zalo_tokens import store_pair
    from bot.storage.db import utcnow

    settings = _settings(args)
    access = args.access_token or (settings.zalo.access_token.get_secret_value() if settings.zalo.access_token
                                   else None)
    refresh = args.refresh_token or (settings.zalo.refresh_token.get_secret_value() if settings.zalo.refresh_token
                                     else None)
    if not access or not refresh:
        if not sys.stdin.isatty():
            print("error: give the new pair with --access-token and --refresh-token, or set ZALO_ACCESS_TOKEN "
                  "and ZALO_REFRESH_TOKEN", file=sys.stderr)
            return 2
        access = access or getpass.getpass("Zalo access token: ").strip()
        refresh = refresh or getpass.getpass("Zalo refresh token: ").strip()
    if not access or not refresh:
        print("error: both tokens are needed", file=sys.stderr)
        return 2
    with _database(args) as session:
        released = store_pair(session, access=access, refresh=refresh, now=utcnow())
    print(f"zalo: new token pair stored; {released} held messages go out now")
    return 0


def cmd_zalo_status(args: argparse.Namespace) -> int:
    from bot.channels import zalo_tokens
    from bot.sending import delivery

    with _database(args, write=False) as session:
        row = zalo_tokens.stored(session)
        held = delivery.count_held(session, channel=zalo_tokens.PROVIDER)
    if row is None:
        print("zalo: no token pair stored yet (the first send stores the one from ZALO_ACCESS_TOKEN)")
    else:
        state = "NEEDS AUTHORISING AGAIN (agribot zalo token)" if row.needs_reauth else "ok"
        print(f"zalo: {state}; pair version {row.version}, stored {row.updated_at:%Y-%m-%d %H:%M} UTC")
    print(f"held messages: {held}")
    return 1 if row is not None and row.needs_reauth else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agribot", description="Trợ lý nông nghiệp tuần hoàn")
    parser.add_argument("--database-url", help="overrides AGRIBOT_DATABASE_URL")
    parser.add_argument("--content-dir", help="overrides AGRIBOT_CONTENT_DIR")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer a question (or a file of questions) from the cards")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--batch", help="file with one question per line")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--user", default="console-user")
    chat.set_defaults(func=cmd_chat)

    content = sub.add_parser("content", help="guidance content")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate every card and the catalogue")
    check.set_defaults(func=cmd_content_check)
    ev = content_sub.add_parser(
        "eval", help="cross-validate the Q&A on the example questions, then score held-out question files"
    )
    ev.add_argument("held_out", nargs="*", help="question files (dev-questions.yaml format), never tuned on")
    ev.add_argument("--folds", type=int, default=5)
    ev.add_argument("--write", action="store_true", help="store the fitted thresholds in the content")
    ev.add_argument("--show-misses", action="store_true")
    ev.set_defaults(func=cmd_content_eval)
    cq = content_sub.add_parser("questions", help="questions editors attached to cards on the dashboard")
    cq.add_argument("--export", action="store_true", required=True, help="write them out as YAML for the card files")
    cq.add_argument("-o", "--output", help="file to write (default: standard output)")
    cq.set_defaults(func=cmd_content_questions)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="create or upgrade the database")
    up.set_defaults(func=cmd_db_upgrade)

    invite = sub.add_parser("invite", help="invites that give a person a role")
    invite_sub = invite.add_subparsers(dest="invite_command", required=True)
    create = invite_sub.add_parser("create", help="print a single-use, expiring invite code")
    create.add_argument("--role", required=True,
                        choices=list(ROLES))
    create.add_argument("--commune", help="commune: its code (vietnam-provinces) or its name (accents optional)")
    create.add_argument("--province", type=int, help="province code, for provincial officials and admins")
    create.add_argument("--unit", help="the cooperative's or farm's name")
    create.add_argument("--days", type=_positive_int, default=14, help="days until the code expires (1 or more)")
    create.set_defaults(func=cmd_invite_create)

    unit = sub.add_parser("unit", help="units of reporting (communes, cooperatives, farms)")
    unit_sub = unit.add_subparsers(dest="unit_command", required=True)
    ul = unit_sub.add_parser("list", help="every unit with its commune, province and reports")
    ul.add_argument("--province", type=int)
    ur = unit_sub.add_parser("rename", help="rename a cooperative or farm")
    ur.add_argument("id", type=int)
    ur.add_argument("name")
    um = unit_sub.add_parser("merge", help="move a unit's reports and people to another and retire it")
    um.add_argument("id", type=int)
    um.add_argument("--into", type=int, required=True)
    ut = unit_sub.add_parser("retire", help="a unit that no longer reports (leaves completeness)")
    ut.add_argument("id", type=int)
    for p in (ul, ur, um, ut):
        p.set_defaults(func=cmd_unit)

    baseline = sub.add_parser("baseline", help="baseline figures per commune and year")
    baseline_sub = baseline.add_subparsers(dest="baseline_command", required=True)
    imp = baseline_sub.add_parser("import", help="import a CSV or XLSX file (all rows or none)")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_baseline_import)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    seed = demo_sub.add_parser("seed", help="fill the database with the demo province (Lạng Sơn)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing (exit 0) when data already exists")
    seed.set_defaults(func=cmd_demo_seed)

    ind = sub.add_parser("indicators", help="a plan's indicators for a period")
    ind.add_argument("--plan", required=True)
    ind.add_argument("--period", required=True, help="2026, 2026S1, 2026Q3 or 202611")
    ind.add_argument("--commune", type=int)
    ind.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
    ind.add_argument("-o", "--output")
    ind.set_defaults(func=cmd_indicators)

    rep = sub.add_parser("report", help="the report document (.docx) for the provincial People's Committee")
    rep.add_argument("--plan", required=True)
    rep.add_argument("--period", required=True, help="2026, 2026S1, 2026Q3 or 202611")
    rep.add_argument("-o", "--output", required=True, help="FILE.docx")
    rep.set_defaults(func=cmd_report)

    remind = sub.add_parser("remind", help="remind now every unit that has not reported (once a unit a day)")
    remind.add_argument("--plan", required=True)
    remind.add_argument("--period", required=True, help="a year (2026) or a half-year (2026S1, 2026S2)")
    remind.set_defaults(func=cmd_remind)

    handover = sub.add_parser("handover", help="questions handed over to extension officers")
    handover_sub = handover.add_subparsers(dest="handover_command", required=True)
    hl = handover_sub.add_parser("list", help="the queue: open, answered, escalated, age")
    hl.add_argument("--state", choices=["open", "answered", "closed", "escalated"])
    hl.add_argument("--province", type=int)
    hl.set_defaults(func=cmd_handover_list)

    feedback = sub.add_parser("feedback", help="what the bot could not answer well")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True)
    fr = feedback_sub.add_parser("report", help="unanswered and 'chưa đúng' questions grouped by wording")
    fr.add_argument("--top", type=int, default=50)
    fr.set_defaults(func=cmd_feedback_report)

    zalo = sub.add_parser("zalo", help="the Zalo Official Account's tokens")
    zalo_sub = zalo.add_subparsers(dest="zalo_command", required=True)
    zt = zalo_sub.add_parser("token", help="store a new token pair after authorising the app again")
    zt.add_argument("--access-token", help="default: ZALO_ACCESS_TOKEN, else asked for")
    zt.add_argument("--refresh-token", help="default: ZALO_REFRESH_TOKEN, else asked for")
    zt.set_defaults(func=cmd_zalo_token)
    zs = zalo_sub.add_parser("status", help="is the token pair usable; how many messages are held")
    zs.set_defaults(func=cmd_zalo_status)

    serve = sub.add_parser("serve", help="run the web app (chat API, webhooks, health)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="handle stored webhook and polling updates in another process "
                                           "(PostgreSQL); `serve` runs one in process")
    worker.add_argument("--concurrency", type=_positive_int, default=16, help="updates handled at once (default 16)")
    worker.set_defaults(func=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsRefused as exc:
        print(f"agribot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
