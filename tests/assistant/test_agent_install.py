"""`fastapi-architect agent install`: the agent definition and the `.mcp.json` entry."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from fastapi_architect.assistant.agent import (
    AGENT_PATH,
    SERVER_ENTRY,
    agent_definition,
    is_unedited,
)
from fastapi_architect.assistant.capabilities import tool_names
from fastapi_architect.cli import app

runner = CliRunner()


def install(target: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["agent", "install", "--target", str(target), *extra])
    return result.exit_code, result.output


def front_matter(text: str) -> dict[str, str]:
    assert text.startswith("---\n")
    header, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(header)
    assert isinstance(data, dict)
    return data


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_fresh_install(tmp_path: Path) -> None:
    code, output = install(tmp_path)
    assert code == 0, output
    assert "create  .claude/agents/fastapi-backend-architect.md" in output
    assert "create  .mcp.json" in output

    text = (tmp_path / AGENT_PATH).read_text(encoding="utf-8")
    meta = front_matter(text)
    assert meta["name"] == "fastapi-backend-architect"
    assert meta["model"] == "inherit"
    assert "FastAPI" in meta["description"]
    tools = [t.strip() for t in meta["tools"].split(",")]
    assert {"Read", "Grep", "Glob", "Edit"} <= set(tools)
    assert {f"mcp__fastapi-architect__{name}" for name in tool_names()} <= set(tools)
    # The instructions the issue asks for, in our own words.
    body = text.lower()
    for phrase in ("`routes`", "`review`", "thin", "`contract_diff`", "never break", "`adr_new`"):
        assert phrase in body, phrase
    assert is_unedited(text)

    config = json.loads((tmp_path / ".mcp.json").read_text(encoding="utf-8"))
    assert config == {"mcpServers": {"fastapi-architect": SERVER_ENTRY}}
    assert SERVER_ENTRY == {"command": "fastapi-architect", "args": ["mcp", "--root", "."]}


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    assert install(tmp_path)[0] == 0
    before = snapshot(tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    code, output = install(tmp_path)
    assert code == 0, output
    assert "Nothing to do: the agent is already installed." in output
    assert output.count("unchanged") == 2
    assert snapshot(tmp_path) == before
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes


def test_merges_with_an_existing_mcp_json(tmp_path: Path) -> None:
    existing = {
        "mcpServers": {
            "postgres": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres"]}
        },
        "otherKey": [1, 2, 3],
    }
    (tmp_path / ".mcp.json").write_text(json.dumps(existing), encoding="utf-8")
    code, output = install(tmp_path)
    assert code == 0, output
    assert "update  .mcp.json: MCP server `fastapi-architect` registered" in output
    merged = json.loads((tmp_path / ".mcp.json").read_text(encoding="utf-8"))
    assert merged["otherKey"] == [1, 2, 3]
    assert merged["mcpServers"]["postgres"] == existing["mcpServers"]["postgres"]
    assert merged["mcpServers"]["fastapi-architect"] == SERVER_ENTRY
    assert list(merged["mcpServers"]) == ["postgres", "fastapi-architect"]


def test_keeps_a_customised_server_entry_unless_forced(tmp_path: Path) -> None:
    custom = {"command": "uvx", "args": ["fastapi-architect", "mcp", "--root", "."]}
    (tmp_path / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"fastapi-architect": custom}}), encoding="utf-8"
    )
    code, output = install(tmp_path)
    assert code == 0, output
    assert "kept  .mcp.json" in output
    assert json.loads((tmp_path / ".mcp.json").read_text())["mcpServers"]["fastapi-architect"] == (
        custom
    )
    code, output = install(tmp_path, "--force")
    assert code == 0, output
    assert json.loads((tmp_path / ".mcp.json").read_text())["mcpServers"]["fastapi-architect"] == (
        SERVER_ENTRY
    )


def test_refuses_to_replace_an_edited_agent_file(tmp_path: Path) -> None:
    assert install(tmp_path)[0] == 0
    agent = tmp_path / AGENT_PATH
    edited = agent.read_text(encoding="utf-8").replace(
        "## Record decisions",
        "## Our team's rule\n\nAlways pair on migrations.\n\n## Record decisions",
    )
    agent.write_text(edited, encoding="utf-8")
    (tmp_path / ".mcp.json").unlink()

    code, output = install(tmp_path)
    assert code == 1
    assert "has been edited" in output
    assert "--force" in output
    # Nothing was written: the refusal comes before any change.
    assert agent.read_text(encoding="utf-8") == edited
    assert not (tmp_path / ".mcp.json").exists()

    code, output = install(tmp_path, "--force")
    assert code == 0, output
    assert "your edits replaced (--force)" in output
    assert agent.read_text(encoding="utf-8") == agent_definition()
    assert (tmp_path / ".mcp.json").exists()


def test_a_hand_written_agent_file_is_not_ours(tmp_path: Path) -> None:
    agent = tmp_path / AGENT_PATH
    agent.parent.mkdir(parents=True)
    agent.write_text("---\nname: fastapi-backend-architect\n---\nMine.\n", encoding="utf-8")
    code, output = install(tmp_path)
    assert code == 1
    assert "not written by fastapi-architect" in output
    assert agent.read_text(encoding="utf-8").endswith("Mine.\n")


def test_an_older_unedited_definition_is_updated(tmp_path: Path) -> None:
    from fastapi_architect.assistant import agent as agent_module

    old_body = "---\nname: fastapi-backend-architect\n---\nAn older version.\n"
    path = tmp_path / AGENT_PATH
    path.parent.mkdir(parents=True)
    path.write_text(old_body + agent_module._marker(old_body), encoding="utf-8")
    code, output = install(tmp_path)
    assert code == 0, output
    assert "agent definition updated to this version" in output
    assert path.read_text(encoding="utf-8") == agent_definition()


def test_invalid_mcp_json_is_reported_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text("{not json", encoding="utf-8")
    code, output = install(tmp_path)
    assert code == 1
    assert ".mcp.json is not valid JSON" in output
    assert (tmp_path / ".mcp.json").read_text(encoding="utf-8") == "{not json"
    assert not (tmp_path / AGENT_PATH).exists()


def test_missing_target(tmp_path: Path) -> None:
    code, output = install(tmp_path / "nope")
    assert code == 2
    assert "not a folder" in output
