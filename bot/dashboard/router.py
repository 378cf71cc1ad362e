"""The dashboard's pages under /admin, one router per page module."""

from __future__ import annotations

from fastapi import APIRouter

from bot.dashboard import (
    accounts,
    baseline,
    broadcasts,
    communes,
    completeness,
    feedback,
    handovers,
    indicators,
    invites,
    login,
    progress,
    questions,
    reports,
    tokens,
    units,
)

PAGES = (login, indicators, progress, completeness, reports, questions, invites, baseline, handovers, feedback,
         broadcasts, units, tokens, accounts, communes)


def dashboard_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for page in PAGES:
        router.include_router(page.router, prefix="/admin")
    return router
