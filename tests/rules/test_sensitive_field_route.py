"""FAA106 names, for a field many routes send, the route that exposes it most: an
unauthenticated one first, then one that is not the caller's own data (`/me`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

HEADER = """
from fastapi import Depends, FastAPI
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

oauth2 = OAuth2PasswordBearer(tokenUrl="token")
app = FastAPI()


class UserOut(BaseModel):
    id: int
    api_key: str


def current_user(token: str = Depends(oauth2)) -> UserOut:
    return UserOut(id=1, api_key=token)

"""

ME = """
@app.get("/me", response_model=UserOut)
def read_me(user: UserOut = Depends(current_user)) -> UserOut:
    return user

"""

OTHER = """
@app.get("/users/{user_id}", response_model=UserOut)
def read_user(user_id: int, user: UserOut = Depends(current_user)) -> UserOut:
    return user

"""

PUBLIC = """
@app.get("/public/{user_id}", response_model=UserOut)
def read_public(user_id: int) -> UserOut:
    return UserOut(id=user_id, api_key="k")
"""


def _message(tmp_path: Path, source: str) -> str:
    (tmp_path / "main.py").write_text(source, encoding="utf-8")
    config = replace(Config(), select=("FAA106",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    assert [(f.code, f.line) for f in result.findings] == [("FAA106", 12)]
    return result.findings[0].message


def test_another_users_data_is_named_before_the_callers_own(tmp_path: Path) -> None:
    message = _message(tmp_path, HEADER + ME + OTHER)
    assert "`read_user` (GET /users/{user_id}) and 1 other route:" in message


def test_an_unauthenticated_route_is_named_first(tmp_path: Path) -> None:
    message = _message(tmp_path, HEADER + ME + OTHER + PUBLIC)
    assert "`read_public` (GET /public/{user_id}) and 2 other routes:" in message


def test_a_single_route_is_named_alone(tmp_path: Path) -> None:
    message = _message(tmp_path, HEADER + ME)
    assert "`read_me` (GET /me): remove it" in message


TWICE = """
from fastapi import APIRouter

v1 = APIRouter()


@v1.get("/users/{user_id}", response_model=UserOut)
def read_user(user_id: int, user: UserOut = Depends(current_user)) -> UserOut:
    return user


app.include_router(v1, prefix="/v1")
app.include_router(v1, prefix="/v2")
"""


def test_each_path_a_route_is_served_at_counts(tmp_path: Path) -> None:
    message = _message(tmp_path, HEADER + ME + TWICE)
    assert "`read_user` (GET /v1/users/{user_id}) and 2 other routes:" in message


def test_an_app_in_the_tests_does_not_make_a_route_unauthenticated(tmp_path: Path) -> None:
    # `/me` is served by the app behind `current_user`, and by a test app without it.
    routed = (
        '@router.get("/me", response_model=UserOut)\n'
        "def read_me() -> UserOut:\n"
        '    return UserOut(id=1, api_key="k")\n\n'
    )
    include = "router = APIRouter()\n" + routed + OTHER
    include += "app.include_router(router, dependencies=[Depends(current_user)])\n"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_me.py").write_text(
        "from fastapi import FastAPI\nfrom main import router\n"
        "test_app = FastAPI()\ntest_app.include_router(router)\n",
        encoding="utf-8",
    )
    message = _message(
        tmp_path, HEADER.replace("Depends, FastAPI", "APIRouter, Depends, FastAPI") + include
    )
    assert "`read_user` (GET /users/{user_id}) and 1 other route:" in message
