"""`fastapi-architect agent install`: an assistant agent wired to the MCP server.

Two files in the target project:

- `.claude/agents/fastapi-backend-architect.md`: the agent definition (YAML front matter,
  then its instructions). Its last line records a hash of the text above it, so a later
  install can tell our own unedited file (replaced when the template changes) from one a
  person edited (left alone unless `--force`).
- `.mcp.json`: the `fastapi-architect` entry under `mcpServers`, merged into the file
  (other servers and keys are kept; a differing entry of ours is kept unless `--force`).

The whole install is planned before anything is written, so a refusal changes nothing,
and a second run with nothing to do writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi_architect.assistant.capabilities import SERVER_NAME, tool_names

AGENT_NAME = "fastapi-backend-architect"
AGENT_PATH = Path(".claude/agents") / f"{AGENT_NAME}.md"
MCP_CONFIG_PATH = Path(".mcp.json")
SERVER_ENTRY: dict[str, Any] = {
    "command": "fastapi-architect",
    "args": ["mcp", "--root", "."],
}

_MARKER_PREFIX = "<!-- fastapi-architect agent sha256="
_MARKER_RE = re.compile(r"\n<!-- fastapi-architect agent sha256=([0-9a-f]{64})[^\n]*-->\n?\Z")

Action = Literal["create", "update", "unchanged", "kept"]


class InstallError(Exception):
    """The install cannot go ahead; nothing was written. The message says why and what to do."""


@dataclass(frozen=True)
class Step:
    """What the install does to one file. `content` is None when nothing is written."""

    path: Path
    action: Action
    note: str
    content: str | None = None


def agent_definition() -> str:
    """The agent file, ending with the line that records its hash."""
    tools = ", ".join(
        ["Read", "Grep", "Glob", "Edit", "Write", "Bash"]
        + [f"mcp__{SERVER_NAME}__{name}" for name in tool_names()]
    )
    body = _AGENT_TEMPLATE.format(name=AGENT_NAME, tools=tools, server=SERVER_NAME)
    return body + _marker(body)


def plan(target: Path, *, force: bool = False) -> list[Step]:
    """What an install into `target` would do; `InstallError` when it must not go ahead."""
    return [_agent_step(target, force), _mcp_step(target, force)]


def apply(target: Path, steps: list[Step]) -> None:
    for step in steps:
        if step.content is None:
            continue
        path = target / step.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step.content, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise InstallError(f"cannot write {step.path}: {exc.strerror or exc}") from None


def install(target: Path, *, force: bool = False) -> list[Step]:
    steps = plan(target, force=force)
    apply(target, steps)
    return steps


def is_unedited(text: str) -> bool:
    """Whether `text` is an agent file this tool wrote, unchanged since."""
    match = _MARKER_RE.search(text)
    if match is None:
        return False
    body = text[: match.start() + 1]
    return hashlib.sha256(body.encode("utf-8")).hexdigest() == match.group(1)


def _marker(body: str) -> str:
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return (
        f"{_MARKER_PREFIX}{digest} (written by `fastapi-architect agent install`; "
        "once you edit this file, a new install leaves it alone unless run with --force) -->\n"
    )


def _agent_step(target: Path, force: bool) -> Step:
    wanted = agent_definition()
    path = target / AGENT_PATH
    if not path.exists():
        return Step(AGENT_PATH, "create", "agent definition written", wanted)
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {AGENT_PATH}: {exc}") from None
    if current == wanted:
        return Step(AGENT_PATH, "unchanged", "agent definition already up to date")
    if is_unedited(current):
        return Step(AGENT_PATH, "update", "agent definition updated to this version", wanted)
    if force:
        return Step(AGENT_PATH, "update", "your edits replaced (--force)", wanted)
    raise InstallError(
        f"{AGENT_PATH} has been edited (or was not written by fastapi-architect): "
        "not replacing it. Keep your version, or run `fastapi-architect agent install "
        "--force` to replace it with this version's definition."
    )


def _mcp_step(target: Path, force: bool) -> Step:
    path = target / MCP_CONFIG_PATH
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InstallError(f"cannot read {MCP_CONFIG_PATH}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise InstallError(
                f"{MCP_CONFIG_PATH} is not valid JSON ({exc}): fix it, then install again"
            ) from None
        if not isinstance(loaded, dict):
            raise InstallError(f"{MCP_CONFIG_PATH} must hold a JSON object")
        data = loaded
    servers = data.get("mcpServers")
    if servers is None:
        servers = {}
    if not isinstance(servers, dict):
        raise InstallError(f'"mcpServers" in {MCP_CONFIG_PATH} must be a JSON object')
    current = servers.get(SERVER_NAME)
    if current == SERVER_ENTRY:
        return Step(MCP_CONFIG_PATH, "unchanged", f"MCP server `{SERVER_NAME}` already registered")
    if current is not None and not force:
        return Step(
            MCP_CONFIG_PATH,
            "kept",
            f"your own `{SERVER_NAME}` entry is kept (--force replaces it)",
        )
    action: Action = "create" if not path.exists() else "update"
    note = (
        f"MCP server `{SERVER_NAME}` registered"
        if current is None
        else f"MCP server `{SERVER_NAME}` entry replaced (--force)"
    )
    merged = {**data, "mcpServers": {**servers, SERVER_NAME: SERVER_ENTRY}}
    return Step(MCP_CONFIG_PATH, action, note, json.dumps(merged, indent=2) + "\n")


_AGENT_TEMPLATE = """\
---
name: {name}
description: FastAPI backend architect for this project. Use it to design, change or review \
path operations, services, data access and API contracts; it checks the code as it is with \
the fastapi-architect tools before proposing anything, and checks the API contract before \
finishing a change.
tools: {tools}
model: inherit
---

You are the backend architect of this FastAPI project. You work from evidence: the code
as it is now, read through the `{server}` MCP tools, not what a FastAPI project usually
looks like.

## Look before you propose

- Start with `routes` to see the path operations that exist: full path with every router
  prefix, handler file and line, sync or async, the dependency that authenticates it,
  response model and status code.
- Run `review` on the part of the code you are about to touch (use `select` to narrow
  it, e.g. `["FAA2"]` for async problems). Use `explain_rule` when you cite a finding.
- Only then propose a change, and say which of these results it rests on.

## Keep route handlers thin

- A path operation function parses the request, calls one service function and shapes
  the response. Business rules live in services, database access in repositories or
  data-access functions, and both are reached through `Depends` (preferably with
  `Annotated` aliases).
- Declare what goes in and out: Pydantic models for bodies, a `response_model` or return
  annotation for every route, explicit status codes for creates and deletes.
- In `async def` code, never call blocking I/O (`requests`, `time.sleep`, sync database
  drivers, file reads of unknown size); use async clients or a sync `def` route.
- Every route that is not meant to be public gets an authentication dependency; keep
  secrets out of code and use a vetted password hasher.

## Guard the API contract

- Before you finish any change that touches an endpoint, export the OpenAPI document and
  run `contract_diff` between the committed version (for example `main:openapi.json`) and
  the new one.
- Never break a contract without saying so. When `contract_diff` reports a change at level
  `error` or `warning`, tell the user plainly which clients break and how, and offer a
  compatible route: an optional field instead of a required one, a new field next to the
  old one, a deprecation period, or a new API version.

## Record decisions

- When a change is architectural (a new layer or dependency, a database or queue choice,
  an authentication scheme, a versioning policy, a cross-cutting convention), suggest a
  decision record. Draft it with `adr_new` (it only proposes by default), show it, and
  write it with `write: true` once the user agrees.

## New services and resources

- To start a service, use `new_project`; to add a CRUD resource to a service with the
  generated layout, `add_resource` (for example `book` with
  `["title:str:max=200", "price:decimal", "author:ref:author"]`) instead of writing the
  layers by hand. Both only list their files by default: show the list, then call again
  with `write: true`. Afterwards, run the project's tests and `review`.

## When you report back

Say what you checked (routes, review findings, contract diff), what you changed, whether
the contract is unchanged, compatible or breaking, and what is left open.
"""
