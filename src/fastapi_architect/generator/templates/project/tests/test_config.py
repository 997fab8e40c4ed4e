"""Settings: production refuses to start with the default secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import Settings
from app.main import create_app


def test_production_refuses_the_default_secret(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]


def test_production_refuses_a_short_secret(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make_settings(environment="production", secret_key=SecretStr("too-short"))


def test_production_starts_with_a_real_secret(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(environment="production", secret_key=SecretStr("k" * 48))
    assert create_app(settings).state.settings.is_production


def test_production_reads_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    assert Settings(_env_file=None).secret_key.get_secret_value() == "s" * 40  # type: ignore[call-arg]
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_development_gets_a_random_secret_per_process() -> None:
    first = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    second = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    assert first.secret_key.get_secret_value() != second.secret_key.get_secret_value()
    assert len(first.secret_key.get_secret_value()) >= 32


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
    ],
)
def test_cors_origins_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", raw)
    assert Settings(_env_file=None).cors_origins == expected  # type: ignore[call-arg]


def test_malformed_rate_limit_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError):
        make_settings(login_rate_limit="often")
