"""Unit tests for the helpers of `review/rules/schemas.py` (FAA106 names, FAA108 pins)."""

from __future__ import annotations

import pytest

from fastapi_architect.review.rules.schemas import _major_from_pins, sensitive_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "password"),
        ("hashed_password", "password"),
        ("password_hash", "password"),
        ("hashedPassword", "password"),
        ("client_secret", "secret"),
        ("api_key", "key"),
        ("apiKey", "key"),
        ("private_key", "key"),
        ("reset_token", "token"),
        ("ssn", "ssn"),
        ("social_security_number", "ssn"),
        ("card_number", "card"),
        ("password_changed_at", None),
        ("has_password", None),
        ("token_type", None),
        ("max_tokens", None),
        ("next_page_token", None),
        ("csrf_token", None),
        ("api_key_id", None),
        ("public_key", None),
        ("key", None),
        ("passport", None),
    ],
)
def test_sensitive_kind(name: str, kind: str | None) -> None:
    assert sensitive_kind(name) == kind


@pytest.mark.parametrize(
    ("files", "major"),
    [
        ({"requirements.txt": "pydantic==1.10.13\nfastapi\n"}, 1),
        ({"requirements.txt": "pydantic==2.9.2\n"}, 2),
        ({"requirements.txt": "pydantic[email]>=2.0,<3\n"}, 2),
        ({"requirements.txt": "pydantic>=1.10,<2.0\n"}, 1),
        ({"requirements.txt": "pydantic>=1.10\n"}, None),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npydantic = "^2.5"\n'}, 2),
        ({"pyproject.toml": 'pydantic = {extras = ["email"], version = "^2.5"}\n'}, 2),
        ({"pyproject.toml": 'pydantic = {version = "^1.10", extras = ["email"]}\n'}, 1),
        ({"pyproject.toml": 'dependencies = ["pydantic-settings>=2"]\n'}, 2),
        ({"pyproject.toml": '[tool.mypy]\nplugins = ["pydantic.mypy"]\n'}, None),
        ({"setup.py": 'install_requires=["pydantic<2", "fastapi"]'}, 1),
        (
            {
                "uv.lock": '[[package]]\nname = "pydantic"\nversion = "1.10.18"\n',
                "pyproject.toml": 'dependencies = ["pydantic>=1"]',
            },
            1,
        ),
        ({"Pipfile.lock": '{"default": {"pydantic": {"version": "==2.9.2"}}}'}, 2),
    ],
)
def test_pydantic_major_from_pins(files: dict[str, str], major: int | None) -> None:
    assert _major_from_pins(files) == major


def test_class_config_advice_names_the_settings_config_dict() -> None:
    # A settings class needs `SettingsConfigDict` (`env_prefix` is not a `ConfigDict` key).
    from pathlib import Path

    from fastapi_architect.config import Config
    from fastapi_architect.review.engine import review_paths

    root = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "FAA108" / "v2_pinned"
    result = review_paths([root], Config().with_cli(select=("FAA108",)), root=root)
    messages = {f.file: f.message for f in result.findings if "class Config" in f.message}
    assert "`model_config = SettingsConfigDict(...)` (from `pydantic_settings`)" in (
        messages["app/env_settings.py"]
    )
    assert "`model_config = ConfigDict(...)`" in messages["app/schemas.py"]
