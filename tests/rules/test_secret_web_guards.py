"""Guards of FAA304, FAA309 and FAA311 found on real apps (argilla-server, khoj): what
decides each one, beyond the fixture lines."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.rules.security.secret_rules import secret_value


def _review(root: Path, files: dict[str, str], code: str) -> list[Finding]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config = replace(Config(), select=(code,), extend_select=(), ignore=())
    return [f for f in review_paths([root], config, root=root).findings if f.code == code]


def test_faa304_dummy_needs_both_name_and_value() -> None:
    assert not secret_value("_DUMMY_SECRET", "dummy_secret")
    assert not secret_value("FAKE_PASSWORD", "fake")
    assert secret_value("DUMMY_PASSWORD", "hunter2pass")  # the value is a password
    assert secret_value("DUMMY_SECRET", "dummy-9f8e7d6c")  # digits: may be real
    assert secret_value("SECRET_KEY", "dummy_secret")  # a placeholder that ships


def test_faa304_punctuation_makes_a_secret_word_a_secret() -> None:
    assert secret_value("SECRET_KEY", "!secret")
    assert secret_value("SECRET_KEY", "secret!")
    assert not secret_value("SECRET_KEY", "secret")  # the field's own name: a label
    assert not secret_value("CSRF_TOKEN_KEY", "csrftoken")


def test_faa304_signing_key_fallback_is_a_warning(tmp_path: Path) -> None:
    """`"!secret"` is no placeholder: the severity is not lowered."""
    source = 'import os\nSECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "!secret")\n'
    found = _review(tmp_path, {"settings.py": source}, "FAA304")
    assert [(f.line, f.severity) for f in found] == [(2, "warning")]


_HELPER = (
    "from app.constants import DEFAULT_API_KEY\n"
    "def has_default_key(user):\n"
    "    return user.api_key == DEFAULT_API_KEY\n"
)


def test_faa309_constant_compare_depends_on_request_handling(tmp_path: Path) -> None:
    """The same helper is quiet when only startup code calls it and reported once a
    route handler does: the names are the same, the caller decides."""
    files = {
        "app/__init__.py": "",
        "app/constants.py": 'DEFAULT_API_KEY = "argilla.apikey"\n',
        "app/checks.py": _HELPER,
        "app/main.py": (
            "from fastapi import FastAPI\n"
            "from app.checks import has_default_key\n"
            "async def startup(user):\n"
            "    has_default_key(user)\n"
            "app = FastAPI(on_startup=[startup])\n"
        ),
    }
    assert _review(tmp_path / "startup", files, "FAA309") == []
    files["app/main.py"] = (
        "from fastapi import FastAPI\n"
        "from app.checks import has_default_key\n"
        "app = FastAPI()\n"
        "@app.get('/me')\n"
        "async def me() -> bool:\n"
        "    return has_default_key(object())\n"
    )
    found = _review(tmp_path / "serving", files, "FAA309")
    assert [(f.file, f.line) for f in found] == [("app/checks.py", 3)]


def test_faa311_predicate_env_read_is_followed_one_call_deep(tmp_path: Path) -> None:
    helpers = (
        "import os\n"
        "def _flag(name):\n"
        "    return os.getenv(name) == 'true'\n"
        "def _read(name):\n"
        "    return _flag(name)\n"
        "def in_debug_mode():\n"
        "    return _flag('APP_DEBUG')\n"
        "def is_debug_build():\n"
        "    return _read('APP_DEBUG')\n"
    )
    main = (
        "from fastapi import FastAPI\n"
        "from app.helpers import in_debug_mode, is_debug_build\n"
        "if in_debug_mode():\n"
        "    app = FastAPI(debug=True)\n"
        "if is_debug_build():\n"
        "    other = FastAPI(debug=True)\n"
    )
    files = {"app/__init__.py": "", "app/helpers.py": helpers, "app/main.py": main}
    found = _review(tmp_path, files, "FAA311")
    # Two calls deep is not followed: the second app is still reported.
    assert [(f.file, f.line) for f in found] == [("app/main.py", 6)]
