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


def _inventory(tmp_path: Path, main: str) -> list[tuple[str, str]]:
    (tmp_path / "main.py").write_text(main)
    rows = inventory(load_model([tmp_path], Config(), root=tmp_path))
    return sorted((r.method, r.path) for r in rows)


HELPER = (
    "from fastapi import APIRouter, Depends, FastAPI\n"
    "sub = APIRouter()\n"
    "@sub.get('/inc')\n"
    "def inc() -> None: ...\n"
    "def include_routers(router: APIRouter) -> APIRouter:\n"
    "    router.include_router(sub)\n"
    "    return router\n"
    "app = FastAPI()\n"
)


def test_a_give_back_helper_called_with_named_routers(tmp_path: Path) -> None:
    assert _inventory(
        tmp_path,
        HELPER + "r1 = APIRouter(prefix='/one')\n"
        "r2 = APIRouter(prefix='/two')\n"
        "a = include_routers(r1)\n"
        "b = include_routers(r2)\n"
        "app.include_router(a)\n"
        "app.include_router(b)\n",
    ) == [("GET", "/one/inc"), ("GET", "/two/inc")]


def test_a_router_built_in_an_unbound_call_is_not_another_callers(tmp_path: Path) -> None:
    # `include_routers(APIRouter(prefix=...))` bound to no name: left unresolved, not
    # taken for the first caller's router (which would list `/inc` twice).
    (tmp_path / "main.py").write_text(
        HELPER + "default_router = include_routers(APIRouter())\n"
        "app.include_router(default_router)\n"
        "app.include_router(include_routers(APIRouter(prefix='/{tenant}')))\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    assert [r.full_paths for r in model.routes] == [["/inc"]]
    assert model.unresolved_includes == 1


def test_a_helper_that_rebinds_its_parameter_gives_back_its_own_router(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        "from fastapi import APIRouter, Depends, FastAPI\n"
        "def auth() -> None: ...\n"
        "def versioned(router: APIRouter) -> APIRouter:\n"
        "    router = APIRouter(prefix='/v2', dependencies=[Depends(auth)])\n"
        "    return router\n"
        "r = versioned(APIRouter(prefix='/v1'))\n"
        "@r.get('/x')\n"
        "def x() -> None: ...\n"
        "app = FastAPI()\n"
        "app.include_router(r)\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    assert [(r.full_paths, len(r.mounts[0].dependencies)) for r in model.routes] == [
        (["/v2/x"], 1)
    ]


def test_a_helper_with_other_arguments_is_read_for_its_first_caller(tmp_path: Path) -> None:
    # `setup(app, router)` includes a different router for each caller: applying every
    # caller's app to the first caller's router would invent `/api/one` under app2.
    (tmp_path / "main.py").write_text(
        "from fastapi import APIRouter, FastAPI\n"
        "r1 = APIRouter()\n"
        "@r1.get('/one')\n"
        "def one() -> None: ...\n"
        "def setup(app: FastAPI, router: APIRouter) -> None:\n"
        "    app.include_router(router, prefix='/api')\n"
        "app1 = FastAPI()\n"
        "app2 = FastAPI()\n"
        "setup(app1, r1)\n"
        "setup(app2, APIRouter())\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    assert [(m.app.key if m.app else None, m.path) for m in model.routes[0].mounts] == [
        ("main.app1", "/api/one")
    ]


def test_a_helper_with_other_parameters_is_read_for_its_first_caller(tmp_path: Path) -> None:
    # `attach(parent, child)` includes a different child for each caller: spreading the
    # first caller's child to every parent would invent `/admin/users`.
    (tmp_path / "main.py").write_text(
        "from fastapi import APIRouter, FastAPI\n"
        "users = APIRouter(prefix='/users')\n"
        "@users.post('')\n"
        "def create_user() -> None: ...\n"
        "audit = APIRouter(prefix='/audit')\n"
        "@audit.get('')\n"
        "def read_audit() -> None: ...\n"
        "def attach(parent: APIRouter, child: APIRouter) -> APIRouter:\n"
        "    parent.include_router(child)\n"
        "    return parent\n"
        "api = APIRouter(prefix='/api')\n"
        "admin_api = APIRouter(prefix='/admin')\n"
        "attach(api, users)\n"
        "attach(admin_api, audit)\n"
        "app = FastAPI()\n"
        "app.include_router(api)\n"
        "app.include_router(admin_api)\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    paths = [path for route in model.routes for path in route.full_paths]
    assert "/api/users" in paths
    assert "/admin/users" not in paths


def test_the_router_a_helper_is_given_back_from_a_factory(tmp_path: Path) -> None:
    # `app = setup_cors(get_application())`: the app the factory builds, with its routes
    # (and a router built in a helper's call with other arguments is still its name's).
    assert _inventory(
        tmp_path,
        "from fastapi import APIRouter, FastAPI\n"
        "def get_application() -> FastAPI:\n"
        "    application = FastAPI()\n"
        "    return application\n"
        "def setup_cors(app: FastAPI, origins: list[str] | None = None) -> FastAPI:\n"
        "    return app\n"
        "def tagged(router: APIRouter, tag: str = 'x') -> APIRouter:\n"
        "    return router\n"
        "app = setup_cors(get_application())\n"
        "items = tagged(APIRouter(prefix='/items'), 'items')\n"
        "@app.get('/health')\n"
        "def health() -> str:\n"
        "    return 'ok'\n"
        "@items.get('/')\n"
        "def list_items() -> list[str]:\n"
        "    return []\n"
        "app.include_router(items)\n",
    ) == [("GET", "/health"), ("GET", "/items/")]
