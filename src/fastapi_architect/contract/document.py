"""Reading OpenAPI documents: files (JSON or YAML) and `git-ref:path` blobs.

Everything that can be wrong with an input ends as a `DocumentError` naming the
file, the line when known, and what is wrong; the CLI turns it into exit 2.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from fastapi_architect.contract.changes import unescape_pointer_token

# the libyaml C loader is ~10x faster; fall back when PyYAML was built without it
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.2 booleans, as OpenAPI 3.1 asks: only true/false. YAML 1.1 also
    reads `yes`, `no`, `on`, `off` as booleans, which turns a query parameter
    named `on` into `True` and an enum of `[yes, no]` into booleans."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class DocumentError(Exception):
    """An input that cannot be read or is not an OpenAPI 3.x document."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass
class Document:
    """A parsed OpenAPI document. `name` is what reports call it."""

    name: str
    data: dict[str, Any]
    text: str | None = field(default=None, repr=False)
    base_dir: Path | None = None

    @property
    def version(self) -> str:
        return str(self.data.get("openapi", ""))

    @cached_property
    def _lines(self) -> dict[str, int]:
        return _pointer_lines(self.text) if self.text is not None else {}

    def line_of(self, pointer: str) -> int | None:
        """1-based line of the node at `pointer`, or of its nearest ancestor."""
        if self.text is None:
            return None
        lines = self._lines
        while True:
            if pointer in lines:
                return lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


def load_document(spec: str, *, cwd: Path | None = None) -> Document:
    """Load `spec`: a file path, or `REF:PATH` naming a file at a git revision."""
    cwd = cwd or Path.cwd()
    candidate = cwd / spec
    if candidate.is_file():
        return _load_file(candidate, spec)
    if candidate.is_dir():
        raise DocumentError(spec, "is a directory, not an OpenAPI document")
    ref_path = _split_git_spec(spec)
    if ref_path is None:
        raise DocumentError(spec, "no such file")
    ref, path = ref_path
    text = read_git_blob(ref, path, cwd=cwd, spec=spec)
    return parse_document(text, name=spec, suffix=Path(path).suffix)


def _split_git_spec(spec: str) -> tuple[str, str] | None:
    # `C:\x.json` is a Windows path, not a ref; a ref never contains a backslash
    if ":" not in spec or re.match(r"^[A-Za-z]:[\\/]", spec):
        return None
    ref, _, path = spec.partition(":")
    if not ref or not path:
        return None
    return ref, path.lstrip("/")


def read_git_blob(ref: str, path: str, *, cwd: Path, spec: str) -> str:
    try:
        result = subprocess.run(
            ["git", "show", f"{ref}:{path}"],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise DocumentError(spec, "git is not installed, cannot read a git revision") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else "git show failed"
        raise DocumentError(spec, f"not a file and not readable from git: {reason}")
    return _decode(result.stdout, spec)


def _load_file(path: Path, name: str) -> Document:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(name, f"cannot read: {exc.strerror or exc}") from None
    doc = parse_document(_decode(raw, name), name=name, suffix=path.suffix)
    doc.base_dir = path.parent
    return doc


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(name, f"not UTF-8 (byte {exc.start})", line) from None


def parse_document(text: str, *, name: str, suffix: str = "") -> Document:
    """Parse JSON or YAML text and check it is an OpenAPI 3.0 or 3.1 document."""
    data = _parse(text, name, suffix.lower())
    doc = Document(name=name, data=data, text=text)
    validate(doc)
    return doc


def _parse(text: str, name: str, suffix: str) -> Any:
    looks_json = suffix == ".json" or (
        suffix not in (".yaml", ".yml") and text.lstrip()[:1] in "{["
    )
    if looks_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if suffix == ".json":
                raise DocumentError(name, f"invalid JSON: {exc.msg}", exc.lineno) from None
        except RecursionError:
            raise DocumentError(name, "invalid JSON: nested too deeply") from None
    if not text.strip():
        raise DocumentError(name, "empty document")
    try:
        return _string_keys(yaml.load(text, Loader=_YamlLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise DocumentError(name, f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise DocumentError(name, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise DocumentError(name, "invalid YAML: nested too deeply") from None


def _string_keys(node: Any) -> Any:
    """YAML reads `200:` as an int and `2024-01-01` as a date; JSON never does.
    Keys become strings so both formats give the same document."""
    if isinstance(node, dict):
        return {
            (k if isinstance(k, str) else _scalar_text(k)): _string_keys(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def validate(doc: Document) -> None:
    """The structural checks the differ relies on; the first problem is raised."""
    data: Any = doc.data

    def fail(pointer: str, message: str) -> None:
        raise DocumentError(doc.name, message, doc.line_of(pointer))

    if not isinstance(data, Mapping):
        fail("", f"expected an OpenAPI object (a mapping), found {_kind(data)}")
    if "swagger" in data and "openapi" not in data:
        fail("/swagger", "Swagger 2.0 is not supported: convert it to OpenAPI 3 first")
    version = data.get("openapi")
    if version is None:
        fail("", "not an OpenAPI document: the `openapi` field is missing")
    if not re.match(r"^3\.[01](\.\d+)?(-.+)?$", str(version)):
        fail("/openapi", f"unsupported OpenAPI version {version!r} (3.0 and 3.1 are supported)")
    paths = data.get("paths", {})
    if paths is None:
        paths = data["paths"] = {}
    if not isinstance(paths, Mapping):
        fail("/paths", f"`paths` must be a mapping, found {_kind(paths)}")
    for template, item in paths.items():
        where = "/paths/" + str(template).replace("~", "~0").replace("/", "~1")
        if not isinstance(template, str) or not template.startswith("/"):
            fail(where, f"path {template!r} must start with '/'")
        if item is None:
            continue
        if not isinstance(item, Mapping):
            fail(where, f"path item {template} must be a mapping, found {_kind(item)}")
        _check_parameters(item.get("parameters"), f"{where}/parameters", fail)
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            op_where = f"{where}/{method}"
            if not isinstance(op, Mapping):
                fail(op_where, f"operation {method.upper()} {template} must be a mapping")
            _check_parameters(op.get("parameters"), f"{op_where}/parameters", fail)
            responses = op.get("responses")
            if responses is not None and not isinstance(responses, Mapping):
                fail(f"{op_where}/responses", "`responses` must be a mapping")
    components = data.get("components")
    if components is not None and not isinstance(components, Mapping):
        fail("/components", "`components` must be a mapping")


def _check_parameters(params: Any, where: str, fail: Any) -> None:
    if params is None:
        return
    if not isinstance(params, list):
        fail(where, "`parameters` must be a list")
    for index, param in enumerate(params):
        if not isinstance(param, Mapping):
            fail(f"{where}/{index}", "a parameter must be a mapping")
        if "$ref" in param:
            continue
        if "name" not in param or "in" not in param:
            fail(f"{where}/{index}", "a parameter needs `name` and `in`")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def _pointer_lines(text: str) -> dict[str, int]:
    """Map JSON pointers to 1-based lines. Only called when a line is needed
    (errors, SARIF/GitHub output), because composing a big document is slow."""
    try:
        root = yaml.compose(text, Loader=_YamlLoader)
    except (yaml.YAMLError, RecursionError):
        return {}
    lines: dict[str, int] = {}
    stack: list[tuple[str, yaml.Node]] = [("", root)] if root is not None else []
    while stack:
        pointer, node = stack.pop()
        lines.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                token = str(key.value).replace("~", "~0").replace("/", "~1")
                child = f"{pointer}/{token}"
                lines.setdefault(child, key.start_mark.line + 1)
                stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                stack.append((f"{pointer}/{index}", value))
    return lines


def resolve_pointer(data: Any, pointer: str) -> Any:
    """The node at a JSON pointer (`KeyError` when there is none)."""
    node = data
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = unescape_pointer_token(raw)
        if isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise KeyError(pointer) from None
        elif isinstance(node, Mapping):
            if token in node:
                node = node[token]
            elif token.isdigit() and int(token) in node:  # YAML turns `200:` into an int key
                node = node[int(token)]
            else:
                raise KeyError(pointer)
        else:
            raise KeyError(pointer)
    return node
