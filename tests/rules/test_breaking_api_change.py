"""FAA712 against snapshots that FastAPI itself generated from the previous version of
the code (in a subprocess, as `contract snapshot` does): unchanged code yields nothing,
breaking edits are reported on the right lines, and what the static reading cannot see
is left out rather than reported."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app as cli
from fastapi_architect.config import Config, ConfigError, load_config
from fastapi_architect.contract import Document, diff_documents
from fastapi_architect.contract.app_source import export_openapi
from fastapi_architect.model.openapi_static import static_apis
from fastapi_architect.review.engine import load_model, review_paths
from fastapi_architect.review.rules.contract import reduced_documents

ROOT = Path(__file__).resolve().parents[2]
BOOKSHOP = ROOT / "examples" / "bookshop"
PYPROJECT = (
    '[project]\nname = "demo"\n\n[tool.fastapi-architect]\ncontract-snapshot = "openapi.json"\n'
)
CHANGE_ID = re.compile(r"\(`([a-z0-9-]+)`, against `openapi\.json`\)$")

MAIN = """\
from typing import Annotated, Literal

from fastapi import (
    APIRouter, Body, Cookie, Depends, FastAPI, Header, Query, Request, WebSocket, status,
)
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from demo.models import Filters, ItemIn, ItemOut, Kind, Page, Tag

API_PREFIX = "/api/v1"
oauth2 = OAuth2PasswordBearer(tokenUrl="token")
api_key = APIKeyHeader(name="X-API-Key")


def tenant(x_tenant: Annotated[str, Header()], trace: Annotated[str | None, Cookie()] = None):
    return x_tenant


class Paging:
    def __init__(self, page: int = 1, size: Annotated[int, Query(alias="per-page")] = 20):
        self.page = page


class Owner:
    def __init__(self, role: str) -> None:
        self.role = role

    def __call__(self, token: Annotated[str, Depends(oauth2)], sudo: bool = False) -> str:
        return token


app = FastAPI(title="Demo")
items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(tenant)])
admin = APIRouter(dependencies=[Depends(api_key)])
sub = FastAPI()


@items.get("", response_model=Page)
def list_items(
    paging: Annotated[Paging, Depends()],
    kind: Kind | None = None,
    order: Literal["asc", "desc"] = "asc",
    tags: Annotated[list[str] | None, Query()] = None,
) -> Page:
    return Page(items=[], total=0)


@items.get("/search")
def search(filters: Annotated[Filters, Query()]) -> list[ItemOut]:
    return []


@items.get("/{item_id}", response_model=ItemOut, responses={404: {"description": "Missing"}})
def read_item(item_id: int, request: Request, verbose: bool = False) -> ItemOut:
    raise NotImplementedError


@items.post("", status_code=status.HTTP_201_CREATED)
def create_item(item: ItemIn, owner: Annotated[str, Depends(Owner("admin"))]) -> ItemOut:
    raise NotImplementedError


@items.put("/{item_id}", response_model=ItemOut)
def replace_item(item_id: int, item: ItemIn, tag: Tag, note: Annotated[str, Body()]) -> ItemOut:
    raise NotImplementedError


@items.patch("/{item_id}/tag")
def tag_item(item_id: int, tag: Annotated[Tag, Body(embed=True)]) -> None:
    return None


@items.delete("/{item_id}", status_code=204, deprecated=True)
def delete_item(item_id: int) -> None:
    return None


@items.get("/{item_id}/raw", response_model=None, include_in_schema=False)
def raw(item_id: int) -> dict[str, int]:
    return {}


@admin.api_route("/stats", methods=["GET", "HEAD"])
def stats(x_request_id: Annotated[str | None, Header()] = None) -> dict[str, int]:
    return {}


def files(name: str, q: str = "") -> list[str]:
    return []


admin.add_api_route("/files/{name:path}", files, methods=["GET"])


@admin.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()


@sub.get("/hidden")
def hidden() -> None:
    return None


app.include_router(items, prefix=API_PREFIX)
app.include_router(admin, prefix=API_PREFIX + "/admin")
app.include_router(admin, prefix="/admin-old")
app.mount("/sub", sub)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
"""

MODELS = """\
from enum import Enum

from pydantic import BaseModel, Field, computed_field


class Kind(str, Enum):
    book = "book"
    game = "game"


class Tag(BaseModel):
    label: str
    color: str = "blue"


class Filters(BaseModel):
    q: str
    max_price: float | None = None


class ItemIn(BaseModel):
    name: str
    price: float = Field(gt=0, alias="unitPrice")
    tags: list[Tag] = []
    description: str | None = None


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[Tag]
    parent: "ItemOut | None" = None

    @computed_field
    @property
    def label(self) -> str:
        return self.name.title()


class Page(BaseModel):
    items: list[ItemOut]
    total: int
"""


# ------------------------------------------------------------------- helpers


def write_project(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def snapshot(root: Path, app: str = "demo.main:app") -> None:
    """`openapi.json` of the code as it is now, computed by FastAPI in a subprocess."""
    data = export_openapi(app, cwd=root)
    (root / "openapi.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")


def demo(root: Path, main: str = MAIN, models: str = MODELS) -> None:
    write_project(root, {"demo/__init__.py": "", "demo/main.py": main, "demo/models.py": models})


def findings(root: Path, config: Config | None = None) -> list[tuple[str, int, str]]:
    """(file, line, change id) of every FAA712 finding."""
    config = config or load_config(root / "pyproject.toml")
    result = review_paths([root], replace(config, select=("FAA712",)), root=root)
    assert result.internal_errors == []
    out = []
    for f in result.findings:
        match = CHANGE_ID.search(f.message)
        assert match, f.message
        out.append((f.file, f.line, match.group(1)))
    return sorted(out)


def all_changes(root: Path) -> list[str]:
    """Every change the reduced documents differ by, info included: none means the
    static reading agrees with FastAPI on everything it compares."""
    config = load_config(root / "pyproject.toml")
    model = load_model([root], config, root=root)
    data = json.loads((root / "openapi.json").read_text(encoding="utf-8"))
    apis = [a for a in static_apis(model) if a.operations]
    assert len(apis) == 2  # the app and the mounted sub-application
    api = max(apis, key=lambda a: len(a.operations))
    base, code = reduced_documents(api, data)
    changes = diff_documents(Document("snapshot", base), Document("code", code))
    return [f"{c.level.label} {c.id} {c.operation} {c.path}: {c.message}" for c in changes]


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    matches = [n for n, line in enumerate(lines, start=1) if text in line]
    assert len(matches) == 1, (text, matches)
    return matches[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# ------------------------------------------------------------------- tests


def test_unchanged_code_agrees_with_fastapi_on_everything_compared(tmp_path: Path) -> None:
    demo(tmp_path)
    snapshot(tmp_path)
    assert findings(tmp_path) == []
    assert all_changes(tmp_path) == []
    # The comparison is not empty: the reduced snapshot keeps parameters and fields.
    config = load_config(tmp_path / "pyproject.toml")
    api = max(
        static_apis(load_model([tmp_path], config, root=tmp_path)),
        key=lambda a: len(a.operations),
    )
    listing = api.operations[("GET", "/api/v1/items")]
    assert listing.params_complete
    assert {k: p.required for k, p in listing.params.items()} == {
        "header:x-tenant": True,
        "cookie:trace": False,
        "query:page": False,
        "query:per-page": False,
        "query:kind": False,
        "query:order": False,
        "query:tags": False,
    }
    assert ("GET", "/api/v1/items/{item_id}/raw") not in api.operations  # not in the schema
    assert ("GET", "/admin-old/files/{name}") in api.operations


def test_breaking_edits_are_reported_on_their_routes(tmp_path: Path) -> None:
    demo(tmp_path)
    snapshot(tmp_path)
    main = tmp_path / "demo" / "main.py"
    models = tmp_path / "demo" / "models.py"
    edit(main, "verbose: bool = False) -> ItemOut", "verbose: bool, since: str) -> ItemOut")
    edit(main, 'order: Literal["asc", "desc"] = "asc",\n', "")
    edit(models, "    total: int\n", "    total: int | None = None\n")
    edit(models, "    description: str | None = None\n", "    description: str\n")
    edit(main, '@admin.api_route("/stats", methods=["GET", "HEAD"])', '@admin.get("/stats")')
    edit(main, '@items.patch("/{item_id}/tag")', '@items.patch("/{item}/tags")')
    edit(
        main,
        '@items.delete("/{item_id}", status_code=204, deprecated=True)',
        '@items.delete("/{id}", status_code=204)',
    )
    edit(
        main, "def delete_item(item_id: int)", "def delete_item(id: int)"
    )  # a renamed path parameter
    read = line_of(main, '@items.get("/{item_id}", response_model=ItemOut')
    listing = line_of(main, '@items.get("", response_model=Page)')
    assert findings(tmp_path) == sorted(
        [
            # a query parameter became required, another one is new and required
            ("demo/main.py", read, "request-parameter-became-required"),
            ("demo/main.py", read, "new-required-request-parameter"),
            ("demo/main.py", listing, "request-parameter-removed"),
            # `Page.total` may now be missing from the response
            ("demo/main.py", listing, "response-property-became-optional"),
            # `ItemIn.description` is now required, in both bodies that use the model
            (
                "demo/main.py",
                line_of(main, '@items.post("", status_code='),
                "request-property-became-required",
            ),
            (
                "demo/main.py",
                line_of(main, '@items.put("/{item_id}"'),
                "request-property-became-required",
            ),
            # HEAD /stats is gone (twice: under both prefixes), reported on its router
            (
                "demo/main.py",
                line_of(main, "admin = APIRouter("),
                "api-removed-without-deprecation",
            ),
            (
                "demo/main.py",
                line_of(main, "admin = APIRouter("),
                "api-removed-without-deprecation",
            ),
            # a moved path is a removed one, on the router it was under
            (
                "demo/main.py",
                line_of(main, "items = APIRouter("),
                "api-path-removed-without-deprecation",
            ),
        ]
    )


def test_route_removed_with_its_router_is_reported_on_the_app(tmp_path: Path) -> None:
    demo(tmp_path)
    snapshot(tmp_path)
    main = tmp_path / "demo" / "main.py"
    edit(main, 'app.include_router(admin, prefix="/admin-old")\n', "")
    app_line = line_of(main, 'app = FastAPI(title="Demo")')
    # GET and HEAD of /admin-old/stats, GET of /admin-old/files/{name}
    assert (
        findings(tmp_path)
        == [("demo/main.py", app_line, "api-path-removed-without-deprecation")] * 3
    )


def test_without_a_snapshot_the_rule_is_off(tmp_path: Path) -> None:
    demo(tmp_path)
    snapshot(tmp_path)
    edit(tmp_path / "demo" / "main.py", "def health()", "def health(q: str)")
    assert len(findings(tmp_path)) == 1
    assert findings(tmp_path, Config()) == []


PLUGIN = """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/status")
def plugin_status() -> dict[str, str]:
    return {}


def install(app) -> None:
    app.add_api_route("/metrics", lambda: "", methods=["GET"])


def pagination(cursor: str | None = None, limit: int = 10) -> dict[str, object]:
    return {"cursor": cursor, "limit": limit}
"""

OUTSIDE = """\
import os
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

import plugin

app = FastAPI()
plugin.install(app)
app.include_router(plugin.router, prefix="/plugin")
reports = APIRouter(prefix="/reports")


@reports.get("")
def list_reports(paging: Annotated[dict, Depends(plugin.pagination)]) -> list[str]:
    return []


@reports.get("/{report_id}")
def read_report(report_id: int) -> str:
    return ""


@app.post("/" + os.environ.get("EXTRA_PATH", "extra"))
def extra() -> str:
    return ""


app.include_router(reports)
"""


def test_what_outside_code_adds_is_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "site"  # importable by the app, not part of the reviewed project
    write_project(outside, {"plugin.py": PLUGIN})
    monkeypatch.setenv("PYTHONPATH", str(outside))
    project = tmp_path / "project"
    write_project(project, {"demo/__init__.py": "", "demo/main.py": OUTSIDE})
    snapshot(project)
    documented = json.loads((project / "openapi.json").read_text())["paths"]
    assert {"/metrics", "/plugin/status", "/extra"} <= set(documented)
    assert {p["name"] for p in documented["/reports"]["get"]["parameters"]} == {"cursor", "limit"}
    assert findings(project) == []
    main = project / "demo" / "main.py"
    edit(main, "def read_report(report_id: int)", "def read_report(report_id: int, full: bool)")
    edit(
        main,
        "paging: Annotated[dict, Depends(plugin.pagination)]",
        "paging: Annotated[dict, Depends(plugin.pagination)], mine: int",
    )
    assert findings(project) == [
        ("demo/main.py", line_of(main, '@reports.get("")'), "new-required-request-parameter"),
        (
            "demo/main.py",
            line_of(main, '@reports.get("/{report_id}")'),
            "new-required-request-parameter",
        ),
    ]
    # A route removed under a router the project declares is still seen.
    edit(main, '@reports.get("/{report_id}")', '@reports.get("/by-id/{report_id}")')
    assert (
        "demo/main.py",
        line_of(main, "reports = APIRouter("),
        "api-path-removed-without-deprecation",
    ) in findings(project)


def test_renaming_models_are_compared_by_presence_only(tmp_path: Path) -> None:
    """An alias generator renames every field: the model's fields are not compared."""
    models = MODELS.replace(
        "class Page(BaseModel):\n",
        "class Page(BaseModel):\n    model_config = {'alias_generator': str.upper}\n",
    )
    demo(tmp_path, models=models)
    snapshot(tmp_path)
    edit(tmp_path / "demo" / "models.py", "    total: int\n", "    total: int | None = None\n")
    assert findings(tmp_path) == []


def test_snapshot_errors_are_configuration_errors(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'contract-snapshot': no such file: openapi\.json"):
        load_config(pyproject)
    (tmp_path / "openapi.json").write_text('{\n  "openapi": "3.1.0",\n  "paths": {,}\n}\n')
    with pytest.raises(ConfigError, match=r"openapi\.json:3: invalid JSON"):
        load_config(pyproject)
    (tmp_path / "openapi.json").write_text('{"swagger": "2.0"}')
    with pytest.raises(ConfigError, match=r"Swagger 2\.0 is not supported"):
        load_config(pyproject)
    pyproject.write_text("[tool.fastapi-architect]\ncontract-snapshot = 3\n")
    with pytest.raises(ConfigError, match="'contract-snapshot' must be a path"):
        load_config(pyproject)
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    pyproject.write_text(PYPROJECT, encoding="utf-8")
    result = CliRunner().invoke(cli, ["review", str(tmp_path)])
    assert result.exit_code == 2
    assert "fastapi-architect: error:" in result.output
    assert "Swagger 2.0 is not supported" in result.output
    assert "Traceback" not in result.output


def test_config_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "openapi.yaml").write_text("openapi: 3.0.3\npaths: {}\n")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.fastapi-architect]\ncontract-snapshot = "api/openapi.yaml"\n')
    assert load_config(pyproject).contract_snapshot == (tmp_path / "api" / "openapi.yaml").resolve()


# ------------------------------------------------------------------- a realistic app

# The bookshop imports libraries this test does not need (a database, JWT, password
# hashing, settings): these stand-ins let FastAPI import it and build its document.
_ANYTHING = """\
class _Meta(type):
    def __getattr__(cls, name):
        return _Anything()


class _Anything(metaclass=_Meta):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        return _Anything()

    def __class_getitem__(cls, item):
        return cls


def __getattr__(name):
    return _Anything
"""
STUBS = {
    **{
        name: _ANYTHING
        for name in (
            "sqlalchemy/__init__.py",
            "sqlalchemy/orm.py",
            "sqlalchemy/exc.py",
            "sqlalchemy/ext/__init__.py",
            "sqlalchemy/ext/asyncio.py",
            "jose/__init__.py",
            "passlib/__init__.py",
            "passlib/context.py",
            "requests/__init__.py",
        )
    },
    "pydantic_settings/__init__.py": (
        "class BaseSettings:\n    pass\n\n\ndef SettingsConfigDict(**kwargs):\n    return kwargs\n"
    ),
    "email_validator/__init__.py": (
        "class EmailNotValidError(ValueError):\n    pass\n\n\n"
        "def validate_email(email, **kwargs):\n    raise EmailNotValidError(email)\n"
    ),
    "email_validator-2.2.0.dist-info/METADATA": (
        "Metadata-Version: 2.1\nName: email-validator\nVersion: 2.2.0\n"
    ),
}
if importlib.util.find_spec("python_multipart") is None:
    # FastAPI only checks that form parsing is installed; a stub must not shadow the real one
    STUBS["python_multipart/__init__.py"] = '__version__ = "0.0.20"\n'


def test_bookshop_against_its_fastapi_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stubs = tmp_path / "stubs"
    write_project(stubs, STUBS)
    monkeypatch.setenv("PYTHONPATH", str(stubs))
    shop = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, shop)
    data = export_openapi("app.main:app", cwd=shop)
    assert len(data["paths"]) == 18
    (shop / "openapi.json").write_text(json.dumps(data), encoding="utf-8")
    with (shop / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.fastapi-architect]\ncontract-snapshot = "openapi.json"\n')
    assert findings(shop) == []
    config = load_config(shop / "pyproject.toml")
    (api,) = static_apis(load_model([shop], config, root=shop))
    base, code = reduced_documents(api, data)
    assert diff_documents(Document("snapshot", base), Document("code", code)) == []
    assert sum(len(methods) for methods in base["paths"].values()) == 23
    # The same setup sees a breaking edit.
    books = shop / "app" / "api" / "routes" / "books.py"
    edit(books, "    author_id: int | None = None,\n", "    author_id: int = Query(),\n")
    assert findings(shop) == [
        (
            "app/api/routes/books.py",
            line_of(books, '@router.get("", response_model=list[BookOut])'),
            "request-parameter-became-required",
        )
    ]
