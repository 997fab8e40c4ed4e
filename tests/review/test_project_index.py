"""The project index: built once per run, on the run's model, never shared between runs."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel
from fastapi_architect.review.engine import load_model, review_paths
from fastapi_architect.review.index import (
    FunctionCache,
    ModelCache,
    may_resolve_to,
    nodes_of,
    project_index,
)
from fastapi_architect.review.rules._orm import state
from fastapi_architect.review.rules.orm_usage import tables

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
"""


def _model(root: Path, source: str = MODELS) -> AppModel:
    root.mkdir(parents=True, exist_ok=True)
    (root / "models.py").write_text(source)
    return load_model([root], Config(), root=root)


def test_a_part_is_built_once_per_model(tmp_path: Path) -> None:
    built: list[AppModel] = []

    def count(model: AppModel) -> int:
        built.append(model)
        return len(built)

    model = _model(tmp_path)
    assert project_index(model, count) == 1
    assert project_index(model, count) == 1
    assert built == [model]
    other = _model(tmp_path / "other")
    assert project_index(other, count) == 2
    assert project_index(model, count) == 1  # the first run's part is still its own


def test_nodes_of_gives_one_type_in_walk_order_from_one_walk_per_module(tmp_path: Path) -> None:
    model = _model(tmp_path)
    module = model.project.module_list[0]
    calls = nodes_of(model, module, ast.Call)
    assert calls == [n for n in ast.walk(module.tree) if isinstance(n, ast.Call)]
    assert [ast.unparse(c.func) for c in calls][:2] == ["mapped_column", "relationship"]
    assert nodes_of(model, module, ast.Call) is calls  # the module is walked once
    assert nodes_of(model, module, ast.Lambda) == []
    other = _model(tmp_path / "other")
    assert nodes_of(other, other.project.module_list[0], ast.Call) is not calls


def test_models_relationships_and_tables_come_from_one_index(tmp_path: Path) -> None:
    model = _model(tmp_path)
    orm = state(model)
    assert orm is state(model)
    assert {"models.Author", "models.Book"} <= set(orm.index.models)
    assert set(orm.index.models["models.Author"].relationships) == {"books"}
    table_index = tables(model)
    assert table_index is tables(model)
    assert set(table_index.by_table) == {"authors", "books"}
    # Both parts live on the model, so they go away with it.
    assert orm in model.derived.values() and table_index in model.derived.values()


def test_two_models_in_one_process_do_not_share_facts(tmp_path: Path) -> None:
    first = _model(tmp_path / "a")
    second = _model(tmp_path / "b", MODELS.replace('"books"', '"volumes"'))
    assert set(tables(first).by_table) == {"authors", "books"}
    assert set(tables(second).by_table) == {"authors", "volumes"}
    assert set(tables(first).by_table) == {"authors", "books"}  # interleaved: unchanged


def test_reviews_of_two_projects_interleave_without_leaking(tmp_path: Path) -> None:
    """The MCP server reviews several projects in one process: each run's facts are its own."""
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "models.py").write_text(MODELS)
    (loop / "api.py").write_text(
        "from fastapi import FastAPI\n"
        "from sqlalchemy.orm import Session\n"
        "from models import Author\n"
        "app = FastAPI()\n"
        "@app.get('/names', response_model=list[str])\n"
        "def names(session: Session) -> list[str]:\n"
        "    out = []\n"
        "    for author in session.query(Author).all():\n"
        "        out.extend(book.title for book in author.books)\n"
        "    return out\n"
    )
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "models.py").write_text(MODELS)
    first = review_paths([loop], Config(), root=loop)
    review_paths([clean], Config(), root=clean)
    again = review_paths([loop], Config(), root=loop)
    assert [f.code for f in first.findings] == [f.code for f in again.findings]
    assert "FAA401" in {f.code for f in first.findings}


def test_closure_and_per_function_caches_live_on_the_model(tmp_path: Path) -> None:
    cache: ModelCache[list[int]] = ModelCache()
    per_function: FunctionCache[str] = FunctionCache()
    model = _model(tmp_path)
    other = _model(tmp_path / "other")
    first = cache.get(model, lambda: [1])
    assert cache.get(model, lambda: [2]) is first
    assert cache.get(other, lambda: [3]) == [3]
    assert cache.get(model, lambda: [4]) is first  # another run does not evict it
    source = "def a() -> int:\n    return 1\n\n\ndef b() -> int:\n    return 2\n"
    run = _model(tmp_path / "fns", source)
    a, b = (run.project.functions[q] for q in ("models.a", "models.b"))
    assert per_function.get(run, a, lambda: "A") == "A"
    assert per_function.get(run, a, lambda: "again") == "A"
    assert per_function.get(run, b, lambda: "B") == "B"
    # Another run keeps its own facts, even for a function of the same node.
    assert per_function.get(_model(tmp_path / "fns2", source), a, lambda: "new run") == "new run"
    assert per_function.get(run, a, lambda: "again") == "A"


ALIASES = {
    "app/__init__.py": "",
    "app/errors.py": "from fastapi import HTTPException as Http\nfrom fastapi import exceptions\n",
    "app/reexport.py": "from app.errors import Http as Problem\n",
    "app/main.py": (
        "import fastapi\n"
        "import fastapi as fa\n"
        "from app import errors\n"
        "from app.reexport import Problem\n"
        "from app.star import *\n"
        "def handler():\n"
        "    from fastapi import HTTPException as Lazy\n"
        "    Local = Problem\n"
        "    fastapi.HTTPException(404)\n"
        "    fa.HTTPException(404)\n"
        "    errors.Http(404)\n"
        "    errors.exceptions.HTTPException(404)\n"
        "    Problem(404)\n"
        "    Lazy(404)\n"
        "    Starred(404)\n"
        "    Local(404)\n"
        "    print(404)\n"
        "    errors.Other(404)\n"
    ),
    "app/star.py": "from fastapi import HTTPException as Starred\n",
}
TARGETS = frozenset({"fastapi.HTTPException", "fastapi.exceptions.HTTPException"})


def test_may_resolve_to_never_rules_out_a_name_that_resolves_to_a_target(tmp_path: Path) -> None:
    for relpath, text in ALIASES.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    model = load_model([tmp_path], Config(), root=tmp_path)
    module = model.project.modules["app.main"]
    scope = model.project.functions["app.main.handler"]
    verdicts: dict[str, tuple[bool, bool]] = {}
    for node in ast.walk(scope.node):
        if isinstance(node, ast.Call):
            resolved = model.project.resolve(module, node.func, scope) in TARGETS
            verdicts[ast.unparse(node.func)] = (
                may_resolve_to(model, node.func, TARGETS),
                resolved,
            )
    # Sound: every call that resolves to a target passes the filter (an alias made in
    # another module, a lazy import, a chain of re-exports).
    for text in (
        "fastapi.HTTPException",
        "fa.HTTPException",
        "errors.Http",
        "errors.exceptions.HTTPException",
        "Problem",
        "Lazy",
    ):
        assert verdicts[text] == (True, True), text
    # Useful: names no alias leads to are ruled out without resolving them.
    assert verdicts["print"] == (False, False)
    assert verdicts["errors.Other"] == (False, False)
    # An alias brought in by a star import passes (the model does not follow it there).
    assert verdicts["Starred"][0] is True
    # A local bound to an alias is the local, for `resolve` too.
    assert verdicts["Local"] == (False, False)


def test_may_resolve_to_gives_up_when_the_project_shadows_the_targets_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "fastapi").mkdir()
    (tmp_path / "fastapi" / "__init__.py").write_text(
        "from app_errors import Boom as HTTPException\n"
    )
    (tmp_path / "main.py").write_text("import fastapi\nfastapi.Anything()\n")
    model = load_model([tmp_path], Config(), root=tmp_path)
    call = next(n for n in ast.walk(model.project.modules["main"].tree) if isinstance(n, ast.Call))
    assert may_resolve_to(model, call.func, TARGETS) is True


def test_registration_scan_covers_every_consumer() -> None:
    from fastapi_architect.review.rules import _callsites, concurrency

    assert concurrency._STARTUP_REGISTRARS <= _callsites.REGISTRAR_METHODS
    assert concurrency._STARTUP_KEYWORDS <= _callsites.REGISTRAR_KEYWORDS
    # concurrency and errors.leak_state read the shared sets themselves; what the scan
    # finds is what they act on: handlers added by method and passed by keyword.
    tmp = Path(tempfile.mkdtemp())
    (tmp / "main.py").write_text(
        "from fastapi import FastAPI\n"
        "async def boom(request, exc):\n    return None\n"
        "async def start():\n    return None\n"
        "app = FastAPI(exception_handlers={ValueError: boom})\n"
        "app.add_exception_handler(KeyError, boom)\n"
        "app.add_event_handler('startup', start)\n"
        "app.include_router(None)\n"
    )
    model = load_model([tmp], Config(), root=tmp)
    found = sorted(
        ast.unparse(site.node.func) for _, _, site in _callsites.registration_calls(model)
    )
    assert found == ["FastAPI", "app.add_event_handler", "app.add_exception_handler"]
