"""Unanswered questions, and attaching a question to a card (or marking it out of scope); the
feedback page posts the same form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard.deps import AdminDep, AdminPageDep, RuntimeDep
from bot.dashboard.pages import render
from bot.knowledge.normalize import fold
from bot.runtime import Runtime
from bot.services import learned, questions
from bot.storage.db import unit_of_work
from reporting.clock import VIETNAM

router = APIRouter()


def card_choices(runtime: Runtime) -> list[tuple[str, str]]:
    library = runtime.services.library
    titles = {t.id: t.title for t in library.topics}
    return [(c.id, f"{titles.get(c.topic, c.topic)} — {c.title}")
            for t in library.topics for c in library.cards_in(t.id)]


@router.get("/questions")
def questions_page(request: Request, account: AdminPageDep, runtime: RuntimeDep,
                   attached: str | None = None) -> HTMLResponse:
    with runtime.sessions() as session:
        rows = questions.list_recent(session, limit=300)
        done = learned.attached(session, [r.text for r in rows])
    return render(request, "questions.html", account, rows=rows, tz=VIETNAM, cards=card_choices(runtime),
                  done=done, fold=fold, notice=attached)


@router.post("/questions/attach")
def attach_question(account: AdminDep, runtime: RuntimeDep,
                    text: Annotated[str, Form(max_length=2000)] = "",
                    card: Annotated[str, Form(max_length=120)] = "", action: Annotated[str, Form()] = "attach",
                    back: Annotated[str, Form()] = "questions") -> Response:
    with unit_of_work(runtime.sessions) as session:
        try:
            learned.attach(session, text=text, card_id=None if action == "out_of_scope" else card,
                           by=account.username, known_cards=runtime.services.library.cards)
        except learned.AttachError as exc:
            return Response(str(exc), status_code=422)
    with runtime.sessions() as session:  # the running index learns it at once
        runtime.services.index.refresh(session, force=True)
    page = "feedback" if back == "feedback" else "questions"
    return RedirectResponse(f"/admin/{page}?attached=1", status_code=303)
