"""Severities and messages the fixtures cannot show: FAA606, FAA603 and FAA703 raise a
finding to an error when the code is not only dated or sloppy but broken; FAA601 names
the status of the response it reads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths


def _review(tmp_path: Path, code: str, source: str) -> list[tuple[int, str, str]]:
    path = tmp_path / "main.py"
    path.write_text(source, encoding="utf-8")
    config = replace(Config(), select=(code,), extend_select=(), ignore=())
    result = review_paths([path], config, root=tmp_path)
    assert result.internal_errors == []
    return [(f.line, f.severity, f.message) for f in result.findings if f.code == code]


def test_on_event_next_to_a_lifespan_never_runs(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        "FAA606",
        "from contextlib import asynccontextmanager\n"
        "from fastapi import FastAPI\n"
        "@asynccontextmanager\n"
        "async def lifespan(app):\n"
        "    yield\n"
        "app = FastAPI(lifespan=lifespan)\n"
        "old = FastAPI()\n"
        "@app.on_event('startup')\n"
        "async def a(): ...\n"
        "@old.on_event('startup')\n"
        "async def b(): ...\n",
    )
    assert [(line, severity) for line, severity, _ in found] == [(8, "error"), (10, "warning")]
    assert "never runs" in found[0][2]


def test_swallowing_in_a_write_route_is_an_error(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        "FAA603",
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "async def work(): ...\n"
        "@app.post('/a')\n"
        "async def a():\n"
        "    try:\n"
        "        await work()\n"
        "    except Exception:\n"
        "        return {'ok': False}\n"
        "@app.get('/b')\n"
        "async def b():\n"
        "    try:\n"
        "        await work()\n"
        "    except Exception:\n"
        "        return {'ok': False}\n",
    )
    assert [(line, severity) for line, severity, _ in found] == [(8, "error"), (14, "warning")]


def test_no_content_with_a_response_model_fails_at_startup(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        "FAA703",
        "from fastapi import FastAPI\n"
        "from pydantic import BaseModel\n"
        "class Item(BaseModel):\n"
        "    name: str\n"
        "app = FastAPI()\n"
        "@app.delete('/a', status_code=204, response_model=Item)\n"
        "def a(): ...\n"
        "@app.delete('/b', status_code=204)\n"
        "def b():\n"
        "    return {'x': 1}\n",
    )
    assert [(line, severity) for line, severity, _ in found] == [(6, "error"), (10, "warning")]


def test_delete_convention_is_reported_once_per_app(tmp_path: Path) -> None:
    routes = "".join(
        f"@app.delete('/{name}/{{item_id}}')\ndef delete_{name}(item_id: int) -> None: ...\n"
        for name in ("a", "b", "c", "d", "e")
    )
    found = _review(tmp_path, "FAA702", "from fastapi import FastAPI\napp = FastAPI()\n" + routes)
    assert [(line, severity) for line, severity, _ in found] == [(3, "info")]
    assert "the other 4 DELETE routes of its app (`app` in `main.py`)" in found[0][2]
    assert "no DELETE route of the app answers 204" in found[0][2]
    # Four are not yet a convention: each is reported.
    four = routes.split("@app.delete('/e/")[0]
    found = _review(tmp_path, "FAA702", "from fastapi import FastAPI\napp = FastAPI()\n" + four)
    assert len(found) == 4


def test_a_response_a_helper_builds_has_no_status_of_the_route(tmp_path: Path) -> None:
    """FAA601: `return await form.error_response(f"... {e!r}")` answers with the status the
    helper gives its response (fief's form pages answer 400), not the route's 200; a
    returned dict is the route's body, with the route's status."""
    found = _review(
        tmp_path,
        "FAA601",
        "import jinja2\n"
        "from fastapi import FastAPI, Response\n"
        "app = FastAPI()\n"
        "class FormHelper:\n"
        "    async def error_response(self, error: str) -> Response:\n"
        "        return Response(error, status_code=400)\n"
        "def render(text: str) -> str:\n"
        "    return jinja2.Template(text).render()\n"
        "@app.post('/preview')\n"
        "async def preview(text: str) -> Response:\n"
        "    form = FormHelper()\n"
        "    try:\n"
        "        return Response(render(text))\n"
        "    except jinja2.TemplateError as e:\n"
        "        return await form.error_response(f'The template is invalid: {e!r}')\n"
        "@app.post('/check')\n"
        "async def check(text: str) -> dict[str, str]:\n"
        "    try:\n"
        "        return {'out': render(text)}\n"
        "    except jinja2.TemplateError as e:\n"
        "        return {'error': f'The template is invalid: {e!r}'}\n",
    )
    assert [(line, severity) for line, severity, _ in found] == [(15, "warning"), (21, "warning")]
    assert found[0][2].endswith("to the client")
    assert found[1][2].endswith("to the client in a 200 response")
