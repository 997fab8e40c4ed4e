"""Class-based views (fastapi-utils `@cbv(router)`): routes on methods, and the class
attributes that every route of the class depends on."""

from __future__ import annotations

from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model

VIEWS = """
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import OAuth2PasswordBearer
from fastapi_utils.cbv import cbv

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
router = APIRouter(prefix="/notes")


def get_current_user(token: str = Depends(oauth2_scheme)) -> str:
    return token


@cbv(router)
class NoteViews:
    user: str = Depends(get_current_user)

    @router.get("")
    def list_notes(self) -> list[str]:
        return []

    @router.post("", status_code=201)
    def create_note(self, text: str) -> str:
        return text


@cbv(router)
class PublicViews:
    @router.get("/public")
    def public_notes(self) -> list[str]:
        return []


app = FastAPI()
app.include_router(router)
"""


def test_routes_on_methods_and_class_attribute_dependencies(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(VIEWS, encoding="utf-8")
    rows = inventory(load_model([tmp_path], Config(), root=tmp_path))
    found = {(r.method, r.path, r.handler, r.status_code): r.auth for r in rows}
    assert found == {
        ("GET", "/notes", "views.NoteViews.list_notes", None): [
            "get_current_user",
            "oauth2_scheme (OAuth2PasswordBearer)",
        ],
        ("POST", "/notes", "views.NoteViews.create_note", 201): [
            "get_current_user",
            "oauth2_scheme (OAuth2PasswordBearer)",
        ],
        ("GET", "/notes/public", "views.PublicViews.public_notes", None): None,
    }


def test_class_body_calls_do_not_replace_module_calls(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(VIEWS, encoding="utf-8")
    model = load_model([tmp_path], Config(), root=tmp_path)
    module_calls = {site.target for site in model.callgraph.calls["views"]}
    class_calls = {site.target for site in model.callgraph.calls["views.NoteViews"]}
    assert "fastapi.APIRouter" in module_calls
    assert "fastapi.Depends" in class_calls


ALIASED = """
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import OAuth2PasswordBearer
from fastapi_utils.cbv import cbv as class_based_view
import fastapi_restful.cbv as views

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
a = APIRouter(prefix="/a")
b = APIRouter(prefix="/b")


def get_current_user(token: str = Depends(oauth2_scheme)) -> str:
    return token


@class_based_view(a)
class A:
    user: str = Depends(get_current_user)

    @a.delete("/{item_id}", status_code=204)
    def delete_a(self, item_id: int) -> None:
        return None


@views.cbv(b)
class B:
    user: str = Depends(get_current_user)

    @b.delete("/{item_id}", status_code=204)
    def delete_b(self, item_id: int) -> None:
        return None


class Plain:
    user: str = Depends(get_current_user)

    async def read(self) -> list[str]:
        return []


plain = Plain()
app = FastAPI()
app.include_router(a)
app.include_router(b)
app.add_api_route("/plain", plain.read)
"""


def test_cbv_under_another_name_and_a_plain_class(tmp_path: Path) -> None:
    """`cbv` imported under another name is the same decorator; a plain class's
    `Depends()` attributes are nothing to FastAPI when its bound method is an endpoint."""
    (tmp_path / "views.py").write_text(ALIASED, encoding="utf-8")
    rows = inventory(load_model([tmp_path], Config(), root=tmp_path))
    found = {(r.method, r.path): r.auth for r in rows}
    auth = ["get_current_user", "oauth2_scheme (OAuth2PasswordBearer)"]
    assert found == {
        ("DELETE", "/a/{item_id}"): auth,
        ("DELETE", "/b/{item_id}"): auth,
        ("GET", "/plain"): None,
    }
