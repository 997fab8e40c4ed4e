"""FAA708's advice for one handler under two decorators of one route: stacked
decorators register bottom-up, so the upper one never answers; when the one that answers
is hidden from the schema, removing the upper one would drop the operation from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

SOURCE = """from fastapi import Depends, FastAPI
app = FastAPI()
def auth() -> None: ...
@app.post("/runs/{run_id}/cancel/", tags=["agent"])
@app.post("/runs/{run_id}/cancel/", include_in_schema=False)
def cancel_run(run_id: str) -> None:
    return None
@app.post("/runs/{run_id}/retry/")
@app.post("/runs/{run_id}/retry/")
def retry_run(run_id: str) -> None:
    return None
@app.get("/runs")
@app.get("/runs", tags=["runs"])
@app.get("/runs", include_in_schema=False)
def list_runs() -> None:
    return None
@app.delete("/runs/{run_id}")
@app.delete("/runs/{run_id}", include_in_schema=False, dependencies=[Depends(auth)])
def delete_run(run_id: str) -> None:
    return None
"""


def test_stacked_registrations_name_the_one_to_remove(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    config = replace(Config(), select=("FAA708",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    assert [(f.line, f.message) for f in result.findings] == [
        (
            4,
            "`cancel_run` is registered twice for POST `/runs/{run_id}/cancel/`: this "
            "registration, the one in the OpenAPI schema, is never used (the hidden one "
            "answers); remove the hidden one",
        ),
        (
            8,
            "`retry_run` is registered twice for POST `/runs/{run_id}/retry/`: this "
            "registration is never used (the other one answers); remove it",
        ),
        # Three stacked: the lowest answers, each of the two above is reported once.
        (12, hidden_message("list_runs", "GET", "/runs")),
        (13, hidden_message("list_runs", "GET", "/runs")),
        # The hidden one that answers also checks auth: removing it would drop the check.
        (
            17,
            "`delete_run` is registered twice for DELETE `/runs/{run_id}`: this "
            "registration is never used (the other one answers); remove it",
        ),
    ]


def hidden_message(handler: str, method: str, path: str) -> str:
    return (
        f"`{handler}` is registered twice for {method} `{path}`: this registration, the one "
        "in the OpenAPI schema, is never used (the hidden one answers); remove the hidden one"
    )


def test_across_routers_the_advice_names_no_winner(tmp_path: Path) -> None:
    """Across routers the order of `add_api_route`/`include_router` calls decides which
    registration answers (here the authenticated one, added before the router is
    included): the advice does not guess, it tells to keep the one with the dependencies."""
    (tmp_path / "main.py").write_text(
        "from fastapi import APIRouter, Depends, FastAPI\n"
        "from fastapi.security import HTTPBearer\n"
        "bearer = HTTPBearer()\n"
        "app = FastAPI()\n"
        "router = APIRouter()\n"
        "@router.get('/items')\n"
        "def items() -> list[str]:\n"
        "    return []\n"
        "app.add_api_route('/items', items, dependencies=[Depends(bearer)])\n"
        "app.include_router(router)\n",
        encoding="utf-8",
    )
    config = replace(Config(), select=("FAA708",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    assert [(f.line, f.message) for f in result.findings] == [
        (
            9,
            "`items` is registered twice for GET `/items` (also at main.py:6): only one of "
            "the two answers; keep the one with the dependencies the route needs",
        )
    ]


def test_a_helper_run_for_alternative_routers_is_no_duplicate(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        "import os\n"
        "from fastapi import APIRouter, FastAPI\n"
        "def add_items(router: APIRouter) -> APIRouter:\n"
        "    @router.get('/items')\n"
        "    def items() -> list[str]:\n"
        "        return []\n"
        "    return router\n"
        "app = FastAPI()\n"
        "r1 = APIRouter()\n"
        "r2 = APIRouter()\n"
        "if os.environ.get('V2'):\n"
        "    app.include_router(add_items(r1))\n"
        "else:\n"
        "    app.include_router(add_items(r2))\n",
        encoding="utf-8",
    )
    config = replace(Config(), select=("FAA708",), extend_select=(), ignore=())
    assert review_paths([tmp_path], config, root=tmp_path).findings == []
