"""`REF:PATH` inputs of the contract guard, read from a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fastapi_architect.contract.document import DocumentError, load_document


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The test's git must not read the user's configuration (signing, hooks, templates).
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet")
    return root


def openapi(title: str, paths: list[str]) -> str:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": {p: {"get": {"responses": {"200": {"description": "OK"}}}} for p in paths},
    }
    return json.dumps(doc, indent=2)


YAML_DOC = """\
openapi: 3.0.3
info:
  title: Yaml
  version: "1"
paths:
  /things:
    get:
      responses:
        200:
          description: OK
"""


def test_json_at_two_commits(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("v1", ["/pets", "/pets/{id}"])}, "v1")
    commit(repo, {"openapi.json": openapi("v2", ["/pets"])}, "v2")

    old = load_document("HEAD~1:openapi.json", cwd=repo)
    new = load_document("HEAD:openapi.json", cwd=repo)

    assert old.name == "HEAD~1:openapi.json"
    assert old.data["info"]["title"] == "v1"
    assert sorted(old.data["paths"]) == ["/pets", "/pets/{id}"]
    assert new.data["info"]["title"] == "v2"
    assert sorted(new.data["paths"]) == ["/pets"]


def test_yaml_in_a_subdirectory(repo: Path) -> None:
    commit(repo, {"api/openapi.yaml": YAML_DOC}, "yaml")

    doc = load_document("HEAD:api/openapi.yaml", cwd=repo)

    assert doc.version == "3.0.3"
    # YAML's integer key `200:` comes out as the string JSON would give
    assert doc.data["paths"]["/things"]["get"]["responses"] == {"200": {"description": "OK"}}
    # the text is kept, so reports can point at lines of the blob
    assert doc.line_of("/paths/~1things/get") == 7


def test_branch_name_as_ref(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("on main", ["/a"])}, "first")
    git(repo, "branch", "release")
    commit(repo, {"openapi.json": openapi("later", ["/a"])}, "second")

    assert load_document("release:openapi.json", cwd=repo).data["info"]["title"] == "on main"


def test_unknown_ref(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("v1", ["/a"])}, "v1")

    with pytest.raises(DocumentError) as info:
        load_document("no-such-branch:openapi.json", cwd=repo)

    assert info.value.source == "no-such-branch:openapi.json"
    assert "not readable from git" in info.value.reason
    assert "no-such-branch" in info.value.reason


def test_missing_path_at_ref(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("v1", ["/a"])}, "v1")

    with pytest.raises(DocumentError) as info:
        load_document("HEAD:api/missing.json", cwd=repo)

    assert info.value.source == "HEAD:api/missing.json"
    assert "api/missing.json" in info.value.reason
    assert "does not exist" in info.value.reason


def test_path_added_after_the_ref(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("v1", ["/a"])}, "v1")
    commit(repo, {"new.json": openapi("new", ["/a"])}, "v2")

    assert load_document("HEAD:new.json", cwd=repo).data["info"]["title"] == "new"
    with pytest.raises(DocumentError, match=r"new\.json' exists on disk, but not in 'HEAD~1'"):
        load_document("HEAD~1:new.json", cwd=repo)


def test_file_on_disk_wins_over_ref_parsing(repo: Path) -> None:
    commit(repo, {"openapi.json": openapi("committed", ["/a"])}, "v1")
    # a file whose name looks like `REF:PATH` is read as a file
    (repo / "HEAD:openapi.json").write_text(openapi("on disk", ["/b"]), encoding="utf-8")

    doc = load_document("HEAD:openapi.json", cwd=repo)

    assert doc.data["info"]["title"] == "on disk"
    assert doc.base_dir == repo


def test_invalid_document_at_ref_names_the_blob_and_line(repo: Path) -> None:
    commit(repo, {"api.yaml": "openapi: 3.1.0\ninfo:\n  title: [unclosed\n"}, "broken")

    with pytest.raises(DocumentError) as info:
        load_document("HEAD:api.yaml", cwd=repo)

    assert info.value.source == "HEAD:api.yaml"
    assert info.value.reason.startswith("invalid YAML")
    assert str(info.value).startswith("HEAD:api.yaml:")
    assert info.value.line is not None


def test_not_openapi_at_ref(repo: Path) -> None:
    commit(repo, {"package.json": '{"name": "x"}'}, "npm")

    with pytest.raises(DocumentError, match="`openapi` field is missing"):
        load_document("HEAD:package.json", cwd=repo)


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()

    with pytest.raises(DocumentError, match="not readable from git"):
        load_document("HEAD:openapi.json", cwd=plain)
