"""Copy a template tree: `.jinja` files are rendered with Jinja2, every other file is copied.

A path segment that starts with `dot-` is written with a leading dot instead
(`dot-gitignore` -> `.gitignore`, `dot-github/` -> `.github/`): hidden files and a
`.gitignore` inside this package would be skipped by packaging tools or would
apply to this repository itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
SUFFIX = ".jinja"
DOT_PREFIX = "dot-"


@dataclass(frozen=True)
class RenderedFile:
    """One file of a rendered tree: where it goes (relative) and its bytes."""

    path: Path
    content: bytes


def _environment(root: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # the output is source code, not HTML
    )


def render_tree(root: Path, variables: Mapping[str, object]) -> list[RenderedFile]:
    """Render every file under `root`, in path order, without writing anything."""
    environment = _environment(root)
    rendered: list[RenderedFile] = []
    for source in sorted(root.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(root)
        if source.name.endswith(SUFFIX):
            template = environment.get_template(relative.as_posix())
            text = template.render(**variables)
            target = _output_path(relative.with_name(source.name[: -len(SUFFIX)]))
            rendered.append(RenderedFile(target, text.encode("utf-8")))
        else:
            rendered.append(RenderedFile(_output_path(relative), source.read_bytes()))
    return rendered


def _output_path(relative: Path) -> Path:
    parts = ["." + p[len(DOT_PREFIX) :] if p.startswith(DOT_PREFIX) else p for p in relative.parts]
    return Path(*parts)


def write_files(destination: Path, files: list[RenderedFile]) -> None:
    """Write rendered files under `destination`, creating folders as needed."""
    for file in files:
        target = destination / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.content)
