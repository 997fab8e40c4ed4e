"""Code frames show the line a finding is on, numbered as the parser numbers lines:
a form feed (which `str.splitlines` breaks at, and the parser does not) moves nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.baseline import fingerprints
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.fixes import apply_fixes
from fastapi_architect.review.result import ReviewResult
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


def _review(root: Path, use_cache: bool = False) -> ReviewResult:
    config = replace(Config(), select=("FAA706",), extend_select=(), ignore=())
    return review_paths([root], config, root=root, use_cache=use_cache)


def test_frames_from_the_cache_are_those_of_the_review(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    cold = _review(tmp_path, use_cache=True)
    warm = _review(tmp_path, use_cache=True)
    assert warm.findings == cold.findings
    assert warm.sources == cold.sources
    assert "HTTPException(404)" in warm.sources["main.py"][6]


def test_fix_and_diff_in_a_file_with_a_form_feed(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    outcome = apply_fixes(_review(tmp_path), unsafe=False, write=True)
    assert outcome.failed == []
    assert [f.line for f in outcome.fixed] == [7]
    # The hunk counts lines as the file has them: the comment with the form feed is one
    # (the import line changes too, so one hunk spans the file).
    assert "@@ -1,8 +1,8 @@" in outcome.diff  # eight lines, not nine
    assert "-        raise HTTPException(404)\n" in outcome.diff
    text = (tmp_path / "main.py").read_text(encoding="utf-8")
    assert "raise HTTPException(status.HTTP_404_NOT_FOUND)" in text
    assert "# first section\x0c second half of the comment\n" in text


def test_baseline_fingerprints_read_the_reported_statement(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    result = _review(tmp_path)
    from_sources = fingerprints(result, tmp_path)
    from_files = fingerprints(replace(result, sources={}), tmp_path)
    assert from_files == from_sources
    assert from_sources[0].statement == "raise HTTPException ( 404 )"


def test_source_lines_keep_their_ends() -> None:
    assert source_lines("a\x0cb\r\nc\rd\n", keepends=True) == ["a\x0cb\r\n", "c\r", "d\n"]
    assert source_lines("a\nb", keepends=True) == ["a\n", "b"]
    assert source_lines("", keepends=True) == []


def test_frames_of_a_file_that_does_not_parse(tmp_path: Path) -> None:
    # FAA000's file is read again for its frame (its text was never kept): split the
    # parser's way too, or the frame shows the line before the syntax error.
    (tmp_path / "broken.py").write_text("x = 1\n# part one\x0c part two\ndef f(:\n", "utf-8")
    config = replace(Config(), select=("FAA000",), extend_select=(), ignore=())
    result = review_paths([tmp_path], config, root=tmp_path)
    assert [(f.code, f.line) for f in result.findings] == [("FAA000", 3)]
    assert result.sources["broken.py"][2] == "def f(:"
