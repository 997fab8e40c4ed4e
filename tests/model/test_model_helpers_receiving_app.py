"""Apps and routers passed to helper functions (`setup_routes(app)`) are followed
through the helpers' callers, across modules."""

from __future__ import annotations

from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model


def _rows(root: Path, files: dict[str, str]) -> list[tuple[str, str, list[str] | None]]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [(r.method, r.path, r.auth) for r in inventory(load_model([root], Config(), root=root))]


def test_include_router_inside_a_setup_helper(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/items.py": (
                "from fastapi import APIRouter\nrouter = APIRouter(prefix='/items')\n"
                "@router.post('')\ndef create_item() -> dict[str, str]:\n    return {}\n"
            ),
            "app/setup.py": (
                "from fastapi import Depends, FastAPI\nfrom app import items\n"
                "from app.deps import get_current_user\n"
                "def setup_routes(app: FastAPI, prefix: str = '/api') -> None:\n"
                "    app.include_router(items.router, prefix='/api',"
                " dependencies=[Depends(get_current_user)])\n"
            ),
            "app/deps.py": "def get_current_user() -> str:\n    return 'me'\n",
            "app/main.py": (
                "from fastapi import FastAPI\nfrom app.setup import setup_routes\n"
                "app = FastAPI()\nsetup_routes(app)\n"
            ),
        },
    )
    assert rows == [("POST", "/api/items", ["get_current_user"])]


def test_middleware_registered_by_a_helper_authenticates(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "main.py": (
                "from fastapi import FastAPI\n"
                "def add_auth_middleware(app: FastAPI) -> None:\n"
                "    @app.middleware('http')\n"
                "    async def auth_middleware(request, call_next):\n"
                "        return await call_next(request)\n"
                "def create_app() -> FastAPI:\n"
                "    application = FastAPI()\n"
                "    add_auth_middleware(app=application)\n"
                "    @application.post('/items')\n"
                "    def create_item() -> dict[str, str]:\n"
                "        return {}\n"
                "    return application\n"
            )
        },
    )
    assert rows == [("POST", "/items", ["middleware auth_middleware"])]


def test_helper_with_star_args_is_not_guessed(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "main.py": (
                "from fastapi import APIRouter, FastAPI\n"
                "router = APIRouter()\n"
                "@router.get('/x')\ndef x() -> int:\n    return 1\n"
                "def register(*apps):\n    for a in apps:\n        a.include_router(router, prefix='/v1')\n"
                "app = FastAPI()\nregister(app)\n"
            )
        },
    )
    assert rows == [("GET", "/x", None)]
