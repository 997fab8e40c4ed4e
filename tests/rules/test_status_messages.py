"""FAA706 suggests a name that works with the project's Starlette: the `status` names of
413, 414, 416 and 422 changed in Starlette 0.48, so for those it suggests the standard
library's `HTTPStatus` name, which every version accepts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

SOURCE = (
    "from fastapi import FastAPI, HTTPException\n"
    "app = FastAPI()\n"
    "@app.get('/items/{item_id}')\n"
    "def read(item_id: int) -> dict[str, int]:\n"
    "    if item_id < 0:\n"
    "        raise HTTPException(422, 'negative')\n"
    "    if item_id > 9:\n"
    "        raise HTTPException(404, 'missing')\n"
    "    return {'id': item_id}\n"
)


def test_renamed_statuses_get_the_standard_library_name(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    config = replace(Config(), select=("FAA706",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    messages = {f.line: f.message for f in result.findings}
    assert sorted(messages) == [6, 8]
    assert "`HTTPStatus.UNPROCESSABLE_ENTITY`" in messages[6]
    assert "HTTP_422_UNPROCESSABLE_CONTENT" in messages[6]  # why: the rename is named
    assert messages[8].endswith("use `status.HTTP_404_NOT_FOUND`")
