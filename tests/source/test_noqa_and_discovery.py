from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fastapi_architect.config import DEFAULT_EXCLUDES
from fastapi_architect.source.discovery import InputError, discover, is_excluded
from fastapi_architect.source.noqa import ALL, FileNoqa, is_suppressed, mentioned_lines, noqa_lines


def test_noqa_forms() -> None:
    source = (
        "a = 1  # noqa\n"
        "b = 2  # noqa: FAA201\n"
        "c = 3  # NOQA:FAA201,FAA208\n"
        "d = '# noqa'\n"
        "e = 5  # some comment # noqa: FAA301\n"
    )
    lines = noqa_lines(source)
    assert lines[1] is ALL
    assert lines[2] == frozenset({"FAA201"})
    assert lines[3] == frozenset({"FAA201", "FAA208"})
    assert 4 not in lines  # inside a string, not a comment
    assert lines[5] == frozenset({"FAA301"})
    assert is_suppressed(lines, 1, "FAA999")
    assert is_suppressed(lines, 2, "FAA201")
    assert not is_suppressed(lines, 2, "FAA208")
    assert not is_suppressed(lines, 4, "FAA201")


def test_noqa_on_untokenizable_source_falls_back_to_text() -> None:
    lines = noqa_lines("x = (  # noqa: FAA101\n")
    assert lines[1] == frozenset({"FAA101"})


def test_mentioned_lines_number_lines_as_the_parser_does() -> None:
    assert mentioned_lines("a = 1\r\nb = 2  # NoQA\r\nc = 'noqa'\n") == {2, 3}
    assert mentioned_lines("x = 1\n") == frozenset()
    # A lone \r ends a line for the parser; a form feed does not.
    assert mentioned_lines("a = 1\rb = 2  # noqa\n") == {2}
    assert mentioned_lines("a = 1\n\x0c\nb = 2  # noqa\n") == {3}
    assert mentioned_lines("a = 1\x0cb = 2  # noqa\n") == {1}


def test_noqa_in_a_file_with_carriage_return_line_ends() -> None:
    # The parser numbers lines at a lone \r too, so the comment is on line 2 (the
    # tokenizer alone put it on line 1, and on Python 3.12+ failed on the non-ASCII name).
    source = "x = 1\r\u00e9t\u00e9 = 2  # noqa: FAA101\ry = 3\r"
    assert [node.lineno for node in ast.parse(source).body] == [1, 2, 3]
    assert noqa_lines(source) == {2: frozenset({"FAA101"})}
    assert FileNoqa(source).suppresses(2, "FAA101")
    assert not FileNoqa(source).suppresses(1, "FAA101")


@pytest.mark.parametrize(
    "source",
    [
        "a = 1  # noqa\nb = '# noqa: FAA101'\nc = 3  # noqa: FAA101, FAA102\nd = 4\n",
        'a = """\n# noqa\n"""  # noqa: FAA201\nb = 2\r\n',
        "a = 1\rb = 2  # noqa: FAA101\r\x0cc = 3  # NOQA\n",
        "x = (  # noqa: FAA101\n",
        "plain = 1\n",
    ],
)
def test_file_noqa_answers_as_noqa_lines(source: str) -> None:
    every = noqa_lines(source)
    lines = range(1, source.count("\n") + source.count("\r") + 3)
    for code in ("FAA101", "FAA102", "FAA201"):
        noqa = FileNoqa(source)
        for line in lines:
            assert noqa.suppresses(line, code) == is_suppressed(every, line, code), (line, code)


def test_file_noqa_tokenizes_only_for_lines_that_mention_noqa() -> None:
    noqa = FileNoqa("a = 1\nb = '# noqa'\nc = 3  # noqa\n")
    assert not noqa.suppresses(1, "FAA101")
    assert noqa._lines is None
    assert not noqa.suppresses(2, "FAA101")  # the text says noqa, in a string
    assert noqa._lines == {3: ALL}
    assert noqa.suppresses(3, "FAA101")


def test_discover_missing_path() -> None:
    with pytest.raises(InputError, match="path does not exist"):
        discover([Path("/definitely/not/here")], ())


def test_discover_excludes_and_sorting(tmp_path: Path) -> None:
    for rel in ("b.py", "a.py", "pkg/c.py", ".venv/x.py", "pkg/__pycache__/c.py", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    found = [
        p.relative_to(tmp_path.resolve()).as_posix() for p in discover([tmp_path], DEFAULT_EXCLUDES)
    ]
    assert found == ["a.py", "b.py", "pkg/c.py"]


def test_explicit_file_is_always_included(tmp_path: Path) -> None:
    file = tmp_path / "build" / "x.py"
    file.parent.mkdir()
    file.write_text("x = 1\n")
    assert discover([file], DEFAULT_EXCLUDES) == [file.resolve()]


@pytest.mark.parametrize(
    ("rel", "patterns", "excluded"),
    [
        ("migrations/versions/001.py", ("migrations/versions",), True),
        ("app/migrations/versions/001.py", ("migrations/versions",), False),
        ("app/x.egg-info/y.py", ("*.egg-info",), True),
        ("legacy/a.py", ("legacy/*",), True),
        ("src/legacy.py", ("legacy",), False),
    ],
)
def test_is_excluded(rel: str, patterns: tuple[str, ...], excluded: bool) -> None:
    assert is_excluded(Path(rel), patterns) is excluded
