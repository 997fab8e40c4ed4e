"""`--app` inputs: a real FastAPI app exported in a subprocess, at git refs."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fastapi_architect.contract.app_source import AppSourceError, document_at_ref, export_openapi
from fastapi_architect.contract.differ import diff_documents

V1 = """\
from fastapi import FastAPI

app = FastAPI(title="Pets", version="1")


@app.get("/pets")
def list_pets() -> list[str]:
    return []


@app.get("/pets/{pet_id}")
def get_pet(pet_id: int) -> dict[str, int]:
    return {"id": pet_id}
"""

# /pets/{pet_id} removed, and /pets needs a new required query parameter
V2 = """\
from fastapi import FastAPI

app = FastAPI(title="Pets", version="2")


@app.get("/pets")
def list_pets(owner: str) -> list[str]:
    return [owner]


def create_app() -> FastAPI:
    return app


NOT_AN_APP = "just a string"
"""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    write(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def worktrees(repo: Path) -> list[str]:
    listing = git(repo, "worktree", "list", "--porcelain")
    return [line for line in listing.splitlines() if line.startswith("worktree ")]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Git without the user's configuration, and a private temporary folder to
    check that checkouts leave nothing behind."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


@pytest.fixture
def repo(tmp_path: Path, isolated: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet")
    commit(root, {"main.py": V1}, "v1")
    commit(root, {"main.py": V2}, "v2")
    return root


def test_documents_at_two_commits(repo: Path, isolated: Path) -> None:
    old = document_at_ref("HEAD~1", "main:app", cwd=repo)
    new = document_at_ref("HEAD", "main:app", cwd=repo)

    assert old.name == "HEAD~1:main:app"
    assert old.text is None
    assert old.data["info"]["version"] == "1"
    assert sorted(old.data["paths"]) == ["/pets", "/pets/{pet_id}"]
    assert "parameters" not in old.data["paths"]["/pets"]["get"]

    assert new.data["info"]["version"] == "2"
    assert sorted(new.data["paths"]) == ["/pets"]
    [owner] = new.data["paths"]["/pets"]["get"]["parameters"]
    assert (owner["name"], owner["in"], owner["required"]) == ("owner", "query", True)

    # the checkouts are gone: git knows only the main worktree, the temp folder is empty
    assert worktrees(repo) == [f"worktree {repo}"]
    assert list(isolated.iterdir()) == []
    # and the user's own tree was not touched
    assert git(repo, "status", "--porcelain") == ""


def test_differ_sees_the_removed_route(repo: Path) -> None:
    old = document_at_ref("HEAD~1", "main:app", cwd=repo)
    new = document_at_ref("HEAD", "main:app", cwd=repo)

    changes = diff_documents(old, new)

    breaking = {(c.id, c.operation, c.path) for c in changes if c.breaking}
    assert ("api-path-removed-without-deprecation", "GET", "/pets/{pet_id}") in breaking
    assert ("new-required-request-parameter", "GET", "/pets") in breaking


def test_inside_a_git_hook_the_main_index_is_untouched(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git sets GIT_INDEX_FILE for pre-commit hooks; the checkout must not use that index
    index = repo / ".git" / "index"
    before = index.read_bytes()
    monkeypatch.setenv("GIT_INDEX_FILE", str(index))

    document_at_ref("HEAD~1", "main:app", cwd=repo)

    assert index.read_bytes() == before
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert git(repo, "status", "--porcelain") == ""


def test_branch_and_sha_refs(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD~1").strip()
    git(repo, "branch", "release", sha)

    assert "/pets/{pet_id}" in document_at_ref(sha, "main:app", cwd=repo).data["paths"]
    assert "/pets/{pet_id}" in document_at_ref("release", "main:app", cwd=repo).data["paths"]


@pytest.mark.parametrize("ref", ["WORKTREE", "."])
def test_working_tree_includes_uncommitted_edits(repo: Path, ref: str) -> None:
    write(repo, {"main.py": V1.replace('"/pets"', '"/animals"')})

    doc = document_at_ref(ref, "main:app", cwd=repo)

    assert doc.name == f"{ref}:main:app"
    assert sorted(doc.data["paths"]) == ["/animals", "/pets/{pet_id}"]
    assert worktrees(repo) == [f"worktree {repo}"]


def test_app_in_a_subdirectory(tmp_path: Path, isolated: Path) -> None:
    repo = tmp_path / "mono"
    repo.mkdir()
    git(repo, "init", "--quiet")
    commit(repo, {"README": "no service yet\n"}, "start")
    commit(repo, {"service/main.py": V1}, "service v1")
    commit(repo, {"service/main.py": V2, "main.py": "raise SystemExit('wrong main')\n"}, "v2")

    # `main` is looked up in service/ of the checkout, not at its top
    doc = document_at_ref("HEAD~1", "main:app", cwd=repo / "service")
    assert doc.data["info"]["version"] == "1"

    with pytest.raises(AppSourceError, match=r"`service` does not exist at `HEAD~2`"):
        document_at_ref("HEAD~2", "main:app", cwd=repo / "service")
    assert worktrees(repo) == [f"worktree {repo}"]
    assert list(isolated.iterdir()) == []


def test_broken_import_reports_the_error_and_cleans_up(repo: Path, isolated: Path) -> None:
    commit(repo, {"main.py": "import os\n\nimport not_installed_package\n"}, "broken")

    with pytest.raises(AppSourceError) as info:
        document_at_ref("HEAD", "main:app", cwd=repo)

    message = str(info.value)
    assert message.startswith("`main:app`: cannot import module `main`: ModuleNotFoundError")
    assert "No module named 'not_installed_package'" in message
    # the last lines of the traceback point at the user's line
    assert 'File "main.py", line 3, in <module>' in message
    assert "import not_installed_package" in message
    assert worktrees(repo) == [f"worktree {repo}"]
    assert list(isolated.iterdir()) == []
    # a missing module may mean the wrong interpreter: the message says which one ran
    assert message.endswith(
        f"(the app was imported with `{sys.executable}`: is that the project's environment?)"
    )


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(AppSourceError, match="no such directory"):
        document_at_ref("HEAD", "main:app", cwd=tmp_path / "gone")
    with pytest.raises(AppSourceError, match="no such directory"):
        export_openapi("main:app", cwd=tmp_path / "gone")


def test_exception_raised_while_importing(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "raise RuntimeError('DATABASE_URL is not set')\n"})

    with pytest.raises(AppSourceError, match="RuntimeError: DATABASE_URL is not set"):
        export_openapi("main:app", cwd=tmp_path)


def test_sys_exit_while_importing(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "import sys\nsys.exit(3)\n"})

    with pytest.raises(AppSourceError, match="cannot import module `main`: SystemExit: 3"):
        export_openapi("main:app", cwd=tmp_path)


def test_missing_attribute_names_the_apps_that_exist(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V1})

    with pytest.raises(AppSourceError) as info:
        export_openapi("main:application", cwd=tmp_path)

    assert str(info.value) == (
        "`main:application`: module `main` has no attribute `application` "
        "(FastAPI apps in it: `app`)"
    )


def test_not_a_fastapi_app(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V2})

    with pytest.raises(AppSourceError, match=r"is a str, not a FastAPI app \(no `openapi\(\)`"):
        export_openapi("main:NOT_AN_APP", cwd=tmp_path)
    # a factory named without parentheses gets a hint
    with pytest.raises(AppSourceError, match=r"write `main:create_app\(\)` to call it"):
        export_openapi("main:create_app", cwd=tmp_path)


def test_app_factory(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V2})

    data = export_openapi("main:create_app()", cwd=tmp_path)

    assert sorted(data["paths"]) == ["/pets"]


def test_dotted_module_in_src_layout(tmp_path: Path) -> None:
    write(tmp_path, {"src/shop/__init__.py": "", "src/shop/api.py": V1})

    data = export_openapi("shop.api:app", cwd=tmp_path)

    assert data["info"]["title"] == "Pets"


def test_prints_at_import_do_not_spoil_the_json(tmp_path: Path) -> None:
    noisy = "import os\nprint('starting up')\nos.write(1, b'raw bytes on fd 1\\n')\n" + V1
    write(tmp_path, {"main.py": noisy})

    data = export_openapi("main:app", cwd=tmp_path)

    assert data["info"]["title"] == "Pets"


def test_user_module_named_like_the_standard_library(tmp_path: Path) -> None:
    # our exporter imports `json` before the project folder is on sys.path
    write(tmp_path, {"json.py": "raise ImportError('shadowed')\n", "main.py": V1})

    assert export_openapi("main:app", cwd=tmp_path)["info"]["title"] == "Pets"


def test_timeout(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "import time\ntime.sleep(60)\n"})

    with pytest.raises(AppSourceError, match=r"took longer than 0.5 s and was stopped"):
        export_openapi("main:app", cwd=tmp_path, timeout=0.5)


def test_output_is_stable(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V1})

    first = export_openapi("main:app", cwd=tmp_path)
    second = export_openapi("main:app", cwd=tmp_path)

    assert first == second
    assert first["openapi"].startswith("3.")


@pytest.mark.parametrize("spec", ["main", "main:", ":app", "main:app()()", "main:1app", "a b:app"])
def test_invalid_app_spec(tmp_path: Path, spec: str) -> None:
    with pytest.raises(AppSourceError, match="expected `module:attr` or `module:factory\\(\\)`"):
        export_openapi(spec, cwd=tmp_path)


def test_interpreter_not_found(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V1})

    with pytest.raises(AppSourceError, match="cannot run Python interpreter `/no/such/python`"):
        export_openapi("main:app", cwd=tmp_path, python="/no/such/python")


def test_explicit_interpreter(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": V1})

    assert export_openapi("main:app", cwd=tmp_path, python=sys.executable)["paths"]


def test_unknown_ref(repo: Path) -> None:
    with pytest.raises(AppSourceError, match="unknown git ref `no-such-branch`"):
        document_at_ref("no-such-branch", "main:app", cwd=repo)
    with pytest.raises(AppSourceError, match="unknown git ref '--help'"):
        document_at_ref("--help", "main:app", cwd=repo)


def test_not_a_repository(tmp_path: Path, isolated: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, {"main.py": V1})

    with pytest.raises(AppSourceError, match="is not in a git repository"):
        document_at_ref("HEAD", "main:app", cwd=plain)
    # the working tree needs no git
    assert document_at_ref(".", "main:app", cwd=plain).data["info"]["title"] == "Pets"
