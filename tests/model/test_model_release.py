"""A reviewed model is freed by reference counting once released, not left to the cyclic
garbage collector (which would scan every tree of the project in one pass)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.dependencies import walk_dependencies
from fastapi_architect.review.engine import load_model

APP = """
from fastapi import APIRouter, Depends, FastAPI

router = APIRouter(prefix="/items")


class Service:
    def get(self, item_id: int) -> dict[str, int]:
        return {"id": item_id}


def service() -> Service:
    return Service()


@router.get("/{item_id}")
async def read_item(item_id: int, svc: Service = Depends(service)) -> dict[str, int]:
    def inner() -> dict[str, int]:
        return svc.get(item_id)
    return inner()


app = FastAPI()
app.include_router(router)
"""


def _model_refs(tmp_path: Path, release: bool) -> list[weakref.ref[object]]:
    (tmp_path / "main.py").write_text(APP)
    model = load_model([tmp_path], Config(), root=tmp_path)
    assert model.routes and model.routers
    # Resolving dependencies fills per-run caches: they must go with the model.
    resolved = list(walk_dependencies(model.project, model.route_sites(model.routes[0])))
    assert [target.name for _site, target in resolved] == ["service"]
    del resolved
    module = model.project.module_list[0]
    refs: list[weakref.ref[object]] = [
        weakref.ref(module),
        weakref.ref(module.tree),
        weakref.ref(model.routes[0]),
        *(weakref.ref(fn) for fn in module.functions.values()),
        *(weakref.ref(cls) for cls in module.classes.values()),
        *(weakref.ref(router) for router in model.routers.values()),
    ]
    if release:
        model.release()
    del model, module
    return refs


def test_a_released_model_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        kept = _model_refs(tmp_path, release=False)
        # Without release the model's cycles keep it alive until the collector runs.
        assert any(ref() is not None for ref in kept)
        gc.collect()
        assert all(ref() is None for ref in kept)

        freed = _model_refs(tmp_path, release=True)
        assert [ref() for ref in freed] == [None] * len(freed)
    finally:
        if was_enabled:
            gc.enable()


def _garbage_after_review(tmp_path: Path, collector_on: bool) -> int:
    """How many unreachable objects a review leaves for the cyclic collector."""
    from fastapi_architect.review.engine import review_paths

    (tmp_path / "main.py").write_text(APP)
    gc.collect()
    if collector_on:
        gc.enable()
    else:
        gc.disable()
    review_paths([tmp_path], Config(), root=tmp_path)
    gc.disable()
    return gc.collect()


def test_a_review_frees_its_model_where_the_collector_runs(tmp_path: Path) -> None:
    was_enabled = gc.isenabled()
    try:
        # The command line holds the collector off and exits: the model is left as it is.
        left = _garbage_after_review(tmp_path, collector_on=False)
        # A library caller keeps it on: the review breaks the model's cycles first.
        freed = _garbage_after_review(tmp_path, collector_on=True)
    finally:
        if was_enabled:
            gc.enable()
    assert left > 150  # the model's modules, functions, routes, trees, ...
    assert freed < 20, (freed, left)
