"""Settings: nested per channel in code, read from the environment names the README lists."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsRefused, load_settings

STRONG = "Lúa-Nước-2026-Hữu-Lũng"


def test_the_readme_environment_names_fill_the_nested_channel_settings(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("AGRIBOT_TELEGRAM_WEBHOOK_URL", "https://bot.example.vn/telegram/webhook")
    monkeypatch.setenv("AGRIBOT_TELEGRAM_BOT_USERNAME", "agribot_ls")
    monkeypatch.setenv("ZALO_APP_ID", "4242")
    monkeypatch.setenv("AGRIBOT_ZALO_OA_SECRET_KEY", "s3cret")
    monkeypatch.setenv("AGRIBOT_ZALO_HTTP_TIMEOUT", "7")
    settings = Settings()
    assert settings.telegram.bot_token is not None and settings.telegram.bot_token.get_secret_value() == "123:abc"
    assert settings.telegram.webhook_url == "https://bot.example.vn/telegram/webhook"
    assert settings.telegram.bot_username == "agribot_ls"
    assert settings.zalo.app_id == "4242" and settings.zalo.http_timeout == 7.0
    assert settings.zalo.oa_secret_key is not None and settings.zalo.oa_secret_key.get_secret_value() == "s3cret"


def test_a_flat_override_changes_one_value_and_keeps_the_rest(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = Settings(telegram_rate_per_chat=50.0)
    assert settings.telegram.rate_per_chat == 50.0
    assert settings.telegram.bot_token is not None  # still read from the environment
    copied = Settings(**{**settings.model_dump(), "telegram_api_base_url": "http://127.0.0.1:9"})
    assert copied.telegram.api_base_url == "http://127.0.0.1:9" and copied.telegram.rate_per_chat == 50.0


def test_production_still_refuses_a_webhook_without_its_secret() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        Settings(environment="production", database_url="postgresql://db/agribot", admin_password=STRONG,
                 telegram_webhook_url="https://bot.example.vn/telegram/webhook")


@pytest.mark.parametrize("weak", ["password1234", "aaaaaaaaaaaa", "admin", "qwertyuiop123", "Password2026!"])
def test_production_refuses_an_admin_password_an_estimator_calls_weak(weak: str) -> None:
    with pytest.raises(SettingsRefused) as refused:
        load_settings(environment="production", database_url="postgresql://db/agribot", admin_password=weak)
    line = str(refused.value)
    assert "AGRIBOT_ADMIN_PASSWORD is too weak" in line and "\n" not in line and weak not in line


def test_production_accepts_a_strong_admin_password() -> None:
    settings = load_settings(environment="production", database_url="postgresql://db/agribot", admin_password=STRONG)
    assert settings.environment == "production"
