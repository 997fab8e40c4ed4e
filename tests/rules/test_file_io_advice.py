"""FAA204's advice fits the call: `aiofiles` opens files, it cannot remove or copy a
tree (lnbits' `shutil.rmtree` in an async uninstall was told to use it)."""

from __future__ import annotations

from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

SOURCE = '''
import shutil
from fastapi import FastAPI

app = FastAPI()


@app.delete("/extensions/{name}", status_code=204)
async def uninstall(name: str) -> None:
    shutil.rmtree(f"/srv/extensions/{name}")


@app.get("/notes")
async def notes() -> str:
    with open("/srv/notes.txt") as f:
        return f.read()
'''


def test_tree_operations_are_sent_to_a_thread(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SOURCE)
    config = Config().with_cli(select=("FAA204",))
    result = review_paths([tmp_path], config, root=tmp_path)
    by_line = {f.line: f.message for f in result.findings}
    assert set(by_line) == {10, 15}
    assert "`await anyio.to_thread.run_sync(shutil.rmtree, ...)`" in by_line[10]
    assert "aiofiles" not in by_line[10]
    assert "use `aiofiles`, `anyio.open_file` or `anyio.Path`" in by_line[15]
