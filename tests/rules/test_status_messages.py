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


def _messages(
    root: Path, files: dict[str, str], code: str = "FAA706"
) -> dict[tuple[str, int], str]:
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    config = replace(Config(), select=(code,), extend_select=(), ignore=())
    result = review_paths([root], config, root=root)
    return {(f.file, f.line): f.message for f in result.findings}


HTTPSTATUS_MODULE = "from http import HTTPStatus\n" + SOURCE
STATUS_MODULE = "from fastapi import status\n" + SOURCE


def test_a_module_that_imports_httpstatus_is_told_httpstatus_names(tmp_path: Path) -> None:
    messages = _messages(tmp_path, {"main.py": HTTPSTATUS_MODULE})
    # Python 3.13 names 422 UNPROCESSABLE_CONTENT, and keeps the older name, which
    # every supported version has.
    assert messages[("main.py", 7)].endswith("use `HTTPStatus.UNPROCESSABLE_ENTITY`")
    assert messages[("main.py", 9)].endswith("use `HTTPStatus.NOT_FOUND`")


def test_a_module_that_imports_both_is_told_status_names(tmp_path: Path) -> None:
    both = "from http import HTTPStatus\n" + STATUS_MODULE
    messages = _messages(tmp_path, {"main.py": both})
    assert messages[("main.py", 10)].endswith("use `status.HTTP_404_NOT_FOUND`")


def test_a_module_that_imports_neither_follows_the_project(tmp_path: Path) -> None:
    files = {"a.py": HTTPSTATUS_MODULE, "b.py": HTTPSTATUS_MODULE, "c.py": STATUS_MODULE}
    messages = _messages(tmp_path, {**files, "main.py": SOURCE})
    assert messages[("main.py", 8)].endswith("use `HTTPStatus.NOT_FOUND`")
    assert messages[("c.py", 9)].endswith("use `status.HTTP_404_NOT_FOUND`")  # its own


def test_a_tie_gives_fastapis_status_names(tmp_path: Path) -> None:
    files = {"a.py": HTTPSTATUS_MODULE, "c.py": STATUS_MODULE, "main.py": SOURCE}
    messages = _messages(tmp_path, files)
    assert messages[("main.py", 8)].endswith("use `status.HTTP_404_NOT_FOUND`")


CREATE = (
    "from fastapi import FastAPI\n"
    "app = FastAPI()\n"
    "@app.post('/users')\n"
    "def create_user(name: str) -> dict[str, str]:\n"
    "    return {'name': name}\n"
)


def test_faa701_asks_for_the_named_201_in_the_code_s_style(tmp_path: Path) -> None:
    plain = _messages(tmp_path, {"main.py": CREATE}, "FAA701")
    assert "declare `status_code=status.HTTP_201_CREATED`" in plain[("main.py", 3)]
    (tmp_path / "main.py").unlink()
    styled = _messages(tmp_path, {"api.py": "from http import HTTPStatus\n" + CREATE}, "FAA701")
    assert "declare `status_code=HTTPStatus.CREATED`" in styled[("api.py", 4)]


def test_a_module_whose_httpstatus_means_something_else_is_told_status(tmp_path: Path) -> None:
    nested = SOURCE.replace(
        "def read(item_id: int) -> dict[str, int]:\n",
        "def read(item_id: int) -> dict[str, int]:\n    from http import HTTPStatus\n",
    )
    files = {"a.py": HTTPSTATUS_MODULE, "b.py": HTTPSTATUS_MODULE, "main.py": nested}
    messages = _messages(tmp_path, files)
    # Only top-level imports set the style, and the fix cannot add the import there.
    assert messages[("main.py", 9)].endswith("use `status.HTTP_404_NOT_FOUND`")
    assert messages[("a.py", 9)].endswith("use `HTTPStatus.NOT_FOUND`")
