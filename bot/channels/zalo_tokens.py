"""Zalo's OAuth token pair: stored in the database, refreshed once across processes.

The refresh token is single-use. One refresher at a time across processes: a refresh takes a
lease in the database (``refreshing_since``) before calling Zalo, and stores the new pair in one
transaction as soon as it arrives. A process killed during the call leaves the lease; once it
runs out, the next refresher tries the stored refresh token again: if Zalo never used it, all
goes on; if Zalo did (its answer died with the process), Zalo refuses it, and the bot marks
itself "needs authorising" — messages are held, not dropped, until an admin stores a new pair
(``agribot zalo token``, ``store_pair``), then they go out.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.sending import delivery
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import OAuthToken

log = logging.getLogger(__name__)

PROVIDER = "zalo"  # the row in oauth_tokens, and the channel whose messages are held


class TokenUnavailable(Exception):
    """No usable access token now: Zalo needs authorising again, or a refresh is unfinished."""


class ZaloTokens:
    """The stored pair as one sender sees it; each sender has its own (and its own HTTP client)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, http: httpx.AsyncClient) -> None:
        self.sessions = sessions
        self.settings = settings
        self.http = http
        self._refresh_lock = asyncio.Lock()

    @property
    def refresh_lease(self) -> timedelta:
        return timedelta(seconds=self.settings.zalo.http_timeout + 5)

    def _row(self) -> OAuthToken:
        """The stored pair; the first time, the pair from the settings (stored once, race-safe)."""
        for _ in range(2):
            try:
                with unit_of_work(self.sessions) as session:
                    row = session.get(OAuthToken, PROVIDER)
                    if row is None:
                        settings = self.settings
                        access = settings.zalo.access_token.get_secret_value() if settings.zalo.access_token else ""
                        refresh = settings.zalo.refresh_token.get_secret_value() if settings.zalo.refresh_token \
                            else ""
                        row = OAuthToken(provider=PROVIDER, access_token=access, refresh_token=refresh, version=1,
                                         needs_reauth=False)
                        session.add(row)
                        session.flush()
                    session.expunge(row)
                    return row
            except IntegrityError:  # another sender stored the first pair at the same moment
                continue
        raise RuntimeError("could not read the Zalo token pair")

    def needs_reauth(self) -> bool:
        """For /healthz: read only (the first pair is stored by the first send)."""
        with self.sessions() as session:
            row = session.get(OAuthToken, PROVIDER)
            return bool(row is not None and row.needs_reauth)

    async def usable(self) -> str:
        """The access token to send with; raises ``TokenUnavailable`` while Zalo needs authorising."""
        row = await asyncio.to_thread(self._row)
        if row.needs_reauth:
            raise TokenUnavailable("Zalo refused the refresh token: authorise the app again (agribot zalo token)")
        return row.access_token

    def _claim_refresh(self, version: int) -> bool:
        """Take the refresh lease (compare-and-set): False if another refresher holds it."""
        now = utcnow()
        with unit_of_work(self.sessions) as session:
            result = session.execute(
                update(OAuthToken).where(
                    OAuthToken.provider == PROVIDER, OAuthToken.version == version,
                    OAuthToken.needs_reauth.is_(False),
                    OAuthToken.refreshing_since.is_(None) | (OAuthToken.refreshing_since < now - self.refresh_lease))
                .values(refreshing_since=now))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _end_refresh(self, version: int, *, pair: tuple[str, str] | None = None, refused: bool = False) -> None:
        """Store the new pair (compare-and-set on the version), or mark the refusal; drop the lease."""
        values: dict[str, Any] = {"refreshing_since": None}
        if pair is not None:
            values.update(access_token=pair[0], refresh_token=pair[1], version=version + 1, updated_at=utcnow())
        if refused:
            values.update(needs_reauth=True, updated_at=utcnow())
        with unit_of_work(self.sessions) as session:
            session.execute(update(OAuthToken).where(OAuthToken.provider == PROVIDER, OAuthToken.version == version)
                            .values(**values))

    async def refresh(self, expired: str) -> None:
        """Refresh once: other senders, here or in other processes, wait and reuse the new token.

        Raises ``TokenUnavailable`` when no new token can be had now (the message is then held).
        """
        loop = asyncio.get_running_loop()
        async with self._refresh_lock:
            deadline = loop.time() + self.refresh_lease.total_seconds() + 5
            while True:
                row = await asyncio.to_thread(self._row)
                if row.needs_reauth:
                    raise TokenUnavailable("Zalo refused the refresh token: authorise the app again")
                if row.access_token != expired:
                    return  # someone else refreshed meanwhile
                if await asyncio.to_thread(self._claim_refresh, row.version):
                    break
                if loop.time() > deadline:
                    raise TokenUnavailable("another process's token refresh has not finished")
                await asyncio.sleep(0.2)
            secret = self.settings.zalo.app_secret.get_secret_value() if self.settings.zalo.app_secret else ""
            try:
                response = await self.http.post(
                    self.settings.zalo.oauth_url, headers={"secret_key": secret},
                    data={"refresh_token": row.refresh_token, "app_id": self.settings.zalo.app_id or "",
                          "grant_type": "refresh_token"})
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                # no answer: Zalo may or may not have used the token; the next try tells
                await asyncio.to_thread(self._end_refresh, row.version)
                log.error("zalo token refresh failed: %s", type(exc).__name__)
                raise TokenUnavailable("no answer from Zalo's token endpoint") from exc
            if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
                await asyncio.to_thread(self._end_refresh, row.version, refused=True)
                log.error("zalo refused the refresh token (%s): the app must be authorised again; messages "
                          "are held until `agribot zalo token` stores a new pair",
                          data.get("error") if isinstance(data, dict) else "no JSON object")
                raise TokenUnavailable("Zalo refused the refresh token")
            await asyncio.to_thread(self._end_refresh, row.version,
                                    pair=(str(data["access_token"]), str(data["refresh_token"])))
            log.info("zalo access token refreshed")


# -- `agribot zalo token` and `agribot zalo status` ---------------------------------------------
def store_pair(session: Session, *, access: str, refresh: str, now: datetime) -> int:
    """An admin's new token pair (after authorising the app again): held messages go out now.

    Returns how many held messages were released.
    """
    row = session.get(OAuthToken, PROVIDER)
    if row is None:
        session.add(OAuthToken(provider=PROVIDER, access_token=access, refresh_token=refresh, version=1,
                               needs_reauth=False, updated_at=now))
    else:
        row.access_token, row.refresh_token, row.version = access, refresh, row.version + 1
        row.needs_reauth, row.refreshing_since, row.updated_at = False, None, now
    return delivery.release_held(session, channel=PROVIDER, now=now)


def stored(session: Session) -> OAuthToken | None:
    """The stored pair (None before the first send stored the one from the settings)."""
    return session.get(OAuthToken, PROVIDER)
