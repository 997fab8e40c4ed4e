"""Code frames show the line a finding is on, numbered as the parser numbers lines:
a form feed (which `str.splitlines` breaks at, and the parser does not) moves nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.source.noqa import source_lines

SOURCE = (
    "from fastapi import FastAPI, HTTPException\n"
    "app = FastAPI()\n"
    "# first section\x0c second half of the comment\n"
    "@app.get('/items/{item_id}')\n"
    "def read(item_id: int) -> dict[str, int]:\n"
    "    if item_id < 0:\n"
    "        raise HTTPException(404)\n"
    "    return {'id': item_id}\n"
)


def test_frames_follow_the_parsers_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    config = replace(Config(), select=("FAA706",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    assert [(f.file, f.line) for f in result.findings] == [("main.py", 7)]
    assert "HTTPException(404)" in result.sources["main.py"][6]


def test_source_lines_break_where_the_parser_does() -> None:
    assert source_lines("a\x0cb\r\nc\rd\n") == ["a\x0cb", "c", "d"]
    assert source_lines("a\n\n") == ["a", ""]
    assert source_lines("") == []
