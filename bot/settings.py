"""Settings read once from the environment (and ``.env``) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"


def _platform(name: str) -> AliasChoices:
    """Platform settings keep the platform's own name (``TELEGRAM_BOT_TOKEN``) or the prefixed one."""
    return AliasChoices(name, f"AGRIBOT_{name}")


class TelegramSettings(BaseSettings):
    """``settings.telegram``: read from ``TELEGRAM_*`` / ``AGRIBOT_TELEGRAM_*`` (names in the README)."""

    model_config = SettingsConfigDict(env_prefix="AGRIBOT_TELEGRAM_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    bot_token: SecretStr | None = Field(default=None, validation_alias=_platform("TELEGRAM_BOT_TOKEN"))
    api_base_url: str | None = Field(default=None, validation_alias=_platform("TELEGRAM_API_BASE_URL"))
    bot_username: str | None = None  # for invite deep links t.me/<username>?start=CODE
    webhook_url: str | None = Field(default=None, validation_alias=_platform("TELEGRAM_WEBHOOK_URL"))
    webhook_secret: SecretStr | None = Field(default=None, validation_alias=_platform("TELEGRAM_WEBHOOK_SECRET"))
    # Telegram's limits on what a bot sends: about 30 messages/s overall, 1/s in one chat
    rate_overall: float = Field(default=29.0, gt=0)  # a little under 30: no 429s from jitter
    rate_per_chat: float = Field(default=1.0, gt=0)


class ZaloSettings(BaseSettings):
    """``settings.zalo``: read from ``ZALO_*`` / ``AGRIBOT_ZALO_*`` (names in the README)."""

    model_config = SettingsConfigDict(env_prefix="AGRIBOT_ZALO_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    app_id: str | None = Field(default=None, validation_alias=_platform("ZALO_APP_ID"))
    oa_secret_key: SecretStr | None = Field(default=None, validation_alias=_platform("ZALO_OA_SECRET_KEY"))
    access_token: SecretStr | None = Field(default=None, validation_alias=_platform("ZALO_ACCESS_TOKEN"))
    refresh_token: SecretStr | None = Field(default=None, validation_alias=_platform("ZALO_REFRESH_TOKEN"))
    app_secret: SecretStr | None = Field(default=None, validation_alias=_platform("ZALO_APP_SECRET"))
    api_base_url: str = Field(default="https://openapi.zalo.me", validation_alias=_platform("ZALO_API_BASE_URL"))
    oauth_url: str = Field(default="https://oauth.zaloapp.com/v4/oa/access_token",
                           validation_alias=_platform("ZALO_OAUTH_URL"))
    # timeout of one call to Zalo; a token refresh left unanswered this long (+5 s) by a process
    # that died is taken over by another (which tries the stored refresh token again)
    http_timeout: float = Field(default=15.0, gt=0)
    # events whose timestamp is further than this from now are replays and ignored
    replay_seconds: int = Field(default=300, gt=0)


_NESTED: dict[str, type[BaseSettings]] = {"telegram": TelegramSettings, "zalo": ZaloSettings}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AGRIBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./agribot.db"
    content_dir: Path = DEFAULT_CONTENT_DIR
    files_dir: Path = Path("./agribot-files")  # generated charts and workbooks
    # publish the province-level figures of GET /api/indicators to anyone (no login, no token);
    # never the unit lists (per-commune values and who has not reported), which stay behind a login
    publish_province_figures: bool = False
    # the agency named on the workbook and the report document; unset: «Sở Nông nghiệp và Môi
    # trường tỉnh …» of the plan's province
    agency_name: str | None = Field(default=None, max_length=200)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    admin_password: SecretStr | None = None

    # messages one user may send per minute (across processes); the first one over it is answered
    # «not taken», the rest of that minute is not handled, and the next answer says how many were not
    flood_limit_per_minute: int = Field(default=30, ge=1)
    # request bodies: chat, webhooks, forms (413 above); the dashboard's baseline upload its own cap
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # hand-over: a question unanswered this long moves to the province's queue and its officials are
    # told; while it stays open they are told again once per this interval (README «Hand-over»)
    handover_escalate_hours: float = Field(default=24.0, gt=0)
    # updates of the inbox `agribot serve` handles at once in its own process; 0: it only
    # accepts them (one insert each) and `agribot worker` processes handle them (PostgreSQL only)
    inbox_concurrency: int = Field(default=16, ge=0, le=256)
    # the scheduler and the delivery worker (one leader; set false in a web-only worker)
    scheduler_enabled: bool = True
    # a message being sent is "leased" by its process; when the process dies, the lease runs out
    # and the message is queued again (longer than any one send, 429 waits included)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)

    # Q&A decision thresholds on the ranker's scores; unset, they come from
    # content/answer-thresholds.yaml (fitted by `make eval`). The bot answers with the best card
    # when it scores at least answer_threshold and leads the second by answer_margin; it asks
    # «Có phải bác muốn hỏi…?» with the best cards when the best scores at least offer_threshold.
    answer_threshold: float | None = None
    answer_margin: float | None = Field(default=None, ge=0.0)
    offer_threshold: float | None = None

    telegram: TelegramSettings = Field(default_factory=lambda: TelegramSettings())
    zalo: ZaloSettings = Field(default_factory=lambda: ZaloSettings())
    # public address of this service (https://bot.example.vn), for links to charts and workbooks
    public_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest_channel_settings(cls, data: Any) -> Any:
        """``Settings(telegram_bot_token=…)`` (the flat name, as in ``.env`` files and older code)
        fills ``settings.telegram.bot_token``; the channel's own environment is read as well."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, model in _NESTED.items():
            flat = {key[len(name) + 1:]: data.pop(key) for key in list(data) if key.startswith(f"{name}_")}
            if flat:
                given = data.get(name)
                given = given.model_dump() if isinstance(given, BaseSettings) else dict(given or {})
                data[name] = model(**{**given, **flat})
        return data

    @model_validator(mode="after")
    def _someone_handles_the_inbox(self) -> Settings:
        if self.inbox_concurrency == 0 and not self.database_url.startswith("postgresql"):
            raise ValueError("AGRIBOT_INBOX_CONCURRENCY=0 needs PostgreSQL and an `agribot worker` to handle "
                             "the updates; on SQLite `agribot serve` must handle them itself")
        return self

    @model_validator(mode="after")
    def _refuse_weak_production(self) -> Settings:
        if self.environment == "production":
            problems = []
            if self.database_url.startswith("sqlite"):
                problems.append("AGRIBOT_DATABASE_URL must point at PostgreSQL in production")
            password = self.admin_password.get_secret_value() if self.admin_password else ""
            weakness = password_weakness(password)
            if weakness:
                problems.append(f"AGRIBOT_ADMIN_PASSWORD is too weak ({weakness})")
            if self.telegram.webhook_url and not self.telegram.webhook_secret:
                problems.append("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
            if problems:
                raise ValueError(REFUSAL + "; ".join(problems))
        return self


REFUSAL = "refusing to start in production: "
MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash attacks"


def password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> tuple[int, str]:
    """zxcvbn's score (0–4) of ``password`` and its warning ("" when none); words such as the
    username in ``user_inputs`` count as easy to guess."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=["agribot", "admin", "nong", "nghiep", *user_inputs])
    return int(result["score"]), str(result["feedback"].get("warning") or "")


def password_weakness(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is too weak for a dashboard account (zxcvbn's estimate), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"set it, {MIN_PASSWORD_LENGTH}+ characters"
    score, warning = password_strength(password, user_inputs)
    if score >= MIN_PASSWORD_SCORE:
        return None
    return f"strength {score}/4, need {MIN_PASSWORD_SCORE}: {(warning or 'easy to guess').rstrip('.')}"


class SettingsRefused(Exception):
    """The settings cannot be used; ``str()`` is one line for the operator."""


def load_settings(**overrides: object) -> Settings:
    """Build the settings once (environment, ``.env``, then explicit overrides); a bad value or a
    production refusal raises ``SettingsRefused`` with one line (no pydantic report)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False, include_input=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            where = ".".join(str(part) for part in error["loc"])
            lines.append(f"{where}: {message}" if where else message)
        raise SettingsRefused("; ".join(lines)) from None
