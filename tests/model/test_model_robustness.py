"""Inputs that must not hang or crash the model: cycles, exponential include graphs,
deep expressions, odd code."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_cycles_fixture_builds(model_of: Callable[[str], AppModel]) -> None:
    model = model_of("cycles")
    assert {r.handler.name for r in model.routes} == {"ping_a", "ping_b", "loop"}
    # Depends(thing) where `thing` is a re-export cycle, Depends(first) an alias cycle
    loop = next(r for r in model.routes if r.handler.name == "loop")
    assert model.auth_chain(loop, loop.mounts[0]) is None


def test_exponential_include_graph_is_bounded(tmp_path: Path) -> None:
    # r0 includes r1 twice, r1 includes r2 twice, ...: 2**24 ways to reach the last route.
    depth = 25
    lines = ["from fastapi import APIRouter, FastAPI", "app = FastAPI()"]
    lines += [f"r{i} = APIRouter()" for i in range(depth)]
    for i in range(depth - 1):
        lines.append(f'r{i}.include_router(r{i + 1}, prefix="/a")')
        lines.append(f'r{i}.include_router(r{i + 1}, prefix="/b")')
    lines += ["app.include_router(r0)", f'@r{depth - 1}.get("/leaf")', "def leaf(): ..."]
    root = _write(tmp_path, {"app/__init__.py": "", "app/main.py": "\n".join(lines) + "\n"})
    start = time.perf_counter()
    model = load_model([root], Config())
    rows = inventory(model)
    assert time.perf_counter() - start < 20
    [route] = model.routes
    assert 1 <= len(route.mounts) <= 32
    assert all(r["path"].endswith("/leaf") for r in (row.as_dict() for row in rows))


def test_deeply_nested_expressions_do_not_exhaust_the_stack(tmp_path: Path) -> None:
    prefix = "+".join(['"/a"'] * 900)  # near the parser's own limit
    root = _write(
        tmp_path,
        {
            "main.py": (
                "from fastapi import APIRouter, FastAPI\n"
                "app = FastAPI()\n"
                "router = APIRouter()\n"
                f"app.include_router(router, prefix={prefix})\n"
                '@router.get("/x")\ndef x(): ...\n'
            )
        },
    )
    model = load_model([root], Config())
    [row] = inventory(model)
    assert row.path == "{?}/x"  # too deep to evaluate: unknown, not a crash


def test_odd_code_does_not_crash(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "app/__init__.py": "from .main import *\n",
            "app/main.py": (
                "from fastapi import APIRouter, Depends, FastAPI\n"
                "from .missing import nowhere\n"
                "from .. import outside\n"
                "app = FastAPI(dependencies=nowhere)\n"
                "router = APIRouter(prefix=nowhere.PREFIX, tags=nowhere)\n"
                "app.include_router()\n"
                "app.include_router(*routers)\n"
                "app.include_router(**kwargs)\n"
                "app.include_router(nowhere.router)\n"
                "app.mount('/static', StaticFiles(directory='static'))\n"
                "router.add_api_route('/x')\n"
                "router.get()(lambda: None)\n"
                "@router.get\n"
                "def not_called(): ...\n"
                "@router.api_route('/m', methods=METHODS)\n"
                "def methods_unknown(x=Depends(), y: 'Broken[' = Depends(nowhere)): ...\n"
                "@app.get('/annotated')\n"
                "def annotated(x: Annotated[int] = 1, *args, **kwargs) -> 'NotAType[': ...\n"
                "for r in nowhere:\n"
                "    app.include_router(r)\n"
                "for (a, b) in [(router, '/p', 'extra')]:\n"
                "    app.include_router(a, prefix=b)\n"
                "app.include_router(router)\n"
            ),
            "broken.py": "def (:\n",
        },
    )
    model = load_model([root], Config())
    rows = [r.as_dict() for r in inventory(model)]
    assert [(r["method"], r["path"]) for r in rows] == [
        ("GET", "/annotated"),
        ("GET", "{?}/m"),
    ]


def test_many_modules_build_quickly(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/routers/__init__.py": ""}
    count = 300
    main = ["from fastapi import FastAPI", "from app.deps import CurrentUser", "app = FastAPI()"]
    for i in range(count):
        main.insert(0, f"from app.routers import r{i}")
        main.append(f'app.include_router(r{i}.router, prefix="/r{i}")')
        files[f"app/routers/r{i}.py"] = (
            "from fastapi import APIRouter\n"
            "from app.deps import CurrentUser\n"
            "from app.services import svc\n"
            f'router = APIRouter(prefix="/items{i}", tags=["t{i}"])\n'
            + "".join(
                f'@router.get("/{j}")\n'
                f"async def h{j}(user: CurrentUser) -> str:\n"
                f"    return svc.work{j % 5}(user)\n"
                for j in range(10)
            )
        )
    files["app/main.py"] = "\n".join(main) + "\n"
    files["app/deps.py"] = (
        "from typing import Annotated\n"
        "from fastapi import Depends\n"
        "from fastapi.security import OAuth2PasswordBearer\n"
        "scheme = OAuth2PasswordBearer(tokenUrl='t')\n"
        "def get_current_user(token: Annotated[str, Depends(scheme)]) -> str:\n"
        "    return token\n"
        "CurrentUser = Annotated[str, Depends(get_current_user)]\n"
    )
    files["app/services/svc.py"] = "".join(f"def work{k}(u):\n    return u\n" for k in range(5))
    root = _write(tmp_path, files)
    start = time.perf_counter()
    model = load_model([root], Config())
    rows = inventory(model)
    elapsed = time.perf_counter() - start
    assert len(rows) == count * 10
    assert all(r.authenticated for r in rows)
    assert elapsed < 20  # a guard against quadratic behaviour, not a benchmark
