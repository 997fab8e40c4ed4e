"""Root confinement: what `Root.resolve` accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_architect.assistant.paths import PathError, Root


@pytest.fixture
def root(tmp_path: Path) -> Root:
    inside = tmp_path / "root"
    (inside / "pkg").mkdir(parents=True)
    (inside / "pkg" / "mod.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("s\n", encoding="utf-8")
    (inside / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (inside / "in").symlink_to(inside / "pkg", target_is_directory=True)
    (inside / "loop").symlink_to(inside / "loop")
    return Root.of(inside)


def test_paths_inside(root: Root) -> None:
    assert root.resolve(".") == root.path
    assert root.resolve("") == root.path
    assert root.resolve("pkg/mod.py", kind="file") == root.path / "pkg" / "mod.py"
    assert root.resolve("pkg/../pkg", kind="dir") == root.path / "pkg"
    assert root.resolve(str(root.path / "pkg")) == root.path / "pkg"
    # A link that stays inside the root is followed.
    assert root.resolve("in/mod.py") == root.path / "pkg" / "mod.py"
    assert root.resolve("new/file.md", must_exist=False) == root.path / "new" / "file.md"
    assert root.relative(root.path / "pkg" / "mod.py") == "pkg/mod.py"
    assert root.relative(root.path) == "."


@pytest.mark.parametrize(
    "raw", ["..", "../outside", "pkg/../../outside/secret.txt", "/etc", "out", "out/secret.txt"]
)
def test_paths_outside(root: Root, raw: str) -> None:
    with pytest.raises(PathError, match="is outside the project root"):
        root.resolve(raw)
    with pytest.raises(PathError, match="is outside the project root"):
        root.resolve(raw, must_exist=False)


def test_a_sibling_with_the_same_prefix_is_outside(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app-secrets").mkdir()
    with pytest.raises(PathError, match="outside"):
        Root.of(tmp_path / "app").resolve("../app-secrets")


def test_bad_paths(root: Root) -> None:
    with pytest.raises(PathError, match="path does not exist: 'nope'"):
        root.resolve("nope")
    with pytest.raises(PathError, match="not a file"):
        root.resolve("pkg", kind="file")
    with pytest.raises(PathError, match="not a folder"):
        root.resolve("pkg/mod.py", kind="dir")
    with pytest.raises(PathError, match="NUL"):
        root.resolve("pkg\x00")
    with pytest.raises(PathError):
        root.resolve("loop")
    with pytest.raises(PathError, match="not a folder"):
        Root.of(root.path / "pkg" / "mod.py")
