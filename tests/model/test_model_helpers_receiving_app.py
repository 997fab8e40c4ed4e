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


def test_a_helper_configures_each_router_it_is_given(tmp_path: Path) -> None:
    """fief's `include_routers(router)`: called for two routers built in the call, it
    includes the same routers into each (hidden from the schema or not, as it says)."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "routers.py").write_text(
        "from fastapi import APIRouter\n"
        "auth_router = APIRouter()\n"
        "@auth_router.post('/login')\n"
        "def login() -> None: ...\n"
        "token_router = APIRouter()\n"
        "@token_router.post('/token')\n"
        "def token() -> None: ...\n"
    )
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import APIRouter, FastAPI\n"
        "from app.routers import auth_router, token_router\n"
        "def include_routers(router: APIRouter) -> APIRouter:\n"
        "    router.include_router(auth_router, include_in_schema=False)\n"
        "    router.include_router(token_router, prefix='/api')\n"
        "    return router\n"
        "default_router = include_routers(APIRouter())\n"
        "tenant_router = include_routers(APIRouter(prefix='/{tenant_slug}'))\n"
        "app = FastAPI()\n"
        "app.include_router(default_router)\n"
        "app.include_router(tenant_router)\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    rows = sorted((r.method, r.path, r.include_in_schema) for r in inventory(model))
    assert rows == [
        ("POST", "/api/token", True),
        ("POST", "/login", False),
        ("POST", "/{tenant_slug}/api/token", True),
        ("POST", "/{tenant_slug}/login", False),
    ]
    assert model.unresolved_includes == 0


def test_an_app_mounted_at_the_root_adds_no_slash(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        "from fastapi import FastAPI\n"
        "auth_app = FastAPI()\n"
        "@auth_app.post('/token')\n"
        "def token() -> None: ...\n"
        "admin_app = FastAPI()\n"
        "@admin_app.get('/users')\n"
        "def users() -> None: ...\n"
        "app = FastAPI()\n"
        "app.mount('/admin/', admin_app)\n"
        "app.mount('/', auth_app)\n"
    )
    rows = inventory(load_model([tmp_path], Config(), root=tmp_path))
    assert sorted((r.method, r.path) for r in rows) == [
        ("GET", "/admin/users"),
        ("POST", "/token"),
    ]
