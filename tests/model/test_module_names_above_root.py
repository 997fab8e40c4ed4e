"""Module names when the reviewed folder is inside a bigger package (`prefect/server`,
`airflow/api_fastapi`) and when a namespace folder (no `__init__.py`) sits inside a
package (`open_webui/routers/`): imports written with the full dotted name resolve."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel, module_names
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model, review_paths


def _tree(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base


def _model(root: Path) -> AppModel:
    return load_model([root], Config())


def _routes(root: Path) -> list[tuple[str, str, list[str]]]:
    return [(r.method, r.path, list(r.tags)) for r in inventory(_model(root))]


def _codes(root: Path, code: str) -> list[tuple[str, int]]:
    result = review_paths([root], replace(Config(), select=(code,)), root=root)
    assert result.internal_errors == []
    return [(f.file, f.line) for f in result.findings if f.code == code]


# ------------------------------------------------------------ reviewing a sub-folder

SERVER = {
    "pkg/__init__.py": "",
    "pkg/errors.py": "class PkgError(Exception):\n    pass\n",
    "pkg/server/__init__.py": "",
    "pkg/server/exceptions.py": "class ObjectNotFoundError(Exception):\n    pass\n",
    "pkg/server/api/__init__.py": "",
    "pkg/server/api/routes.py": (
        "from fastapi import APIRouter, HTTPException, status\n"
        "from pkg.errors import PkgError\n"
        "from pkg.server.exceptions import ObjectNotFoundError\n"
        "\n"
        'router = APIRouter(tags=["x"])\n'
        "\n"
        "\n"
        "def lookup(x: int) -> int:\n"
        '    raise ObjectNotFoundError("no")\n'
        "\n"
        "\n"
        '@router.get("/x", summary="x")\n'
        "def read(x: int) -> int:\n"
        "    try:\n"
        "        return lookup(x)\n"
        "    except ObjectNotFoundError as e:\n"
        "        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(e))\n"
        "\n"
        "\n"
        '@router.get("/y", summary="y")\n'
        "def other(x: int) -> int:\n"
        "    try:\n"
        "        return lookup(x)\n"
        "    except PkgError as e:  # the enclosing package's own, outside the reviewed folder\n"
        "        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(e))\n"
    ),
}


def test_a_sub_folder_of_a_package_is_named_by_its_full_dotted_name(tmp_path: Path) -> None:
    base = _tree(tmp_path, SERVER)
    root = base / "pkg/server"
    path = root / "exceptions.py"
    # With evidence that the project imports `pkg`, the full name wins.
    assert module_names(path, root, {"pkg"}) == (
        "pkg.server.exceptions",
        ["server.exceptions", "exceptions"],
        False,
    )
    # Without it, the name inside the reviewed folder stays (as before), and the full
    # name is still there to resolve imports by.
    assert module_names(path, root) == (
        "server.exceptions",
        ["pkg.server.exceptions", "exceptions"],
        False,
    )
    assert module_names(root / "api/__init__.py", root, {"pkg"})[0] == "pkg.server.api"


def test_a_sub_folder_resolves_the_projects_own_absolute_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, SERVER) / "pkg/server"
    project = _model(root).project
    routes = project.modules["pkg.server.api.routes"]
    assert routes.name == "pkg.server.api.routes"
    assert project.class_(project.resolve_name(routes, "ObjectNotFoundError")) is not None
    # The enclosing package is a project root: its exceptions are the project's own.
    assert {m.name.split(".", 1)[0] for m in project.module_list} == {"pkg"}


def test_a_sub_folder_keeps_project_exceptions_on_a_4xx_client_safe(tmp_path: Path) -> None:
    root = _tree(tmp_path, SERVER) / "pkg/server"
    assert _codes(root, "FAA601") == []


def test_a_sub_folder_links_include_router_tags(tmp_path: Path) -> None:
    base = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/api/__init__.py": "",
            "pkg/api/app.py": (
                "from fastapi import FastAPI\n"
                "from pkg.api.routes import api_router\n"
                "app = FastAPI()\n"
                'app.include_router(api_router, prefix="/api")\n'
            ),
            "pkg/api/routes/__init__.py": (
                "from fastapi import APIRouter\n"
                "from pkg.api.routes import health\n"
                "api_router = APIRouter()\n"
                'api_router.include_router(health.router, tags=["Health"])\n'
            ),
            "pkg/api/routes/health.py": (
                "from fastapi import APIRouter\n"
                "router = APIRouter()\n"
                '@router.get("/health/ping", summary="Ping")\n'
                "async def ping() -> dict[str, str]:\n"
                '    return {"ok": "yes"}\n'
            ),
        },
    )
    root = base / "pkg/api"
    assert _routes(root) == [("GET", "/api/health/ping", ["Health"])]
    assert _codes(root, "FAA705") == []


# ------------------------------------------------------------ namespace folder in a package

OWPKG = {
    "owpkg/__init__.py": "",
    "owpkg/main.py": (
        "from fastapi import FastAPI\n"
        "from owpkg.routers import items\n"
        "app = FastAPI()\n"
        "app.include_router(items.router, prefix='/api/v1/items', tags=['items'])\n"
    ),
    # No owpkg/routers/__init__.py: a namespace sub-package.
    "owpkg/routers/items.py": (
        "from fastapi import APIRouter\n"
        "from ..settings import LIMIT\n"
        "router = APIRouter()\n"
        "@router.get('/')\n"
        "async def list_items() -> list[int]:\n"
        '    """List items."""\n'
        "    return [LIMIT]\n"
    ),
    "owpkg/settings.py": "LIMIT = 3\n",
}


@pytest.mark.parametrize("reviewed", ["owpkg", "."])
def test_a_namespace_folder_inside_a_package_is_part_of_it(reviewed: str, tmp_path: Path) -> None:
    base = _tree(tmp_path, OWPKG)
    root = (base / reviewed).resolve()
    name, _aliases, is_package = module_names(base / "owpkg/routers/items.py", root, {"owpkg"})
    assert (name, is_package) == ("owpkg.routers.items", False)
    assert _routes(root) == [("GET", "/api/v1/items/", ["items"])]
    model = _model(root)
    # `from ..settings import LIMIT` inside the namespace folder resolves too.
    items = model.project.modules["owpkg.routers.items"]
    assert model.project.resolve_name(items, "LIMIT") == "owpkg.settings.LIMIT"
    assert _codes(root, "FAA705") == []


def test_a_namespace_folder_inside_a_package_without_import_evidence(tmp_path: Path) -> None:
    root = _tree(tmp_path, OWPKG) / "owpkg"
    # In a package inside the reviewed folder: the package name is the default.
    assert module_names(root / "routers/items.py", root) == (
        "owpkg.routers.items",
        ["routers.items"],
        False,
    )


def test_reviewing_the_namespace_folder_itself(tmp_path: Path) -> None:
    root = _tree(tmp_path, OWPKG) / "owpkg/routers"
    # Not in a package inside the reviewed folder: named by its path, as before, with the
    # full name as a candidate that the import evidence picks.
    assert module_names(root / "items.py", root) == ("items", ["owpkg.routers.items"], False)
    assert module_names(root / "items.py", root, {"owpkg"})[0] == "owpkg.routers.items"


def test_a_package_below_a_namespace_folder_inside_a_package(tmp_path: Path) -> None:
    # open-webui: `open_webui/routers/` has no `__init__.py`, `routers/audio/` has one
    files = dict(OWPKG)
    files["owpkg/routers/audio/__init__.py"] = (
        "from fastapi import APIRouter\n"
        "router = APIRouter()\n"
        "@router.get('/voices')\n"
        "async def voices() -> list[str]:\n"
        '    """The voices."""\n'
        "    return []\n"
    )
    files["owpkg/main.py"] += (
        "from owpkg.routers import audio\n"
        "app.include_router(audio.router, prefix='/api/v1/audio', tags=['audio'])\n"
    )
    root = _tree(tmp_path, files) / "owpkg"
    init = root / "routers/audio/__init__.py"
    assert module_names(init, root, {"owpkg"})[:1] == ("owpkg.routers.audio",)
    assert ("GET", "/api/v1/audio/voices", ["audio"]) in _routes(root)
    assert _codes(root, "FAA705") == []


# ------------------------------------------------------------ unchanged behaviours


def test_no_package_anywhere_is_named_by_its_path(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app/api/routes.py": "", "main.py": ""})
    assert module_names(root / "app/api/routes.py", root, {"app"}) == ("app.api.routes", [], False)
    assert module_names(root / "main.py", root) == ("main", [], False)


def test_namespace_folders_above_a_regular_package_stay_out_of_its_name(tmp_path: Path) -> None:
    # app/ has no __init__.py, app/core/ has one: `core.security` or `app.core.security`.
    root = _tree(tmp_path, {"app/core/__init__.py": "", "app/core/security.py": ""})
    assert module_names(root / "app/core/security.py", root) == (
        "core.security",
        ["app.core.security"],
        False,
    )
    assert module_names(root / "app/core/security.py", root, {"app"})[0] == "app.core.security"


def test_folders_that_are_not_identifiers_end_the_name_above_the_root(tmp_path: Path) -> None:
    base = _tree(
        tmp_path,
        {"not-a-name/__init__.py": "", "not-a-name/pkg/__init__.py": "", "not-a-name/pkg/x.py": ""},
    )
    root = base / "not-a-name/pkg"
    assert module_names(root / "x.py", root, {"pkg"}) == ("pkg.x", ["x"], False)


def test_a_reviewed_package_named_api_is_not_the_router_layer(tmp_path: Path) -> None:
    """Reviewing `fides/api` (the package `fides.api`, which imports itself by that name):
    its shared exception module is not a router module because of the package's name, so a
    service importing it is no layering break; its own `api/` package of routers is one."""
    root = (
        _tree(
            tmp_path,
            {
                "fides/__init__.py": "",
                "fides/api/__init__.py": "",
                "fides/api/common_exceptions.py": (
                    "from fastapi import HTTPException\n\n\n"
                    "class ConnectionException(Exception):\n    pass\n\n\n"
                    "class NotFound(HTTPException):\n    pass\n"
                ),
                "fides/api/api/__init__.py": "",
                "fides/api/api/deps.py": (
                    "from fastapi import Depends\n\n\ndef get_db() -> None:\n    return None\n"
                ),
                "fides/api/service/__init__.py": "",
                "fides/api/service/s3.py": (
                    "from fides.api.common_exceptions import ConnectionException\n"
                    "from fides.api.api.deps import get_db\n\n\n"
                    "def upload() -> None:\n    get_db()\n    raise ConnectionException()\n"
                ),
            },
        )
        / "fides/api"
    )
    assert _codes(root, "FAA503") == [("service/s3.py", 2)]
