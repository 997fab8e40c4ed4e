"""Architecture decision records: numbered Markdown files, one decision each.

A record is `NNNN-slug.md` in the project's record folder: `docs/adr/` by default,
`history/adr/` when the repository already keeps them there, or the folder named in an
`.adr-dir` file (adr-tools' convention). Its sections are Status, Context, Decision,
Consequences (Positive, Negative) and Alternatives considered. The CLI (`adr new`,
`adr list`) and the MCP tools share this module.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("docs/adr")
# Folders a repository may already use, in the order they are preferred.
KNOWN_DIRS = (Path("docs/adr"), Path("history/adr"), Path("doc/adr"), Path("docs/decisions"))
STATUSES = ("Proposed", "Accepted", "Rejected", "Deprecated", "Superseded")

_RECORD_RE = re.compile(r"^(\d{4})-[^/]*\.md$")
_SLUG_MAX = 60

PLACEHOLDERS = {
    "context": "What is the situation, and which forces (technical, product, team) make a "
    "decision necessary now?",
    "decision": "What is decided, stated in the active voice: “We will …”.",
    "positive": "What becomes easier or better.",
    "negative": "What becomes harder, what it costs, what risk it adds.",
    "alternatives": "Each option that was considered, and why it was not chosen.",
}


class AdrError(Exception):
    """A record that cannot be proposed or written; the message says why."""


@dataclass(frozen=True)
class RecordSummary:
    """One existing record, as `adr list` shows it. `path` is relative to the project root."""

    number: int
    title: str
    status: str
    path: str


@dataclass(frozen=True)
class Proposal:
    """A new record, not yet written. `path` is relative to the project root."""

    number: int
    title: str
    slug: str
    status: str
    path: str
    text: str


def record_dir(root: Path) -> Path:
    """The folder (relative to `root`) where this project keeps its records."""
    marker = root / ".adr-dir"
    if marker.is_file():
        try:
            named = marker.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            named = ""
        if named:
            candidate = Path(named)
            if candidate.is_absolute() or ".." in candidate.parts:
                raise AdrError(f".adr-dir names {named!r}: it must be a folder inside the project")
            return candidate
    for known in KNOWN_DIRS:
        if (root / known).is_dir():
            return known
    return DEFAULT_DIR


def slugify(title: str) -> str:
    """`Use PostgreSQL for orders!` → `use-postgresql-for-orders` (ASCII, at most 60 chars)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > _SLUG_MAX:
            break
        slug = candidate
    if not slug and words:  # a single word longer than the limit
        slug = words[0][:_SLUG_MAX]
    return slug or "decision"


def list_records(root: Path) -> list[RecordSummary]:
    """The records in the project's record folder, by number."""
    folder = root / record_dir(root)
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.iterdir()):
        match = _RECORD_RE.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        title, status = _title_and_status(text)
        records.append(
            RecordSummary(
                number=int(match.group(1)),
                title=title or _title_from_name(path.name),
                status=status or "unknown",
                path=path.relative_to(root).as_posix(),
            )
        )
    records.sort(key=lambda r: (r.number, r.path))
    return records


def next_number(root: Path) -> int:
    return max((r.number for r in list_records(root)), default=0) + 1


def propose(
    root: Path,
    title: str,
    *,
    status: str = "Proposed",
    context: str | None = None,
    decision: str | None = None,
    positive: Sequence[str] = (),
    negative: Sequence[str] = (),
    alternatives: Sequence[str] = (),
    today: dt.date | None = None,
) -> Proposal:
    """The next record for `title`, with the given sections filled and the others left as
    prompts to answer. Nothing is written."""
    title = " ".join(title.split())
    if not title:
        raise AdrError("the title is empty")
    status = _status(status)
    number = next_number(root)
    slug = slugify(title)
    path = record_dir(root) / f"{number:04d}-{slug}.md"
    text = render(
        number,
        title,
        status=status,
        context=context,
        decision=decision,
        positive=positive,
        negative=negative,
        alternatives=alternatives,
        today=today or dt.date.today(),
    )
    return Proposal(number, title, slug, status, path.as_posix(), text)


def write(root: Path, proposal: Proposal) -> Path:
    """Create the record's file (and its folder); never replaces an existing file."""
    target = root / proposal.path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(proposal.text)
    except FileExistsError:
        raise AdrError(f"{proposal.path} already exists") from None
    except OSError as exc:
        raise AdrError(f"cannot write {proposal.path}: {exc.strerror or exc}") from None
    return target


def render(
    number: int,
    title: str,
    *,
    status: str,
    context: str | None,
    decision: str | None,
    positive: Sequence[str],
    negative: Sequence[str],
    alternatives: Sequence[str],
    today: dt.date,
) -> str:
    """The Markdown of a record."""

    def prose(value: str | None, key: str) -> str:
        value = (value or "").strip()
        return value if value else f"_{PLACEHOLDERS[key]}_"

    def items(values: Sequence[str], key: str) -> str:
        cleaned = [" ".join(v.split()) for v in values if v.strip()]
        if not cleaned:
            return f"- _{PLACEHOLDERS[key]}_"
        return "\n".join(f"- {v}" for v in cleaned)

    return (
        f"# {number}. {title}\n\n"
        f"Date: {today.isoformat()}\n\n"
        f"## Status\n\n{status}\n\n"
        f"## Context\n\n{prose(context, 'context')}\n\n"
        f"## Decision\n\n{prose(decision, 'decision')}\n\n"
        "## Consequences\n\n"
        f"### Positive\n\n{items(positive, 'positive')}\n\n"
        f"### Negative\n\n{items(negative, 'negative')}\n\n"
        f"## Alternatives considered\n\n{items(alternatives, 'alternatives')}\n"
    )


def _status(value: str) -> str:
    cleaned = " ".join(value.split())
    for known in STATUSES:
        if cleaned.lower() == known.lower():
            return known
        # "Superseded by 0007" keeps its reference
        if cleaned.lower().startswith(known.lower() + " "):
            return known + cleaned[len(known) :]
    raise AdrError(f"unknown status {value!r} (expected one of: {', '.join(STATUSES)})")


def _title_and_status(text: str) -> tuple[str, str]:
    title = ""
    status = ""
    in_status = False
    for raw in text.splitlines():
        line = raw.strip()
        if not title and line.startswith("# "):
            title = re.sub(r"^(ADR[- ]?)?\d+[.:]?\s+", "", line[2:].strip(), flags=re.IGNORECASE)
            continue
        if line.startswith("#"):
            in_status = line.lstrip("#").strip().lower() == "status"
            continue
        if in_status and line:
            status = line.strip("*_ ")
            in_status = False
        if not status and line.lower().startswith("status:"):
            # MADR-style front matter or a `Status: Accepted` line
            status = line.split(":", 1)[1].strip()
    return title, status


def _title_from_name(name: str) -> str:
    stem = name[:-3].split("-", 1)
    return stem[1].replace("-", " ").capitalize() if len(stem) == 2 else name
