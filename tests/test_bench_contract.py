"""The synthetic documents of bench/contract_speed.py: valid, deterministic, and different."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fastapi_architect.contract.document import (
    HTTP_METHODS,
    Document,
    resolve_pointer,
    validate,
)

GENERATOR = Path(__file__).resolve().parent.parent / "bench" / "contract_synthetic.py"
OPERATIONS = 50


def _load_generator() -> ModuleType:
    # bench/ is not a package: import the module by path.
    spec = importlib.util.spec_from_file_location("bench_contract_synthetic", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synth() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def pair(synth: ModuleType) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    base = synth.synthetic_document(OPERATIONS)
    revision, mutations = synth.mutate(base)
    return base, revision, mutations


def _operations(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in data["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("$ref"), str):
                found.append(current["$ref"])
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def test_both_documents_are_valid_openapi_31(
    pair: tuple[dict[str, Any], dict[str, Any], list[str]],
) -> None:
    base, revision, _ = pair
    for name, data in (("base", base), ("revision", revision)):
        validate(Document(name=name, data=data))  # raises DocumentError when invalid
        assert data["openapi"] == "3.1.0"


def test_every_ref_resolves_and_the_schemas_recurse(
    pair: tuple[dict[str, Any], dict[str, Any], list[str]],
) -> None:
    base, revision, _ = pair
    for data in (base, revision):
        refs = _refs(data)
        for target in set(refs):
            assert target.startswith("#/"), target
            resolve_pointer(data, target[1:])  # KeyError when dangling
    schemas = base["components"]["schemas"]
    # cycles the benchmark is about: a self-referencing tree, a link ring, a oneOf of refs
    tree = next(name for name in schemas if name.endswith("Tree"))
    assert f"#/components/schemas/{tree}" in _refs(schemas[tree])
    links = sorted(name for name in schemas if name.startswith("Link"))
    assert schemas[links[-1]]["properties"]["next"] == {"$ref": "#/components/schemas/Link0000"}
    event = next(name for name in schemas if name.endswith("Event") and "oneOf" in schemas[name])
    assert all("$ref" in member for member in schemas[event]["oneOf"])


def test_size_is_the_requested_number_of_operations(
    pair: tuple[dict[str, Any], dict[str, Any], list[str]],
) -> None:
    base, revision, _ = pair
    assert len(_operations(base)) == OPERATIONS
    assert _operations(revision) < _operations(base)  # one path (and its operations) removed


def test_revision_differs_by_the_mutations_it_lists(
    pair: tuple[dict[str, Any], dict[str, Any], list[str]],
) -> None:
    base, revision, mutations = pair
    assert base != revision
    kinds = {line.split(":", 1)[0] for line in mutations}
    assert kinds == {"property removed", "bound tightened", "enum value removed", "path removed"}
    removed_path = next(line.split(": ", 1)[1] for line in mutations if line.startswith("path"))
    assert removed_path in base["paths"]
    assert removed_path not in revision["paths"]
    for line in mutations:
        if line.startswith("property removed"):
            pointer = line.split(": ", 1)[1]
            resolve_pointer(base, pointer)
            with pytest.raises(KeyError):
                resolve_pointer(revision, pointer)


def test_generation_is_deterministic(
    synth: ModuleType, pair: tuple[dict[str, Any], dict[str, Any], list[str]]
) -> None:
    base, revision, mutations = pair
    again = synth.synthetic_document(OPERATIONS)
    assert json.dumps(again) == json.dumps(base)  # same content and key order
    assert synth.mutate(again) == (revision, mutations)
    assert synth.synthetic_document(OPERATIONS, seed=1) != base
