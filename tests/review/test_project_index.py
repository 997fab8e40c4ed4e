"""The project index: built once per run, on the run's model, never shared between runs."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel
from fastapi_architect.review.engine import load_model, review_paths
from fastapi_architect.review.index import FunctionCache, ModelCache, nodes_of, project_index
from fastapi_architect.review.rules._orm import state
from fastapi_architect.review.rules.orm_usage import tables

MODELS = '''
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
'''


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
