"""The command line as users and the scorer call it (real subprocesses)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

AGRIBOT = [sys.executable, "-m", "bot.cli"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None, env_db: str | None = None):
    import os

    env = dict(os.environ)
    if env_db:
        env["AGRIBOT_DATABASE_URL"] = env_db
    return subprocess.run(
        [*AGRIBOT, *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
        cwd=cwd or ROOT, env=env, timeout=120,
    )


def test_ask_json_contract() -> None:
    out = run("ask", "bếp biogas nhà tôi lửa yếu quá", "--json")
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["question"] == "bếp biogas nhà tôi lửa yếu quá"
    assert row["answer"] == "biogas/it-khi" and row["offered"] == [] and row["intent"] is None
    assert len(row["candidates"]) >= 3 and {"id", "score"} <= set(row["candidates"][0])


def test_ask_batch_gives_one_line_per_question_in_order(tmp_path: Path) -> None:
    questions = ["làm đệm lót cho lợn thịt thế nào", "", "xem bói tuổi tý", "cá nổi đầu lúc sáng", "cho tôi vay tiền"]
    batch = tmp_path / "q.txt"
    batch.write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = run("ask", "--batch", str(batch), "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert rows[0]["answer"] == "dem-lot/lam-dem-lon"
    assert rows[1]["answer"] is None and rows[2]["answer"] is None
    assert rows[3]["answer"] == "thuy-san/ca-noi-dau"
    assert rows[4]["answer"] is None and rows[4]["offered"] == [] and rows[4]["intent"] == "offtopic"


def test_content_check_passes_on_the_shipped_content() -> None:
    out = run("content", "check")
    assert out.returncode == 0, out.stdout
    assert "51 cards" in out.stdout


def _broken_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


def test_content_check_reports_each_problem_with_file_and_field(tmp_path: Path) -> None:
    content = _broken_copy(tmp_path)
    card = content / "cards/biogas/it-khi.md"
    broken = card.read_text(encoding="utf-8").replace("related: [biogas/vang-tac-ong", "related: [biogas/khong-co")
    card.write_text(broken, encoding="utf-8")
    (content / "cards/biogas/mua-dong.md").write_text("---\nid: [unclosed\n---\nbody\n", encoding="utf-8")
    nosrc = content / "cards/rom-ra/trong-nam-rom.md"
    text = nosrc.read_text(encoding="utf-8")
    nosrc.write_text(re.sub(r"^sources:", "sourcez:", text, flags=re.MULTILINE), encoding="utf-8")
    dup = content / "cards/chung/ban-sao.md"
    dup.write_text((content / "cards/chung/mo-hinh-vac.md").read_text(encoding="utf-8"), encoding="utf-8")
    (content / "cards/thuy-san/bun-day-ao.md").unlink()
    safety = content / "cards/biogas/ro-ri-chay-no.md"
    safety.write_text(safety.read_text(encoding="utf-8").replace("## Lưu ý an toàn", "## Chú ý"), encoding="utf-8")

    out = run("--content-dir", str(content), "content", "check")
    assert out.returncode == 1
    report = out.stdout
    assert "cards/biogas/it-khi.md: related: 'biogas/khong-co' does not resolve" in report
    assert "cards/biogas/mua-dong.md: front matter: bad YAML" in report
    assert "cards/rom-ra/trong-nam-rom.md: sources:" in report
    assert "cards/chung/ban-sao.md: id:" in report
    assert "catalogue id 'thuy-san/bun-day-ao' has no card" in report
    assert "cards/biogas/ro-ri-chay-no.md: body: missing section '## Lưu ý an toàn'" in report


def test_serve_refuses_a_weak_production_password_in_one_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "AGRIBOT_ENVIRONMENT": "production", "AGRIBOT_ADMIN_PASSWORD": "password1234",
           "AGRIBOT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    out = subprocess.run([*AGRIBOT, "serve", "--port", "9"], capture_output=True, text=True, encoding="utf-8",
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr and "pydantic" not in out.stderr
    assert lines[0].startswith("agribot: refusing to start in production: AGRIBOT_ADMIN_PASSWORD is too weak")


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    out = run("db", "upgrade", env_db=f"sqlite:///{db}")
    assert out.returncode == 0, out.stderr
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert f"revision {head}" in out.stdout
    assert db.exists()


def test_chat_reads_scripted_lines_and_buttons_by_number(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'chat.db'}"
    out = run("chat", "--user", "ba-nam", stdin="/start\n1\nlàm đệm lót cho lợn thịt thế nào\n", env_db=db)
    assert out.returncode == 0, out.stderr
    assert "Xin chào" in out.stdout
    assert "Khí sinh học (biogas)" in out.stdout  # button [1] opened the biogas topic
    assert "Bác chọn nội dung muốn xem" in out.stdout
    assert "LÀM ĐỆM CHO LỢN" in out.stdout


def test_invite_create_prints_a_code_and_the_deep_link(tmp_path: Path) -> None:
    import os

    db = f"sqlite:///{tmp_path / 'inv.db'}"
    os.environ["AGRIBOT_TELEGRAM_BOT_USERNAME"] = "agribot_ls_bot"
    try:
        out = run("invite", "create", "--role", "cooperative", "--commune", "6385", "--unit", "HTX Xanh", env_db=db)
    finally:
        del os.environ["AGRIBOT_TELEGRAM_BOT_USERNAME"]
    assert out.returncode == 0, out.stderr
    code = next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("code:"))
    assert len(code) == 9 and code[4] == "-"
    assert f"https://t.me/agribot_ls_bot?start={code.replace('-', '')}" in out.stdout
    bad = run("invite", "create", "--role", "farm", "--commune", "6385", env_db=db)
    assert bad.returncode == 2 and "needs --unit" in bad.stderr


def test_baseline_import_reports_rows_and_writes_nothing_on_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'base.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("commune_code,year,livestock_households\n6385,2026,abc\n1,2026,5\n", encoding="utf-8")
    out = run("baseline", "import", str(bad), env_db=db)
    assert out.returncode == 1
    assert "dòng 2, cột livestock_households: không phải là số «abc»" in out.stderr
    assert "dòng 3, cột commune_code" in out.stderr
    good = tmp_path / "good.csv"
    good.write_text("commune_code,year,livestock_households\n6385,2026,400\n", encoding="utf-8")
    out = run("baseline", "import", str(good), env_db=db)
    assert out.returncode == 0 and "1 xã/phường" in out.stdout


def test_handover_list_and_feedback_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ho.db'}"
    script = "/start\n1\n"  # make the database; then questions the bot cannot answer
    run("chat", "--user", "farmer", stdin=script, env_db=db)
    chat = run("chat", "--user", "farmer",
               stdin="máy tính bị virus phải làm sao\nxem bói tuổi tý\nxem bói tuổi tý ạ\n", env_db=db)
    assert chat.returncode == 0
    report = run("feedback", "report", env_db=db)
    assert report.returncode == 0
    lines = [line for line in report.stdout.splitlines() if line[:4].strip().isdigit()]
    assert lines[0].split()[0] == "2" and "xem bói" in lines[0]  # two wordings, one group
    empty = run("handover", "list", env_db=db)
    assert empty.returncode == 0 and "no hand-over requests" in empty.stdout
