"""App-wide auth middleware (every way it is registered) and annotation unwrapping."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.build import middleware_auth
from fastapi_architect.model.inventory import inventory
from fastapi_architect.model.types import unwrap_annotation
from fastapi_architect.review.engine import load_model


def _project(root: Path, main: str) -> list[tuple[str, str, bool, list[str] | None]]:
    (root / "main.py").write_text(main, encoding="utf-8")
    rows = inventory(load_model([root], Config(), root=root))
    return [(r.method, r.path, r.authenticated, r.auth) for r in rows]


ROUTES = """
@app.post("/items")
def create_item() -> dict[str, str]:
    return {}
"""


def test_constructor_middleware_authenticates(tmp_path: Path) -> None:
    rows = _project(
        tmp_path,
        "from fastapi import FastAPI\nfrom starlette.middleware import Middleware\n"
        "from auth import JWTAuthMiddleware\n"
        "app = FastAPI(middleware=[Middleware(JWTAuthMiddleware, secret='x')])\n" + ROUTES,
    )
    assert rows == [("POST", "/items", True, ["middleware JWTAuthMiddleware"])]


def test_add_middleware_and_decorator_middleware(tmp_path: Path) -> None:
    rows = _project(
        tmp_path,
        "from fastapi import FastAPI\napp = FastAPI()\n"
        "@app.middleware('http')\nasync def verify_token(request, call_next):\n"
        "    return await call_next(request)\n" + ROUTES,
    )
    assert rows == [("POST", "/items", True, ["middleware verify_token"])]


def test_csrf_and_session_middleware_do_not_authenticate(tmp_path: Path) -> None:
    rows = _project(
        tmp_path,
        "from fastapi import FastAPI\nfrom starlette.middleware.sessions import SessionMiddleware\n"
        "from csrf import CSRFTokenMiddleware\napp = FastAPI()\n"
        "app.add_middleware(SessionMiddleware, secret_key='k')\n"
        "app.add_middleware(CSRFTokenMiddleware)\n" + ROUTES,
    )
    assert rows == [("POST", "/items", False, None)]


@pytest.mark.parametrize(
    ("name", "authenticates"),
    [
        ("AuthMiddleware", True),
        ("APIKeyMiddleware", True),
        ("AuthenticationMiddleware", True),
        ("AuthorMiddleware", False),
        ("CSRFTokenMiddleware", False),
        ("RequestIDMiddleware", False),
        ("GZipMiddleware", False),
    ],
)
def test_middleware_names_match_whole_words(name: str, authenticates: bool) -> None:
    assert (middleware_auth([(name, ast.Pass())]) is not None) is authenticates


@pytest.mark.parametrize(
    ("annotation", "base"),
    [
        ("Item | None", "Item"),
        ("None | Item", "Item"),
        ("Optional[Item]", "Item"),
        ("dict | Item", "dict | Item"),
        ("Union[dict, Item]", "Union[dict, Item]"),
        ("Annotated[Item | None, Depends(f)]", "Item"),
    ],
)
def test_unions_are_only_unwrapped_around_none(tmp_path: Path, annotation: str, base: str) -> None:
    (tmp_path / "m.py").write_text(
        "from typing import Annotated, Optional, Union\nfrom fastapi import Depends\n"
        f"def f(x: {annotation}): ...\n",
        encoding="utf-8",
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    fn = model.project.function("m.f")
    assert fn is not None
    module = fn.module
    found, _, _ = unwrap_annotation(model.project, module, fn.node.args.args[0].annotation)
    assert found is not None and ast.unparse(found) == base


def test_a_generic_base_is_its_class(tmp_path: Path) -> None:
    (tmp_path / "repos.py").write_text(
        "from typing import Generic, TypeVar\n"
        "T = TypeVar('T')\n"
        "class Repository(Generic[T]):\n"
        "    def get(self, key: int) -> T: ...\n"
        "class UserRepository(Repository['User']):\n"
        "    pass\n",
        encoding="utf-8",
    )
    project = load_model([tmp_path], Config(), root=tmp_path).project
    assert project.mro("repos.UserRepository") == [
        "repos.UserRepository",
        "repos.Repository",
        "typing.Generic",
    ]
    method = project.method("repos.UserRepository", "get")
    assert method is not None and method.qualname == "repos.Repository.get"
