"""Content feedback («Chưa đúng») grouped by question, with the weekly shares; attaching posts
to the questions page's form."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.dashboard.deps import AdminPageDep, RuntimeDep
from bot.dashboard.pages import render
from bot.dashboard.questions import card_choices
from bot.knowledge.normalize import fold
from bot.services import feedback, learned
from bot.storage.db import utcnow

router = APIRouter()


@router.get("/feedback")
def feedback_page(request: Request, account: AdminPageDep, runtime: RuntimeDep,
                  attached: str | None = None) -> HTMLResponse:
    with runtime.sessions() as session:
        groups = feedback.groups(session)
        done = learned.attached(session, [g.text for g in groups])
        weeks = learned.weekly_shares(session, now=utcnow())
    return render(request, "feedback.html", account, groups=groups, cards=card_choices(runtime), done=done,
                  fold=fold, weeks=weeks, notice=attached)
