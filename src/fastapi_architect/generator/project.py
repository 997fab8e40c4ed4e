"""`new NAME`: a complete service rendered from `templates/project` into an empty folder.

Everything is rendered in memory first, then written into a hidden sibling folder
that is renamed into place: a failure leaves no half-written project behind, and
an existing non-empty folder is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.render import TEMPLATES, RenderedFile, render_tree, write_files

# a folder name that is also a valid distribution name and Docker image name
_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
DEFAULT_DESCRIPTION = "A FastAPI service."


@dataclass(frozen=True)
class ProjectPlan:
    name: str
    destination: Path
    files: list[RenderedFile]


def title_of(name: str) -> str:
    """ "orders-service" -> "Orders Service"."""
    return " ".join(part.capitalize() for part in re.split(r"[-_]", name))


def plan_project(name: str, parent: Path, description: str = DEFAULT_DESCRIPTION) -> ProjectPlan:
    """Check the name and the destination, and render every file (nothing is written)."""
    if not _NAME.fullmatch(name):
        raise GeneratorError(
            f"invalid project name {name!r}: use lowercase letters, digits and single "
            "hyphens or underscores, starting with a letter (e.g. orders-service)"
        )
    if "\n" in description or "\r" in description:
        raise GeneratorError("the description must be one line")
    destination = parent / name
    if destination.exists() and not destination.is_dir():
        raise GeneratorError(f"{destination} exists and is not a folder")
    if destination.is_dir() and any(destination.iterdir()):
        raise GeneratorError(f"{destination} exists and is not empty; nothing was written")
    if parent.exists() and not parent.is_dir():
        raise GeneratorError(f"{parent} is not a folder")
    variables = {
        "project_name": name,
        "project_title": title_of(name),
        "description": description.strip() or DEFAULT_DESCRIPTION,
    }
    return ProjectPlan(name, destination, render_tree(TEMPLATES / "project", variables))


def create_project(plan: ProjectPlan) -> Path:
    """Write the planned project; returns its folder."""
    parent = plan.destination.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plan.name}-", dir=parent))
    except OSError as exc:
        raise GeneratorError(f"cannot create {plan.destination}: {exc.strerror or exc}") from exc
    try:
        write_files(staging, plan.files)
        _make_executable(staging)
        # an empty destination folder is replaced as a whole (rename onto an empty
        # folder is atomic on POSIX); a missing one is simply created by the rename
        os.replace(staging, plan.destination)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise GeneratorError(f"cannot create {plan.destination}: {exc.strerror or exc}") from exc
    return plan.destination


def _make_executable(root: Path) -> None:
    for script in root.glob("scripts/*.sh"):
        script.chmod(0o755)
