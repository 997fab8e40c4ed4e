from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fastapi_architect.config import (
    DEFAULT_AUTH_DEPENDENCIES,
    Config,
    ConfigError,
    find_config_file,
    load_config,
)
from fastapi_architect.review import registry
from fastapi_architect.review.selection import enabled_rules


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_file() -> None:
    cfg = load_config(None)
    assert cfg.select is None
    assert cfg.auth_dependencies == DEFAULT_AUTH_DEPENDENCIES


def test_full_table(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            "[tool.fastapi-architect]\n"
            'select = ["faa2", "FAA301"]\nignore = ["FAA208"]\n'
            'extend-exclude = ["legacy"]\nauth-dependencies = ["require_staff"]\n'
            'public-paths = ["/public/*"]\nprivate-paths = ["/api/*"]\n'
            '[tool.fastapi-architect.per-file-ignores]\n"tests/*" = ["FAA304"]\n',
        )
    )
    assert cfg.select == ("FAA2", "FAA301")
    assert cfg.ignore == ("FAA208",)
    assert "legacy" in cfg.excludes and ".venv" in cfg.excludes
    assert cfg.auth_dependencies[-1] == "require_staff"
    assert "/public/*" in cfg.public_paths
    assert cfg.private_paths == ("/api/*",)
    assert cfg.per_file_ignores == {"tests/*": ("FAA304",)}
    codes = [r.code for r in enabled_rules(cfg)]
    assert "FAA201" in codes and "FAA208" not in codes and "FAA602" not in codes


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[tool.fastapi-architect]\nselct = ["FAA2"]\n', "unknown key 'selct'"),
        ('[tool.fastapi-architect]\nselect = "FAA2"\n', "'select' must be a list of strings"),
        (
            '[tool.fastapi-architect]\nper-file-ignores = ["x"]\n',
            "'per-file-ignores' must be a table",
        ),
        ("[tool.fastapi-architect\n", "invalid TOML"),
    ],
)
def test_errors_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))


def test_find_config_file_walks_up_to_our_table(tmp_path: Path) -> None:
    write(tmp_path, "[tool.fastapi-architect]\nignore = []\n")
    inner = tmp_path / "pkg" / "sub"
    inner.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config_file(inner) == tmp_path / "pyproject.toml"


def test_opt_in_rules_run_only_when_selected(monkeypatch: pytest.MonkeyPatch) -> None:
    base = registry.get_rule("FAA602")
    assert base is not None
    opt_in = dataclasses.replace(base, code="FAA699", default_enabled=False)
    monkeypatch.setitem(registry._RULES, "FAA699", opt_in)
    assert "FAA699" not in {r.code for r in enabled_rules(Config())}
    assert "FAA699" in {r.code for r in enabled_rules(Config(select=("FAA6",)))}
    assert "FAA699" in {r.code for r in enabled_rules(Config(extend_select=("FAA699",)))}
    assert {r.code for r in enabled_rules(Config(select=("FAA201",)))} == {"FAA201"}
