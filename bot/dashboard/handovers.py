"""«Hỏi cán bộ»: the farmers' open questions of the account's province, oldest first, with the
overdue ones marked, and an answer form; the answer reaches the farmer through the delivery
queue. A question is answered once: a second answer is refused with who answered and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard import auth
from bot.dashboard.deps import AccountDep, CsrfAccountDep, RuntimeDep
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.services import handovers
from bot.storage.db import unit_of_work, utcnow
from reporting import areas, people
from reporting.clock import VIETNAM

router = APIRouter()

MAX_ANSWER = 3000


def _page(request: Request, runtime: Runtime, account: auth.Account, *, answered: int | None = None,
          error: str | None = None, typed: dict[int, str] | None = None, status_code: int = 200) -> HTMLResponse:
    now = utcnow()
    after = timedelta(hours=runtime.settings.handover_escalate_hours)
    with runtime.sessions() as session:
        waiting = handovers.open_questions(session, province_code=account.province_code)
        settled = handovers.recently_settled(session, province_code=account.province_code)
        who = {r.id: people.who(session, r.answered_by) for r in settled if r.answered_by}
    rows = [{"r": r, "place": handovers.place(r), "waited": handovers.waited(now - r.created_at),
             "overdue": handovers.is_overdue(r, now=now, after=after),
             "may_answer": handovers.may_answer_on_dashboard(role=account.role, province_code=account.province_code,
                                                             request=r)} for r in waiting]
    return render(request, "handovers.html", account, rows=rows, settled=settled, who=who, tz=VIETNAM,
                  areas=areas, answered=answered, error=error, typed=typed or {},
                  escalate_hours=runtime.settings.handover_escalate_hours, status_code=status_code)


@router.get("/handovers")
def handovers_page(request: Request, account: AccountDep, runtime: RuntimeDep,
                   answered: int | None = None) -> HTMLResponse:
    return _page(request, runtime, account, answered=answered)


@router.post("/handovers/{request_id}/answer")
def answer_question(request: Request, request_id: int, account: CsrfAccountDep, runtime: RuntimeDep,
                    text: Annotated[str, Form()] = "") -> Response:
    text = text.strip()
    if not text:
        return _page(request, runtime, account, error="Chưa có nội dung câu trả lời: bạn gõ câu trả lời rồi bấm «Gửi».",
                     status_code=422)
    if len(text) > MAX_ANSWER:
        return _page(request, runtime, account, typed={request_id: text}, status_code=422,
                     error=f"Câu trả lời dài quá {MAX_ANSWER} ký tự; bạn rút gọn giúp để bà con đọc trên điện thoại.")
    with unit_of_work(runtime.sessions) as session:
        question = handovers.get(session, request_id)
        if question is None or not handovers.may_answer_on_dashboard(
                role=account.role, province_code=account.province_code, request=question):
            refusal = "Không có câu hỏi này, hoặc câu hỏi không thuộc tỉnh của tài khoản."
            sent, status = False, 404
        else:
            sent = handovers.answer(session, request=question, by=f"dashboard:{account.username}", from_province=True,
                                    text=text, now=utcnow(), t=runtime.services.messages)
            status = 409
            if not sent:
                who = people.who(session, question.answered_by) if question.answered_by else "một cán bộ khác"
                at = question.answered_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if question.answered_at else ""
                done = "trả lời" if question.state == handovers.ANSWERED else "đánh dấu đã xử lý"
                refusal = (f"Câu hỏi số {question.id} đã được {done} ({who}, lúc {at}), nên câu trả lời của bạn "
                           "không được gửi. Nội dung bạn gõ vẫn còn ở dưới đây.")
    if sent:
        return RedirectResponse(f"/admin/handovers?answered={request_id}", status_code=303)
    return _page(request, runtime, account, error=refusal, typed={request_id: text} if status == 409 else None,
                 status_code=status)
