#!/usr/bin/env python3
"""Review throughput: how long a full review takes compared with parsing the same files.

Generates (deterministically) a large synthetic FastAPI service — about 200,000 lines over
about 1,000 modules, laid out like a real layered codebase — then measures, in one run:

1. the parse floor: read and `ast.parse` every `.py` file on one core (best of N),
2. a full review with every default rule through the public API (best of N),
3. the peak memory of one review, in a separate process so the parse pass does not count,
4. the command line as a user runs it (`fastapi-architect review ROOT --no-cache`, with its
   imports and the text report), its time and peak memory,

and prints both times and their ratio. It never asserts: the figures are for reading.

    python bench/review_throughput.py                      # generate (once) and measure
    python bench/review_throughput.py --lines 50000 --repeat 1
    python bench/review_throughput.py --profile            # also: top 30 cumulative entries
    python bench/review_throughput.py --path .venv/lib/python3.11/site-packages/gradio

See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / ".work" / "synthetic"
DEFAULT_LINES = 200_000
MIN_LINES = 2_000
LINES_PER_MODULE = 200
SEED = 20_240_611
GENERATOR_VERSION = 1
STAMP = ".bench-generator.json"

# ---------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------

NOUNS: tuple[str, ...] = (
    "account", "address", "agent", "alert", "allocation", "announcement", "approval",
    "article", "asset", "assignment", "audit", "badge", "balance", "batch", "benefit",
    "bid", "booking", "branch", "budget", "bundle", "campaign", "candidate", "card",
    "carrier", "cart", "catalog", "category", "certificate", "channel", "charge",
    "checklist", "claim", "client", "commission", "complaint", "contract", "contact",
    "coupon", "course", "credit", "customer", "dashboard", "delivery", "department",
    "deposit", "device", "discount", "dispute", "document", "donation", "driver",
    "enrollment", "estimate", "expense", "feature", "feedback", "fleet", "forecast",
    "fulfillment", "grant", "incident", "inspection", "integration", "invoice", "issue",
    "job", "journal", "ledger", "lead", "lease", "license", "listing", "location",
    "maintenance", "manifest", "meeting", "member", "membership", "merchant", "message",
    "metric", "milestone", "mission", "notification", "offer", "opportunity", "order",
    "organization", "package", "partner", "payment", "payout", "payroll", "permit",
    "pipeline", "plan", "portfolio", "position", "premium", "prescription", "product",
    "profile", "project", "promotion", "proposal", "purchase", "quota", "quote",
    "receipt", "recipe", "referral", "refund", "region", "reminder", "rental", "report",
    "reservation", "reward", "risk", "schedule", "seat", "segment", "sensor",
    "settlement", "shift", "shipment", "sku", "slot", "sponsor", "store", "subscription",
    "supplier", "survey", "task", "tax", "team", "template", "tenant", "ticket",
    "timesheet", "tour", "transfer", "trip", "vehicle", "vendor", "visit", "voucher",
    "wallet", "warehouse", "webhook", "workflow", "zone",
)
QUALIFIERS: tuple[str, ...] = (
    "partner", "legacy", "internal", "regional", "vendor", "archived", "pending", "shared",
)
SECONDARY_SUFFIXES: tuple[str, ...] = (
    "Line", "Event", "Note", "Attachment", "Revision", "Tag", "Assignment", "Snapshot",
    "Comment", "Entry", "Contact", "Approval",
)
METRICS: tuple[str, ...] = (
    "total", "average", "backlog", "velocity", "coverage", "exposure", "churn", "aging",
    "utilisation", "variance",
)
SCHEMA_VARIANTS: tuple[str, ...] = (
    "Filter", "Summary", "Export", "StatusChange", "BulkResult", "Counts", "Preview",
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    sa_type: str
    py_type: str
    default: str | None  # pydantic default / Field(...) in the *Base schema
    kind: str  # "str", "num", "bool", "date", "json"


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "String(120)", "str", "Field(min_length=1, max_length=120)", "str"),
    FieldSpec("title", "String(200)", "str", "Field(min_length=1, max_length=200)", "str"),
    FieldSpec("code", "String(32)", "str", "Field(min_length=2, max_length=32)", "str"),
    FieldSpec("description", "Text", "str | None", "None", "str"),
    FieldSpec("status", "String(32)", "str", 'Field(default="draft", max_length=32)', "str"),
    FieldSpec("amount", "Numeric(12, 2)", "Decimal", "Field(ge=0)", "num"),
    FieldSpec("currency", "String(3)", "str", 'Field(default="EUR", min_length=3)', "str"),
    FieldSpec("quantity", "Integer", "int", "Field(default=1, ge=0)", "num"),
    FieldSpec("priority", "Integer", "int", "Field(default=0, ge=0, le=10)", "num"),
    FieldSpec("is_active", "Boolean", "bool", "True", "bool"),
    FieldSpec("is_archived", "Boolean", "bool", "False", "bool"),
    FieldSpec("email", "String(320)", "str | None", "None", "str"),
    FieldSpec("external_ref", "String(64)", "str | None", "None", "str"),
    FieldSpec("score", "Float", "float", "Field(default=0.0, ge=0)", "num"),
    FieldSpec("due_date", "Date", "date | None", "None", "date"),
    FieldSpec("starts_at", "DateTime(timezone=True)", "datetime | None", "None", "date"),
    FieldSpec("ends_at", "DateTime(timezone=True)", "datetime | None", "None", "date"),
    FieldSpec("notes", "Text", "str | None", "None", "str"),
    FieldSpec("url", "String(2048)", "str | None", "None", "str"),
    FieldSpec("tags", "JSON", "list[str]", "Field(default_factory=list)", "json"),
    FieldSpec("attributes", "JSON", "dict[str, Any]", "Field(default_factory=dict)", "json"),
    FieldSpec("version", "Integer", "int", "1", "num"),
    FieldSpec("region_code", "String(8)", "str | None", "None", "str"),
    FieldSpec("weight", "Numeric(10, 3)", "Decimal | None", "None", "num"),
)

_STDLIB = frozenset({
    "__future__", "collections", "dataclasses", "datetime", "decimal", "email", "enum",
    "functools", "hashlib", "json", "logging", "re", "smtplib", "time", "typing", "uuid",
})


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def snake_of(camel_name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(camel_name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def indent(text: str, levels: int = 1) -> str:
    pad = "    " * levels
    return "\n".join(pad + line if line else line for line in text.split("\n"))


class ClassBlock:
    """A class whose members can still be added to (methods, columns) before rendering."""

    def __init__(self, header: str, members: list[str] | None = None) -> None:
        self.header = header
        self.members: list[str] = list(members or [])
        self.lines = header.count("\n") + 1 + sum(m.count("\n") + 2 for m in self.members)

    def add(self, member: str) -> None:
        member = member.strip("\n")
        self.members.append(member)
        self.lines += member.count("\n") + 2

    def render(self) -> str:
        body = "\n\n".join(indent(m) for m in self.members) or "    pass"
        return f"{self.header}\n{body}"


class ModuleWriter:
    """One generated module: grouped, merged imports and top-level blocks."""

    def __init__(self, doc: str) -> None:
        self.doc = doc
        self._from: dict[str, list[str]] = {}
        self._plain: list[str] = []
        self.blocks: list[str | ClassBlock] = []
        self._block_lines = 0

    def imp(self, module: str, *names: str) -> None:
        known = self._from.setdefault(module, [])
        for name in names:
            if name not in known:
                known.append(name)

    def imp_module(self, line: str) -> None:
        if line not in self._plain:
            self._plain.append(line)

    def add(self, block: str | ClassBlock) -> None:
        if isinstance(block, str):
            block = block.strip("\n")
            self._block_lines += block.count("\n") + 3
        self.blocks.append(block)

    def line_count(self) -> int:
        classes = sum(b.lines + 2 for b in self.blocks if isinstance(b, ClassBlock))
        return 4 + len(self._from) + len(self._plain) + self._block_lines + classes

    def _import_lines(self) -> list[str]:
        groups: dict[int, list[tuple[str, str]]] = {0: [], 1: [], 2: [], 3: []}
        for line in self._plain:
            mod = line.split()[1]
            groups[self._group(mod)].append((mod, line))
        for mod, names in self._from.items():
            text = f"from {mod} import {', '.join(sorted(names, key=_import_key))}"
            if len(text) > 100:
                inner = "".join(f"    {n},\n" for n in sorted(names, key=_import_key))
                text = f"from {mod} import (\n{inner})"
            groups[self._group(mod)].append((mod, text))
        out: list[str] = []
        for key in sorted(groups):
            if groups[key]:
                if out:
                    out.append("")
                # Like isort: `import x` lines first, then `from x import y`, each sorted.
                entries = sorted(groups[key], key=lambda e: (e[1].startswith("from "), e[0]))
                out.extend(text for _, text in entries)
        return out

    @staticmethod
    def _group(mod: str) -> int:
        if mod == "__future__":
            return 0
        root = mod.split(".")[0]
        if root in _STDLIB:
            return 1
        return 3 if root == "app" else 2

    def render(self) -> str:
        parts = [f'"""{self.doc}"""']
        imports = self._import_lines()
        if imports:
            parts.append("\n".join(imports))
        text = "\n\n".join(parts)
        previous_simple = False
        for i, block in enumerate(self.blocks):
            rendered = block.render() if isinstance(block, ClassBlock) else block
            simple = not rendered.startswith(_COMPOUND)
            # One blank line between plain assignments, two around definitions (PEP 8).
            gap = "\n\n" if simple and previous_simple and i else "\n\n\n"
            text += gap + rendered
            previous_simple = simple
        return text + "\n"


_COMPOUND = ("def ", "async def ", "class ", "@", "if ", "try:")


def _import_key(name: str) -> tuple[int, str]:
    # isort's force-sort-within-sections order: CONSTANTS, Classes, functions.
    base = name.split(" as ")[0]
    if base.isupper():
        return (0, base)
    return (1, base) if base[:1].isupper() else (2, base)


@dataclass
class Entity:
    camel: str
    snake: str
    table: str
    fields: list[FieldSpec]
    attr: str = ""  # collection attribute on the primary entity ("lines")
    fk: str = ""  # foreign key to the primary ("invoice_id")


@dataclass
class DomainInfo:
    """What later domains may import from an earlier one."""

    var: str
    pkg: str
    camel: str
    plural: str


@dataclass
class GenerationStats:
    out: Path
    files: int
    lines: int
    domains: int
    routes: int
    target_lines: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        return data


def domain_names(count: int, rng: random.Random) -> list[str]:
    base = list(NOUNS)
    rng.shuffle(base)
    names = base[:count]
    for qualifier in QUALIFIERS:
        if len(names) >= count:
            break
        extra = [f"{qualifier}_{noun}" for noun in NOUNS]
        rng.shuffle(extra)
        names.extend(extra[: count - len(names)])
    n = 2
    while len(names) < count:
        names.extend(f"{noun}{n}" for noun in NOUNS[: count - len(names)])
        n += 1
    return names


class DomainBuilder:
    """The modules of one domain package `app/<plural>/`."""

    def __init__(
        self,
        index: int,
        var: str,
        rng: random.Random,
        upstream: list[DomainInfo],
        with_exceptions: bool,
        with_tasks: bool,
    ) -> None:
        self.index = index
        self.rng = rng
        self.var = var
        self.camel = camel(var)
        self.plural = plural(var)
        self.pkg = f"app.{self.plural}"
        self.title = var.replace("_", " ")
        self.upstream = upstream
        self.fk_up = upstream[0] if upstream and rng.random() < 0.6 else None
        self.uses_http = rng.random() < 0.22
        self.uses_sleep = rng.random() < 0.15
        self.uses_smtp = with_tasks and rng.random() < 0.2
        self.async_repo = rng.random() < 0.35
        self.with_exceptions = with_exceptions
        self.with_tasks = with_tasks
        self.exc_mod = f"{self.pkg}.exceptions" if with_exceptions else f"{self.pkg}.service"
        self.routes = 0
        self.secondary: list[Entity] = []
        self.sec_repo_blocks: dict[str, ClassBlock] = {}
        self._used_suffixes: list[str] = []
        self._units: list[tuple[str, Callable[[], None]]] = []
        self._done_units: set[str] = set()
        self._schema_variants = 0

        self.files: dict[str, ModuleWriter] = {
            "__init__.py": ModuleWriter(f"{self.title.capitalize()} domain: routes, use cases, data access."),
            "models.py": ModuleWriter(f"Database tables of the {self.title} domain."),
            "schemas.py": ModuleWriter(f"Request and response bodies of the {self.title} API."),
            "repository.py": ModuleWriter(f"Data access for {self.title} records (SQLAlchemy 2.0)."),
            "service.py": ModuleWriter(f"Use cases of the {self.title} domain."),
            "deps.py": ModuleWriter(f"FastAPI dependencies of the {self.title} routes."),
            "utils.py": ModuleWriter(f"Helpers shared by the {self.title} modules."),
            "router.py": ModuleWriter(f"HTTP routes of the {self.title} domain."),
        }
        if with_exceptions:
            self.files["exceptions.py"] = ModuleWriter(f"Errors raised by the {self.title} domain.")
        if with_tasks:
            self.files["tasks.py"] = ModuleWriter(f"Background jobs of the {self.title} domain.")
        for writer in self.files.values():
            if writer is not self.files["__init__.py"]:
                writer.imp("__future__", "annotations")

        fields = self._pick_fields(4, 9)
        self.primary = Entity(self.camel, self.var, self.plural, fields)
        self._build_models()
        self._build_exceptions()
        self._build_schemas(self.primary)
        self._build_repository(self.primary)
        self._build_utils()
        self._build_service()
        self._build_deps()
        if with_tasks:
            self._build_tasks()
        n_secondary = rng.choice([0, 1, 1, 2])
        self._build_router(extra_routes=max(0, rng.randint(8, 15) - 5 - 2 * n_secondary))
        for _ in range(n_secondary):
            self.add_secondary(with_routes=True)
        self._plan_units()

    # -- helpers ------------------------------------------------------------------------
    def _pick_fields(self, low: int, high: int) -> list[FieldSpec]:
        count = self.rng.randint(low, high)
        chosen = self.rng.sample(range(len(FIELDS)), count)
        return [FIELDS[i] for i in sorted(chosen)]

    def line_count(self) -> int:
        return sum(w.line_count() for w in self.files.values())

    def _exc(self, name: str) -> str:
        return f"{self.camel}{name}"

    # -- models -------------------------------------------------------------------------
    def _column(self, f: FieldSpec) -> str:
        nullable = f.py_type.endswith("| None")
        args = [f.sa_type]
        if nullable:
            args.append("nullable=True")
        elif f.kind == "bool":
            args.append(f"default={f.default}")
        elif f.name == "status":
            args.append('default="draft", index=True')
        elif f.name in ("version", "quantity"):
            args.append("default=1")
        elif f.kind == "json":
            args.append("default=dict" if f.py_type.startswith("dict") else "default=list")
        return f"{f.name}: Mapped[{f.py_type}] = mapped_column({', '.join(args)})"

    def _model_imports(self, e: Entity) -> None:
        m = self.files["models.py"]
        for f in e.fields:
            sa = f.sa_type.split("(")[0]
            m.imp("sqlalchemy", sa)
            if "Decimal" in f.py_type:
                m.imp("decimal", "Decimal")
            if "datetime" in f.py_type:
                m.imp("datetime", "datetime")
            if "date " in f.py_type or f.py_type == "date":
                m.imp("datetime", "date")
            if "Any" in f.py_type:
                m.imp("typing", "Any")

    def _build_models(self) -> None:
        e, m = self.primary, self.files["models.py"]
        m.imp("sqlalchemy", "DateTime", "ForeignKey", "func")
        m.imp("sqlalchemy.orm", "Mapped", "mapped_column")
        m.imp("datetime", "datetime")
        m.imp("app.core.db", "Base")
        self._model_imports(e)
        members = [
            f'__tablename__ = "{e.table}"',
            "id: Mapped[int] = mapped_column(primary_key=True)\n"
            'owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)\n'
            + "\n".join(self._column(f) for f in e.fields)
            + "\ncreated_at: Mapped[datetime] = mapped_column(\n"
            "    DateTime(timezone=True), server_default=func.now()\n)\n"
            "updated_at: Mapped[datetime | None] = mapped_column(\n"
            "    DateTime(timezone=True), onupdate=func.now(), nullable=True\n)",
        ]
        if self.fk_up is not None:
            up = self.fk_up
            m.imp("typing", "TYPE_CHECKING")
            m.imp("sqlalchemy.orm", "relationship")
            members[1] += (
                f"\n{up.var}_id: Mapped[int | None] = mapped_column(\n"
                f'    ForeignKey("{up.plural}.id", ondelete="SET NULL"), nullable=True\n)\n'
                f"{up.var}: Mapped[{up.camel} | None] = relationship(lazy=\"joined\")"
            )
            m.add(f"if TYPE_CHECKING:\n    from {up.pkg}.models import {up.camel}")
        self.model_block = ClassBlock(f"class {e.camel}(Base):", members)
        self.model_block.add(
            f"def __repr__(self) -> str:\n    return f\"{e.camel}(id={{self.id!r}})\""
        )
        if any(f.name == "status" for f in e.fields):
            self.model_block.add(
                "@property\ndef is_open(self) -> bool:\n"
                '    return self.status not in ("closed", "cancelled", "archived")'
            )
        m.add(self.model_block)

    # -- exceptions ---------------------------------------------------------------------
    def _build_exceptions(self) -> None:
        target = self.files["exceptions.py"] if self.with_exceptions else self.files["service.py"]
        c, v = self.camel, self.var
        target.add(f'class {c}Error(Exception):\n    """Base class of the {self.title} errors."""')
        target.add(
            f"class {c}NotFound({c}Error):\n"
            f"    def __init__(self, {v}_id: int) -> None:\n"
            f'        super().__init__(f"{self.title} {{{v}_id}} not found")\n'
            f"        self.{v}_id = {v}_id"
        )
        target.add(
            f"class {c}Conflict({c}Error):\n"
            f'    """The {self.title} changed since it was read."""'
        )
        target.add(
            f"class {c}StateError({c}Error):\n"
            f"    def __init__(self, {v}_id: int, state: str) -> None:\n"
            f'        super().__init__(f"{self.title} {{{v}_id}} cannot change in state {{state}}")\n'
            f"        self.state = state"
        )

    # -- schemas ------------------------------------------------------------------------
    def _schema_imports(self, fields: Sequence[FieldSpec]) -> None:
        s = self.files["schemas.py"]
        s.imp("pydantic", "BaseModel", "ConfigDict", "Field")
        for f in fields:
            if "Decimal" in f.py_type:
                s.imp("decimal", "Decimal")
            if "datetime" in f.py_type:
                s.imp("datetime", "datetime")
            if "date " in f.py_type or f.py_type == "date":
                s.imp("datetime", "date")
            if "Any" in f.py_type:
                s.imp("typing", "Any")

    def _build_schemas(self, e: Entity) -> None:
        s = self.files["schemas.py"]
        s.imp("datetime", "datetime")
        self._schema_imports(e.fields)
        base_lines = [f"{f.name}: {f.py_type}" + (f" = {f.default}" if f.default else "")
                      for f in e.fields]
        if e is self.primary and self.fk_up is not None:
            base_lines.append(f"{self.fk_up.var}_id: int | None = None")
        s.add(f"class {e.camel}Base(BaseModel):\n" + indent("\n".join(base_lines)))
        s.add(f"class {e.camel}Create({e.camel}Base):\n    pass")
        upd = [f"{f.name}: {f.py_type}{'' if f.py_type.endswith('None') else ' | None'} = None"
               for f in e.fields]
        s.add(f"class {e.camel}Update(BaseModel):\n" + indent("\n".join(upd)))
        out = [
            "model_config = ConfigDict(from_attributes=True)",
            "",
            "id: int",
            *([f"{e.fk}: int"] if e.fk else ["owner_id: int"]),
            "created_at: datetime",
            "updated_at: datetime | None = None",
        ]
        s.add(f"class {e.camel}Out({e.camel}Base):\n" + indent("\n".join(out)))
        if e is self.primary:
            s.add(
                f"class {e.camel}Page(BaseModel):\n"
                f"    items: list[{e.camel}Out]\n    total: int\n    offset: int = 0\n"
                "    limit: int = 50"
            )
            s.add(
                f"class {e.camel}Stats(BaseModel):\n    total: int\n    active: int\n"
                "    archived: int = 0\n    by_status: dict[str, int] = Field(default_factory=dict)"
            )
            str_fields = [f for f in e.fields if f.kind == "str" and not f.py_type.endswith("None")]
            if str_fields:
                f = str_fields[0]
                s.imp("pydantic", "field_validator")
                s.add(
                    f"class {e.camel}Import({e.camel}Create):\n"
                    f'    @field_validator("{f.name}")\n'
                    "    @classmethod\n"
                    f"    def strip_{f.name}(cls, value: str) -> str:\n"
                    "        value = value.strip()\n"
                    "        if not value:\n"
                    f'            raise ValueError("{f.name} must not be blank")\n'
                    "        return value"
                )

    # -- repository ---------------------------------------------------------------------
    def _build_repository(self, e: Entity) -> None:
        r = self.files["repository.py"]
        r.imp("collections.abc", "Sequence")
        r.imp("sqlalchemy", "func", "select")
        r.imp("sqlalchemy.orm", "Session")
        r.imp(f"{self.pkg}.models", e.camel)
        v = e.snake
        owner = e.fk or "owner_id"
        block = ClassBlock(
            f"class {e.camel}Repository:",
            [
                "def __init__(self, session: Session) -> None:\n    self.session = session",
                f"def get(self, {v}_id: int) -> {e.camel} | None:\n"
                f"    return self.session.get({e.camel}, {v}_id)",
                f"def list(\n    self, *, {owner}: int | None = None, offset: int = 0, limit: int = 50\n"
                f") -> Sequence[{e.camel}]:\n"
                f"    stmt = select({e.camel}).order_by({e.camel}.id).offset(offset).limit(limit)\n"
                f"    if {owner} is not None:\n"
                f"        stmt = stmt.where({e.camel}.{owner} == {owner})\n"
                "    return self.session.scalars(stmt).all()",
                f"def count(self, *, {owner}: int | None = None) -> int:\n"
                f"    stmt = select(func.count()).select_from({e.camel})\n"
                f"    if {owner} is not None:\n"
                f"        stmt = stmt.where({e.camel}.{owner} == {owner})\n"
                "    return self.session.scalar(stmt) or 0",
                f"def add(self, {v}: {e.camel}) -> {e.camel}:\n"
                f"    self.session.add({v})\n    self.session.flush()\n    return {v}",
                f"def delete(self, {v}: {e.camel}) -> None:\n    self.session.delete({v})",
            ],
        )
        if e is self.primary:
            text_fields = [f for f in e.fields if f.kind == "str"][:2]
            if text_fields:
                r.imp("sqlalchemy", "or_")
                conds = ", ".join(f"{e.camel}.{f.name}.ilike(pattern)" for f in text_fields)
                block.add(
                    f"def search(self, query: str, *, limit: int = 20) -> Sequence[{e.camel}]:\n"
                    '    pattern = f"%{query}%"\n'
                    f"    stmt = select({e.camel}).where(or_({conds})).limit(limit)\n"
                    "    return self.session.scalars(stmt).all()"
                )
            else:
                block.add(
                    f"def search(self, query: str, *, limit: int = 20) -> Sequence[{e.camel}]:\n"
                    "    if not query.isdigit():\n        return []\n"
                    f"    stmt = select({e.camel}).where({e.camel}.id == int(query)).limit(limit)\n"
                    "    return self.session.scalars(stmt).all()"
                )
            block.add(
                f"def get_many(self, ids: Sequence[int]) -> list[{e.camel}]:\n"
                f"    found: list[{e.camel}] = []\n"
                "    for item_id in ids:\n"
                "        row = self.session.execute(\n"
                f"            select({e.camel}).where({e.camel}.id == item_id)\n"
                "        ).scalar_one_or_none()\n"
                "        if row is not None:\n"
                "            found.append(row)\n"
                "    return found"
                if self.rng.random() < 0.4 else
                f"def get_many(self, ids: Sequence[int]) -> list[{e.camel}]:\n"
                f"    stmt = select({e.camel}).where({e.camel}.id.in_(ids))\n"
                "    return list(self.session.scalars(stmt))"
            )
            if any(f.name == "status" for f in e.fields):
                block.add(
                    "def count_by_status(self, owner_id: int) -> dict[str, int]:\n"
                    "    stmt = (\n"
                    f"        select({e.camel}.status, func.count())\n"
                    f"        .where({e.camel}.owner_id == owner_id)\n"
                    f"        .group_by({e.camel}.status)\n"
                    "    )\n"
                    "    return {status: count for status, count in self.session.execute(stmt)}"
                )
            else:
                block.add(
                    "def count_by_status(self, owner_id: int) -> dict[str, int]:\n"
                    '    return {"all": self.count(owner_id=owner_id)}'
                )
            r.imp("sqlalchemy", "update")
            block.add(
                f"def touch_many(self, ids: Sequence[int]) -> int:\n"
                "    result = self.session.execute(\n"
                f"        update({e.camel}).where({e.camel}.id.in_(ids)).values(updated_at=func.now())\n"
                "    )\n"
                "    return result.rowcount or 0"
            )
        r.add(block)
        if e is self.primary:
            self.repo_block = block
            if self.async_repo:
                r.imp("sqlalchemy.ext.asyncio", "AsyncSession")
                self.async_repo_block = ClassBlock(
                    f"class Async{e.camel}Repository:",
                    [
                        "def __init__(self, session: AsyncSession) -> None:\n"
                        "    self.session = session",
                        f"async def get(self, {v}_id: int) -> {e.camel} | None:\n"
                        f"    return await self.session.get({e.camel}, {v}_id)",
                        f"async def list(self, *, offset: int = 0, limit: int = 50) -> list[{e.camel}]:\n"
                        f"    stmt = select({e.camel}).order_by({e.camel}.id).offset(offset).limit(limit)\n"
                        "    result = await self.session.scalars(stmt)\n"
                        "    return list(result.all())",
                    ],
                )
                r.add(self.async_repo_block)
        else:
            self.sec_repo_blocks[e.camel] = block

    # -- utils --------------------------------------------------------------------------
    def _build_utils(self) -> None:
        u, v = self.files["utils.py"], self.var
        u.imp_module("import logging")
        u.add("logger = logging.getLogger(__name__)")
        prefix = "".join(w[0] for w in v.split("_")).upper() + v[:3].upper()
        u.add(
            f"def format_{v}_code({v}_id: int, prefix: str = \"{prefix[:4]}\") -> str:\n"
            f'    return f"{{prefix}}-{{{v}_id:08d}}"'
        )
        u.imp_module("import re")
        u.add('_SLUG = re.compile(r"[^a-z0-9]+")')
        u.add(
            f"def slugify_{v}(value: str) -> str:\n"
            '    slug = _SLUG.sub("-", value.lower()).strip("-")\n'
            '    return slug or "untitled"'
        )
        if self.uses_http:
            u.imp_module("import requests")
            u.imp("typing", "Any")
            u.imp("app.core.config", "settings")
            u.add(
                f"def fetch_{v}_enrichment({v}_id: int) -> dict[str, Any]:\n"
                f'    """Extra attributes of a {self.title} from the partner API."""\n'
                "    response = requests.get(\n"
                f'        f"{{settings.partner_api_url}}/{self.plural}/{{{v}_id}}",\n'
                "        timeout=settings.http_timeout,\n"
                "    )\n"
                "    if response.status_code == 404:\n"
                "        return {}\n"
                "    response.raise_for_status()\n"
                "    return dict(response.json())"
            )
            u.add(
                f"def push_{v}_to_partner(payload: dict[str, Any]) -> dict[str, Any]:\n"
                "    response = requests.post(\n"
                f'        f"{{settings.partner_api_url}}/{self.plural}",\n'
                "        json=payload,\n"
                "        timeout=settings.http_timeout,\n"
                "    )\n"
                "    response.raise_for_status()\n"
                f'    logger.info("pushed {self.title} %s", payload.get("id"))\n'
                "    return dict(response.json())"
            )
        if self.uses_sleep:
            u.imp_module("import time")
            u.imp("collections.abc", "Callable")
            u.imp("typing", "TypeVar")
            u.add('T = TypeVar("T")')
            u.add(
                "def retry_with_backoff(action: Callable[[], T], attempts: int = 3, delay: float = 0.5) -> T:\n"
                "    for attempt in range(attempts):\n"
                "        try:\n"
                "            return action()\n"
                "        except ConnectionError:\n"
                "            if attempt == attempts - 1:\n"
                "                raise\n"
                '            logger.warning("retrying after attempt %d", attempt + 1)\n'
                "            time.sleep(delay * 2**attempt)\n"
                '    raise RuntimeError("unreachable")'
            )

    # -- service ------------------------------------------------------------------------
    def _build_service(self) -> None:
        s, e, v, c = self.files["service.py"], self.primary, self.var, self.camel
        s.imp_module("import logging")
        s.imp("collections.abc", "Sequence")
        s.imp("typing", "Any")
        s.imp("sqlalchemy", "select")
        s.imp("sqlalchemy.ext.asyncio", "AsyncSession")
        s.imp("sqlalchemy.orm", "Session")
        s.imp("app.core.models", "User")
        s.imp(f"{self.pkg}.models", c)
        s.imp(f"{self.pkg}.repository", f"{c}Repository")
        s.imp(f"{self.pkg}.schemas", f"{c}Create", f"{c}Out", f"{c}Stats", f"{c}Update")
        s.imp(f"{self.pkg}", "utils")
        if self.with_exceptions:
            s.imp(self.exc_mod, f"{c}NotFound", f"{c}StateError")
        for up in self.upstream:
            s.imp(up.pkg, f"service as {up.var}_service")
        s.add("logger = logging.getLogger(__name__)")
        has_status = any(f.name == "status" for f in e.fields)
        self.service_block = ClassBlock(
            f'class {c}Service:\n    """Use cases on {self.plural.replace("_", " ")}; one instance per request."""\n',
            [
                "def __init__(self, session: Session) -> None:\n"
                "    self.session = session\n"
                f"    self.repo = {c}Repository(session)",
                f"def get_{v}(self, {v}_id: int) -> {c} | None:\n    return self.repo.get({v}_id)",
                f"def require_{v}(self, {v}_id: int) -> {c}:\n"
                f"    {v} = self.repo.get({v}_id)\n"
                f"    if {v} is None:\n        raise {c}NotFound({v}_id)\n    return {v}",
                f"def list_{self.plural}(\n    self, *, owner_id: int, offset: int = 0, limit: int = 50\n"
                f") -> Sequence[{c}]:\n"
                "    return self.repo.list(owner_id=owner_id, offset=offset, limit=limit)",
                f"def count_{self.plural}(self, owner_id: int) -> int:\n"
                "    return self.repo.count(owner_id=owner_id)",
            ],
        )
        create = [
            f"def create_{v}(self, payload: {c}Create, owner: User) -> {c}:",
            f"    {v} = {c}(**payload.model_dump(), owner_id=owner.id)",
        ]
        if self.fk_up is not None:
            up = self.fk_up
            create += [
                f"    if payload.{up.var}_id is not None:",
                f"        {up.var}_service.ensure_{up.var}_exists(self.session, payload.{up.var}_id)",
            ]
        create += [
            f"    self.repo.add({v})",
            "    self.session.commit()",
            f"    self.session.refresh({v})",
            f'    logger.info("{self.title} %s created by %s", {v}.id, owner.id)',
            f"    return {v}",
        ]
        self.service_block.add("\n".join(create))
        self.service_block.add(
            f"def update_{v}(self, {v}: {c}, payload: {c}Update) -> {c}:\n"
            "    for key, value in payload.model_dump(exclude_unset=True).items():\n"
            f"        setattr({v}, key, value)\n"
            "    self.session.commit()\n"
            f"    self.session.refresh({v})\n"
            f"    return {v}"
        )
        self.service_block.add(
            f"def delete_{v}(self, {v}: {c}) -> None:\n"
            f"    self.repo.delete({v})\n    self.session.commit()"
        )
        self.service_block.add(
            f"def search(self, query: str, *, limit: int = 20) -> Sequence[{c}]:\n"
            "    return self.repo.search(query.strip(), limit=limit)"
        )
        self.service_block.add(
            f"def stats(self, owner_id: int) -> {c}Stats:\n"
            "    by_status = self.repo.count_by_status(owner_id)\n"
            "    total = sum(by_status.values())\n"
            f"    return {c}Stats(\n"
            "        total=total,\n"
            '        active=total - by_status.get("archived", 0),\n'
            '        archived=by_status.get("archived", 0),\n'
            "        by_status=by_status,\n"
            "    )"
        )
        state = (
            f"    if {v}.status == \"archived\":\n        raise {c}StateError({v}.id, {v}.status)\n"
            f"    {v}.status = \"archived\"\n" if has_status else
            f"    logger.info(\"archiving {self.title} %s\", {v}.id)\n"
        )
        self.service_block.add(
            f"def archive_{v}(self, {v}: {c}) -> {c}:\n{state}"
            f"    self.session.commit()\n    return {v}"
        )
        self.service_block.add(
            f"def export_{self.plural}(self, owner_id: int) -> list[dict[str, Any]]:\n"
            "    rows: list[dict[str, Any]] = []\n"
            f"    for {v} in self.repo.list(owner_id=owner_id, limit=1000):\n"
            f"        row = {c}Out.model_validate({v}).model_dump(mode=\"json\")\n"
            f"        row[\"code\"] = utils.format_{v}_code({v}.id)\n"
            "        rows.append(row)\n"
            "    return rows"
        )
        recalc = [
            f"def recalculate_{v}(self, {v}: {c}) -> {c}:",
        ]
        if self.upstream:
            recalc.append("    linked = 0")
            for up in self.upstream:
                recalc.append(
                    f"    linked += {up.var}_service.count_{up.plural}_for_owner("
                    f"self.session, {v}.owner_id)"
                )
            recalc.append(f'    logger.debug("{self.title} %s has %d linked records", {v}.id, linked)')
        num = [f for f in e.fields if f.kind == "num" and not f.py_type.endswith("None")]
        if num:
            recalc.append(f"    {v}.{num[0].name} = max({v}.{num[0].name}, 0)")
        recalc += ["    self.session.commit()", f"    return {v}"]
        self.service_block.add("\n".join(recalc))
        s.add(self.service_block)

        # Module-level functions other domains call.
        summary = [
            f"def get_{v}_summary(session: Session, {v}_id: int) -> dict[str, Any]:",
            f"    {v} = {c}Repository(session).get({v}_id)",
            f"    if {v} is None:",
            f"        raise {c}NotFound({v}_id)",
            f'    summary: dict[str, Any] = {{"id": {v}.id, "code": utils.format_{v}_code({v}.id)}}',
        ]
        if self.uses_http:
            summary.append(f'    summary["partner"] = utils.fetch_{v}_enrichment({v}.id)')
        if self.fk_up is not None:
            up = self.fk_up
            summary += [
                f"    if {v}.{up.var}_id is not None:",
                f'        summary["{up.var}"] = {up.var}_service.get_{up.var}_summary(session, {v}.{up.var}_id)',
            ]
        summary.append("    return summary")
        s.add("\n".join(summary))
        s.add(
            f"def ensure_{v}_exists(session: Session, {v}_id: int) -> {c}:\n"
            f"    {v} = session.get({c}, {v}_id)\n"
            f"    if {v} is None:\n"
            f"        raise {c}NotFound({v}_id)\n"
            f"    return {v}"
        )
        s.add(
            f"def count_{self.plural}_for_owner(session: Session, owner_id: int) -> int:\n"
            f"    return {c}Repository(session).count(owner_id=owner_id)"
        )
        sync = [f"def sync_{v}_with_partner(session: Session, {v}_id: int) -> dict[str, Any]:",
                f"    payload = get_{v}_summary(session, {v}_id)"]
        if self.uses_http and self.uses_sleep:
            sync.append(f"    return utils.retry_with_backoff(lambda: utils.push_{v}_to_partner(payload))")
        elif self.uses_http:
            sync.append(f"    return utils.push_{v}_to_partner(payload)")
        elif self.uses_sleep:
            sync.append("    return utils.retry_with_backoff(lambda: payload)")
        else:
            sync.append(f'    logger.info("no partner sync configured for {self.title} %s", {v}_id)')
            sync.append("    return payload")
        s.add("\n".join(sync))
        s.add(
            f"async def fetch_{v}(session: AsyncSession, {v}_id: int) -> {c} | None:\n"
            f"    result = await session.execute(select({c}).where({c}.id == {v}_id))\n"
            "    return result.scalar_one_or_none()"
        )
        s.add(
            f"async def fetch_{v}_page(\n    session: AsyncSession, *, owner_id: int, offset: int = 0, limit: int = 50\n"
            f") -> list[{c}]:\n"
            "    stmt = (\n"
            f"        select({c})\n"
            f"        .where({c}.owner_id == owner_id)\n"
            f"        .order_by({c}.id)\n"
            "        .offset(offset)\n"
            "        .limit(limit)\n"
            "    )\n"
            "    result = await session.scalars(stmt)\n"
            "    return list(result.all())"
        )

    # -- deps ---------------------------------------------------------------------------
    def _build_deps(self) -> None:
        dp, v, c = self.files["deps.py"], self.var, self.camel
        dp.imp("typing", "Annotated")
        dp.imp("fastapi", "Depends", "HTTPException", "Path", "status")
        dp.imp("app.core.db", "SessionDep")
        dp.imp("app.core.models", "User")
        dp.imp("app.core.security", "CurrentUser")
        dp.imp(f"{self.pkg}.models", c)
        dp.imp(f"{self.pkg}.service", f"{c}Service")
        dp.add(
            f"def get_{v}_service(db: SessionDep) -> {c}Service:\n    return {c}Service(db)"
        )
        dp.add(f"{c}ServiceDep = Annotated[{c}Service, Depends(get_{v}_service)]")
        dp.add(
            f"def valid_{v}_id(\n"
            f"    {v}_id: Annotated[int, Path(ge=1)],\n"
            f"    service: {c}ServiceDep,\n"
            f") -> {c}:\n"
            f"    {v} = service.get_{v}({v}_id)\n"
            f"    if {v} is None:\n"
            "        raise HTTPException(\n"
            f'            status_code=status.HTTP_404_NOT_FOUND, detail="{self.title.capitalize()} not found"\n'
            "        )\n"
            f"    return {v}"
        )
        dp.add(f"Valid{c} = Annotated[{c}, Depends(valid_{v}_id)]")
        dp.add(
            f"def owned_{v}({v}: Valid{c}, current_user: CurrentUser) -> {c}:\n"
            f"    if {v}.owner_id != current_user.id and not current_user.is_superuser:\n"
            "        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=\"Not allowed\")\n"
            f"    return {v}"
        )
        dp.add(f"Owned{c} = Annotated[{c}, Depends(owned_{v})]")
        dp.add(
            f"def require_{v}_manager(current_user: CurrentUser) -> User:\n"
            f'    if not current_user.is_superuser and "{self.plural}:manage" not in current_user.scopes:\n'
            "        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=\"Missing scope\")\n"
            "    return current_user"
        )
        dp.add(f"{c}Manager = Annotated[User, Depends(require_{v}_manager)]")

    # -- tasks --------------------------------------------------------------------------
    def _build_tasks(self) -> None:
        t, v, c = self.files["tasks.py"], self.var, self.camel
        t.imp_module("import logging")
        t.imp("collections.abc", "Sequence")
        t.imp("app.core.db", "SessionLocal")
        t.imp(f"{self.pkg}.repository", f"{c}Repository")
        t.add("logger = logging.getLogger(__name__)")
        if self.uses_smtp:
            t.imp_module("import smtplib")
            t.imp("email.message", "EmailMessage")
            t.imp("app.core.config", "settings")
            t.add(
                f"def send_{v}_notification({v}_id: int, recipient: str) -> None:\n"
                "    message = EmailMessage()\n"
                f'    message["Subject"] = f"{self.title.capitalize()} {{{v}_id}} was updated"\n'
                '    message["From"] = settings.mail_from\n'
                '    message["To"] = recipient\n'
                f'    message.set_content(f"See {{settings.frontend_url}}/{self.plural}/{{{v}_id}}")\n'
                "    with smtplib.SMTP(settings.smtp_host, settings.smtp_port) as smtp:\n"
                "        smtp.send_message(message)"
            )
        else:
            t.add(
                f"def send_{v}_notification({v}_id: int, recipient: str) -> None:\n"
                f'    logger.info("notify %s about {self.title} %s", recipient, {v}_id)'
            )
        t.add(
            f"def reindex_{self.plural}(ids: Sequence[int]) -> int:\n"
            "    done = 0\n"
            "    with SessionLocal() as session:\n"
            f"        repo = {c}Repository(session)\n"
            "        for item_id in ids:\n"
            "            if repo.get(item_id) is None:\n"
            "                continue\n"
            "            done += 1\n"
            "        repo.touch_many(ids)\n"
            "        session.commit()\n"
            f'    logger.info("reindexed %d {self.plural}", done)\n'
            "    return done"
        )

    # -- router -------------------------------------------------------------------------
    def _coin(self, p: float = 0.45) -> bool:
        """Whether a handler is `async def` (or any other yes/no choice), with odds `p`."""
        return self.rng.random() < p

    def _route(self, decorator: str, is_async: bool, name: str, params: list[str], ret: str,
               body: list[str]) -> None:
        kw = "async def" if is_async else "def"
        sig = ", ".join(params)
        head = f"{kw} {name}({sig}) -> {ret}:"
        if len(head) > 96:
            head = f"{kw} {name}(\n" + "".join(f"    {p},\n" for p in params) + f") -> {ret}:"
        self.files["router.py"].add(f"{decorator}\n{head}\n" + indent("\n".join(body)))
        self.routes += 1

    def _build_router(self, extra_routes: int) -> None:
        r, v, c, rng, pl = self.files["router.py"], self.var, self.camel, self.rng, self.plural
        r.imp_module("import logging")
        r.imp("typing", "Annotated")
        r.imp("collections.abc", "Sequence")
        r.imp("fastapi", "APIRouter", "Query", "status")
        r.imp("app.core.security", "CurrentUser")
        r.imp(f"{self.pkg}.deps", f"{c}ServiceDep", f"Owned{c}", f"Valid{c}")
        r.imp(f"{self.pkg}.models", c)
        r.imp(f"{self.pkg}.schemas", f"{c}Create", f"{c}Out", f"{c}Update")
        r.add("logger = logging.getLogger(__name__)")
        self.router_prefix_in_router = rng.random() < 0.7
        url = "/" + pl.replace("_", "-")
        self.url = url
        tags = f'tags=["{pl.replace("_", "-")}"]'
        if self.router_prefix_in_router:
            r.add(f'router = APIRouter(prefix="{url}", {tags})')
        else:
            r.add(f"router = APIRouter({tags})")
        svc = f"service: {c}ServiceDep"
        cu = "current_user: CurrentUser"
        a = self._coin
        self._route(
            f'@router.get("", response_model=list[{c}Out])', a(0.3), f"list_{pl}",
            [svc, cu, "offset: Annotated[int, Query(ge=0)] = 0",
             "limit: Annotated[int, Query(ge=1, le=200)] = 50"],
            f"Sequence[{c}]",
            [f"return service.list_{pl}(owner_id=current_user.id, offset=offset, limit=limit)"],
        )
        self._route(
            f'@router.get("/{{{v}_id}}", response_model={c}Out)', a(), f"read_{v}",
            [f"{v}: Owned{c}"], c, [f"return {v}"],
        )
        self._route(
            f'@router.post("", response_model={c}Out, status_code=status.HTTP_201_CREATED)',
            False, f"create_{v}", [f"payload: {c}Create", svc, cu], c,
            [f"{v} = service.create_{v}(payload, current_user)",
             f'logger.info("created {self.title} %s", {v}.id)', f"return {v}"],
        )
        self._route(
            f'@router.patch("/{{{v}_id}}", response_model={c}Out)', False, f"update_{v}",
            [f"{v}: Owned{c}", f"payload: {c}Update", svc], c,
            [f"return service.update_{v}({v}, payload)"],
        )
        self._route(
            f'@router.delete("/{{{v}_id}}", status_code=status.HTTP_204_NO_CONTENT)', False,
            f"delete_{v}", [f"{v}: Owned{c}", svc], "None", [f"service.delete_{v}({v})"],
        )
        extras = self._extra_routes()
        rng.shuffle(extras)
        for make in extras[:extra_routes]:
            make()

    def _extra_routes(self) -> list[Callable[[], None]]:
        r, v, c, pl = self.files["router.py"], self.var, self.camel, self.plural
        svc = f"service: {c}ServiceDep"
        cu = "current_user: CurrentUser"
        a = self._coin
        pkg = self.pkg

        def search() -> None:
            self._route(
                f'@router.get("/search", response_model=list[{c}Out])', a(0.3), f"search_{pl}",
                ['q: Annotated[str, Query(min_length=2, max_length=100)]', svc, cu],
                f"Sequence[{c}]", ["return service.search(q)"],
            )

        def stats() -> None:
            r.imp(f"{pkg}.schemas", f"{c}Stats")
            self._route(
                f'@router.get("/stats", response_model={c}Stats)', a(), f"get_{v}_stats",
                [svc, cu], f"{c}Stats", ["return service.stats(current_user.id)"],
            )

        def export() -> None:
            r.imp("typing", "Any")
            self._route(
                '@router.get("/export")', a(), f"export_{pl}", [svc, cu],
                "list[dict[str, Any]]",
                [f"rows = service.export_{pl}(current_user.id)",
                 f'logger.info("exported %d {pl}", len(rows))', "return rows"],
            )

        def sync() -> None:
            r.imp("typing", "Any")
            r.imp("app.core.db", "SessionDep")
            r.imp(pkg, f"service as {v}_service")
            self._route(
                f'@router.post("/{{{v}_id}}/sync", status_code=status.HTTP_202_ACCEPTED)',
                a(0.6), f"sync_{v}", [f"{v}: Owned{c}", "db: SessionDep"], "dict[str, Any]",
                [f"return {v}_service.sync_{v}_with_partner(db, {v}.id)"],
            )

        def summary() -> None:
            r.imp("typing", "Any")
            r.imp("app.core.db", "SessionDep")
            r.imp(pkg, f"service as {v}_service")
            self._route(
                f'@router.get("/{{{v}_id}}/summary")', a(0.5), f"read_{v}_summary",
                [f"{v}_id: int", "db: SessionDep", cu], "dict[str, Any]",
                [f"return {v}_service.get_{v}_summary(db, {v}_id)"],
            )

        def archive() -> None:
            r.imp("fastapi", "HTTPException")
            r.imp(self.exc_mod, f"{c}StateError")
            self._route(
                f'@router.post("/{{{v}_id}}/archive", response_model={c}Out)', False,
                f"archive_{v}", [f"{v}: Owned{c}", svc], c,
                ["try:", f"    return service.archive_{v}({v})", f"except {c}StateError as exc:",
                 "    raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(exc)) from exc"],
            )

        def notify() -> None:
            r.imp("fastapi", "BackgroundTasks")
            if self.with_tasks:
                r.imp(pkg, "tasks")
                body = [f"background_tasks.add_task(tasks.send_{v}_notification, {v}.id, current_user.email)"]
            else:
                body = [f'logger.info("notification for {self.title} %s queued", {v}.id)']
            self._route(
                f'@router.post("/{{{v}_id}}/notify", status_code=status.HTTP_202_ACCEPTED)',
                a(), f"notify_{v}", [f"{v}: Valid{c}", "background_tasks: BackgroundTasks", cu],
                "dict[str, str]", [*body, 'return {"status": "queued"}'],
            )

        def fetch_async() -> None:
            r.imp("app.core.db", "AsyncSessionDep")
            r.imp(pkg, f"service as {v}_service")
            r.imp("fastapi", "HTTPException")
            self._route(
                f'@router.get("/{{{v}_id}}/fresh", response_model={c}Out)', True,
                f"read_fresh_{v}", [f"{v}_id: int", "session: AsyncSessionDep", cu], c,
                [f"{v} = await {v}_service.fetch_{v}(session, {v}_id)",
                 f"if {v} is None or {v}.owner_id != current_user.id:",
                 f'    raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="{self.title.capitalize()} not found")',
                 f"return {v}"],
            )

        def page_async() -> None:
            r.imp("app.core.db", "AsyncSessionDep")
            r.imp(pkg, f"service as {v}_service")
            r.imp(f"{pkg}.schemas", f"{c}Page")
            self._route(
                f'@router.get("/page", response_model={c}Page)', True, f"page_{pl}",
                ["session: AsyncSessionDep", cu, "offset: Annotated[int, Query(ge=0)] = 0",
                 "limit: Annotated[int, Query(ge=1, le=200)] = 50"],
                f"{c}Page",
                [f"items = await {v}_service.fetch_{v}_page(session, owner_id=current_user.id, offset=offset, limit=limit)",
                 f"return {c}Page(",
                 f"    items=[{c}Out.model_validate(item) for item in items],",
                 "    total=len(items),", "    offset=offset,", "    limit=limit,", ")"],
            )

        def recalc() -> None:
            r.imp(f"{pkg}.deps", f"{c}Manager")
            self._route(
                f'@router.post("/{{{v}_id}}/recalculate", response_model={c}Out)', a(0.35),
                f"recalculate_{v}", [f"{v}: Valid{c}", svc, f"manager: {c}Manager"], c,
                [f'logger.info("recalculate {self.title} %s by %s", {v}.id, manager.id)',
                 f"return service.recalculate_{v}({v})"],
            )

        def count() -> None:
            self._route(
                '@router.get("/count")', a(), f"count_{pl}", [svc, cu], "dict[str, int]",
                [f'return {{"count": service.count_{pl}(current_user.id)}}'],
            )

        def health() -> None:
            self._route(
                '@router.get("/health", include_in_schema=False)', a(0.7), f"{pl}_health", [],
                "dict[str, str]", ['return {"status": "ok"}'],
            )

        def bulk() -> None:
            self._route(
                f'@router.post("/bulk", response_model=list[{c}Out], status_code=status.HTTP_201_CREATED)',
                False, f"bulk_create_{pl}", [f"payloads: list[{c}Create]", svc, cu], f"list[{c}]",
                [f"return [service.create_{v}(payload, current_user) for payload in payloads]"],
            )

        def legacy() -> None:
            # An old endpoint with a smell a reviewer should flag (returned, not raised).
            r.imp("fastapi", "HTTPException")
            r.imp("typing", "Any")
            self._route(
                f'@router.get("/legacy/{{{v}_id}}", deprecated=True)', False, f"legacy_read_{v}",
                [f"{v}_id: int", svc, cu], "Any",
                [f"{v} = service.get_{v}({v}_id)", f"if {v} is None:",
                 '    return HTTPException(status_code=404, detail="Not found")', f"return {v}"],
            )

        makers: list[Callable[[], None]] = [
            search, stats, export, sync, summary, archive, notify, fetch_async, page_async,
            recalc, count, health, bulk,
        ]
        if self.rng.random() < 0.08:
            makers.append(legacy)
        if self.upstream:
            up = self.upstream[0]

            def linked() -> None:
                r.imp("app.core.db", "SessionDep")
                r.imp(up.pkg, f"service as {up.var}_service")
                self._route(
                    f'@router.get("/linked/{up.plural.replace("_", "-")}/count")', a(0.5),
                    f"count_linked_{up.plural}", ["db: SessionDep", cu], "dict[str, int]",
                    [f"total = {up.var}_service.count_{up.plural}_for_owner(db, current_user.id)",
                     f'return {{"{up.plural}": total}}'],
                )

            makers.append(linked)
        return makers

    # -- secondary entities -------------------------------------------------------------
    def add_secondary(self, with_routes: bool = False) -> bool:
        taken = {f.name for f in self.primary.fields}
        left = [
            s for s in SECONDARY_SUFFIXES
            if s not in self._used_suffixes and plural(s.lower()) not in taken
        ]
        if not left:
            return False
        suffix = self.rng.choice(left)
        self._used_suffixes.append(suffix)
        name = f"{self.camel}{suffix}"
        snake = snake_of(name)
        attr = plural(suffix.lower())
        e = Entity(name, snake, plural(snake), self._pick_fields(3, 7), attr, f"{self.var}_id")
        self.secondary.append(e)
        m = self.files["models.py"]
        m.imp("sqlalchemy.orm", "relationship")
        self._model_imports(e)
        m.add(ClassBlock(
            f"class {name}(Base):",
            [
                f'__tablename__ = "{e.table}"',
                "id: Mapped[int] = mapped_column(primary_key=True)\n"
                f"{e.fk}: Mapped[int] = mapped_column(\n"
                f'    ForeignKey("{self.plural}.id", ondelete="CASCADE"), index=True\n)\n'
                + "\n".join(self._column(f) for f in e.fields)
                + "\ncreated_at: Mapped[datetime] = mapped_column(\n"
                "    DateTime(timezone=True), server_default=func.now()\n)\n"
                "updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)\n\n"
                f'{self.var}: Mapped[{self.camel}] = relationship(back_populates="{attr}")',
            ],
        ))
        self.model_block.members[1] += (
            f"\n{attr}: Mapped[list[{name}]] = relationship(\n"
            f'    back_populates="{self.var}", cascade="all, delete-orphan"\n)'
        )
        self.model_block.lines += 3
        self._build_schemas(e)
        if not hasattr(self, "sec_repo_blocks"):
            self.sec_repo_blocks = {}
        self._build_repository(e)
        # service methods for the children
        s = self.files["service.py"]
        s.imp(f"{self.pkg}.models", name)
        s.imp(f"{self.pkg}.repository", f"{name}Repository")
        s.imp(f"{self.pkg}.schemas", f"{name}Create")
        v = self.var
        repo_attr = f"{snake_of(suffix)}_repo"
        self.service_block.members[0] += f"\n    self.{repo_attr} = {name}Repository(session)"
        self.service_block.lines += 1
        list_name = f"list_{attr}"
        self.service_block.add(
            f"def {list_name}(self, {v}: {self.camel}) -> Sequence[{name}]:\n"
            f"    return self.{repo_attr}.list({e.fk}={v}.id)"
        )
        child = snake_of(suffix)
        self.service_block.add(
            f"def add_{child}(self, {v}: {self.camel}, payload: {name}Create) -> {name}:\n"
            f"    {child} = {name}(**payload.model_dump(), {e.fk}={v}.id)\n"
            f"    self.{repo_attr}.add({child})\n"
            "    self.session.commit()\n"
            f"    return {child}"
        )
        if not with_routes:
            return True
        r = self.files["router.py"]
        r.imp(f"{self.pkg}.models", name)
        r.imp(f"{self.pkg}.schemas", f"{name}Create", f"{name}Out")
        svc = f"service: {self.camel}ServiceDep"
        url_attr = attr.replace("_", "-")
        self._route(
            f'@router.get("/{{{v}_id}}/{url_attr}", response_model=list[{name}Out])',
            self.rng.random() < 0.4, f"list_{v}_{attr}", [f"{v}: Owned{self.camel}", svc],
            f"Sequence[{name}]", [f"return service.{list_name}({v})"],
        )
        self._route(
            f'@router.post("/{{{v}_id}}/{url_attr}", response_model={name}Out, status_code=status.HTTP_201_CREATED)',
            False, f"add_{v}_{child}", [f"{v}: Owned{self.camel}", f"payload: {name}Create", svc],
            name, [f"return service.add_{child}({v}, payload)"],
        )
        return True

    # -- filler units: more of the same kinds of code, to reach the line budget ----------
    def _plan_units(self) -> None:
        """Queue (shuffled) every unit of code not added yet: queries, helpers, schemas."""
        units: list[tuple[str, Callable[[], None]]] = []
        for e in [self.primary, *self.secondary]:
            for f in e.fields:
                if f.kind == "json":
                    continue
                for kind in ("list_by", "count_by", "latest_by"):
                    units.append((f"q:{e.camel}:{f.name}:{kind}",
                                  partial(self._unit_query, e, f, kind)))
                units.append((f"u:{e.camel}:{f.name}", partial(self._unit_util, e, f)))
                if e is self.primary:
                    units.append((f"a:{f.name}", partial(self._unit_async_fetch, f)))
        for metric in METRICS:
            units.append((f"m:{metric}", partial(self._unit_metric, metric)))
        for variant in SCHEMA_VARIANTS:
            units.append((f"s:{variant}", partial(self._unit_schema, variant)))
        units = [u for u in units if u[0] not in self._done_units]
        self.rng.shuffle(units)
        self._units = units

    def fill(self, budget: int) -> None:
        """Add units of code until the domain has about `budget` lines."""
        while self.line_count() < budget:
            if not self._units:
                if not self.add_secondary():
                    return
                self._plan_units()
                continue
            key, make = self._units.pop()
            self._done_units.add(key)
            make()

    def _unit_query(self, e: Entity, f: FieldSpec, kind: str) -> None:
        r, s = self.files["repository.py"], self.files["service.py"]
        block = self.repo_block if e is self.primary else self.sec_repo_blocks[e.camel]
        arg = f.name
        ptype = f.py_type.replace(" | None", "")
        if kind == "list_by":
            block.add(
                f"def list_by_{f.name}(self, {arg}: {ptype}, *, limit: int = 100) -> Sequence[{e.camel}]:\n"
                "    stmt = (\n"
                f"        select({e.camel})\n"
                f"        .where({e.camel}.{f.name} == {arg})\n"
                f"        .order_by({e.camel}.id.desc())\n"
                "        .limit(limit)\n"
                "    )\n"
                "    return self.session.scalars(stmt).all()"
            )
            rows = f"self.{self._repo_attr(e)}.list_by_{f.name}({arg}, limit=limit)"
            s.imp(f"{self.pkg}.schemas", f"{e.camel}Out")
            self.service_block.add(
                f"def {e.snake}s_with_{f.name}(self, {arg}: {ptype}, *, limit: int = 100) -> list[{e.camel}Out]:\n"
                f"    rows = {rows}\n"
                f"    return [{e.camel}Out.model_validate(row) for row in rows]"
            )
        elif kind == "count_by":
            block.add(
                f"def count_by_{f.name}(self, {arg}: {ptype}) -> int:\n"
                f"    stmt = select(func.count()).select_from({e.camel}).where({e.camel}.{f.name} == {arg})\n"
                "    return self.session.scalar(stmt) or 0"
            )
            self.service_block.add(
                f"def has_{e.snake}_with_{f.name}(self, {arg}: {ptype}) -> bool:\n"
                f"    return self.{self._repo_attr(e)}.count_by_{f.name}({arg}) > 0"
            )
        else:
            block.add(
                f"def latest_by_{f.name}(self, {arg}: {ptype}) -> {e.camel} | None:\n"
                "    stmt = (\n"
                f"        select({e.camel})\n"
                f"        .where({e.camel}.{f.name} == {arg})\n"
                f"        .order_by({e.camel}.created_at.desc())\n"
                "        .limit(1)\n"
                "    )\n"
                "    return self.session.scalars(stmt).first()"
            )
            self.service_block.add(
                f"def latest_{e.snake}_for_{f.name}(self, {arg}: {ptype}) -> {e.camel}:\n"
                f"    found = self.{self._repo_attr(e)}.latest_by_{f.name}({arg})\n"
                "    if found is None:\n"
                f"        raise {self.camel}NotFound(0)\n"
                "    return found"
            )
            if e is not self.primary:
                s.imp(f"{self.pkg}.models", e.camel)
        for t in ("Decimal", "datetime", "date"):
            if t in ptype.split(" | ") or ptype == t:
                mod = "decimal" if t == "Decimal" else "datetime"
                r.imp(mod, t)
                s.imp(mod, t)

    def _repo_attr(self, e: Entity) -> str:
        if e is self.primary:
            return "repo"
        return f"{snake_of(e.camel[len(self.camel):])}_repo"

    def _unit_util(self, e: Entity, f: FieldSpec) -> None:
        u = self.files["utils.py"]
        name = f"{e.snake}_{f.name}"
        if f.kind == "str":
            u.add(
                f"def normalize_{name}(value: str | None) -> str | None:\n"
                "    if value is None:\n        return None\n"
                "    cleaned = \" \".join(value.split())\n"
                "    return cleaned or None"
            )
        elif f.kind == "num":
            u.imp("decimal", "Decimal")
            u.add(
                f"def clamp_{name}(value: float | Decimal, low: float = 0, high: float = 1_000_000) -> float:\n"
                "    number = float(value)\n"
                "    if number < low:\n"
                f'        logger.debug("{f.name} below range: %s", number)\n'
                "        return low\n"
                "    return min(number, high)"
            )
        elif f.kind == "date":
            u.imp("datetime", "date", "datetime")
            u.add(
                f"def describe_{name}(value: date | datetime | None) -> str:\n"
                "    if value is None:\n"
                '        return "not set"\n'
                "    if isinstance(value, datetime):\n"
                '        return value.strftime("%Y-%m-%d %H:%M")\n'
                "    return value.isoformat()"
            )
        else:
            u.add(
                f"def label_{name}(value: bool) -> str:\n"
                f'    return "{f.name.replace("_", " ")}" if value else "not {f.name.replace("is_", "")}"'
            )

    def _unit_async_fetch(self, f: FieldSpec) -> None:
        s, c = self.files["service.py"], self.camel
        ptype = f.py_type.replace(" | None", "")
        for t in ("Decimal", "datetime", "date"):
            if ptype == t:
                s.imp("decimal" if t == "Decimal" else "datetime", t)
        s.add(
            f"async def fetch_{self.plural}_by_{f.name}(\n"
            f"    session: AsyncSession, {f.name}: {ptype}, *, limit: int = 100\n"
            f") -> list[{c}]:\n"
            f"    stmt = select({c}).where({c}.{f.name} == {f.name}).limit(limit)\n"
            "    result = await session.scalars(stmt)\n"
            "    return list(result.all())"
        )

    def _unit_metric(self, metric: str) -> None:
        s, c, v = self.files["service.py"], self.camel, self.var
        num = [f for f in self.primary.fields if f.kind == "num"]
        value = f"float({v}.{num[0].name} or 0)" if num else "1.0"
        s.add(
            f"def compute_{v}_{metric}(rows: Sequence[{c}]) -> float:\n"
            f'    """The {metric} over a page of {self.plural.replace("_", " ")}."""\n'
            "    if not rows:\n        return 0.0\n"
            "    values: list[float] = []\n"
            f"    for {v} in rows:\n"
            f"        values.append({value})\n"
            "    total = sum(values)\n"
            + ("    return total / len(values)" if metric in ("average", "velocity", "aging")
               else "    return total")
        )

    def _unit_schema(self, variant: str) -> None:
        s, c = self.files["schemas.py"], self.camel
        fields = self.primary.fields[: 2 + self._schema_variants % 4]
        self._schema_variants += 1
        body = [f"{f.name}: {f.py_type}{'' if f.py_type.endswith('None') else ' | None'} = None"
                for f in fields]
        body += ["count: int = 0", "generated_at: datetime | None = None"]
        s.add(f"class {c}{variant}(BaseModel):\n" + indent("\n".join(body)))

    def render(self) -> dict[str, str]:
        return {f"app/{self.plural}/{name}": w.render() for name, w in self.files.items()}


def core_files() -> dict[str, str]:
    return {
        "app/__init__.py": '"""The synthetic service used by the review throughput benchmark."""\n',
        "app/core/__init__.py": '"""Settings, database and security shared by every domain."""\n',
        "app/core/config.py": '''"""Application settings, read from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_", extra="ignore")

    project_name: str = "Synthetic Service"
    api_v1_prefix: str = "/api/v1"
    database_url: str = "postgresql+psycopg://app:app@localhost:5432/app"
    async_database_url: str = "postgresql+asyncpg://app:app@localhost:5432/app"
    secret_key: str = Field(default="change-me", min_length=8)
    access_token_expire_minutes: int = 60
    algorithm: str = "HS256"
    partner_api_url: str = "https://partner.example.com/api"
    http_timeout: float = 10.0
    smtp_host: str = "localhost"
    smtp_port: int = 25
    mail_from: str = "noreply@example.com"
    frontend_url: str = "https://app.example.com"
    cors_origins: list[str] = Field(default_factory=lambda: ["https://app.example.com"])


@lru_cache
def get_settings() -> Settings:
    return Settings()


settings = get_settings()
''',
        "app/core/db.py": '''"""Engines, sessions and the declarative base."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.core.config import settings

engine = create_engine(settings.database_url, pool_pre_ping=True)
async_engine = create_async_engine(settings.async_database_url, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


async def get_async_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
''',
        "app/core/models.py": '''"""The user table every domain refers to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hashed_password: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
''',
        "app/core/security.py": '''"""Password hashing, tokens and the current-user dependencies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from jose import JWTError, jwt
from passlib.context import CryptContext

from app.core.config import settings
from app.core.db import SessionDep
from app.core.models import User

pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=f"{settings.api_v1_prefix}/login/access-token")


def verify_password(plain: str, hashed: str) -> bool:
    return bool(pwd_context.verify(plain, hashed))


def hash_password(plain: str) -> str:
    return str(pwd_context.hash(plain))


def create_access_token(subject: str | int, expires_delta: timedelta | None = None) -> str:
    expire = datetime.now(timezone.utc) + (
        expires_delta or timedelta(minutes=settings.access_token_expire_minutes)
    )
    claims: dict[str, Any] = {"exp": expire, "sub": str(subject)}
    return str(jwt.encode(claims, settings.secret_key, algorithm=settings.algorithm))


def decode_token(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, settings.secret_key, algorithms=[settings.algorithm]))


def get_current_user(db: SessionDep, token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = decode_token(token)
    except JWTError:
        raise credentials_exception from None
    subject = payload.get("sub")
    if subject is None:
        raise credentials_exception
    user = db.get(User, int(subject))
    if user is None or not user.is_active:
        raise credentials_exception
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_superuser(current_user: CurrentUser) -> User:
    if not current_user.is_superuser:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Not enough privileges")
    return current_user


SuperUser = Annotated[User, Depends(require_superuser)]
''',
    }


def main_module(domains: list[DomainBuilder]) -> str:
    imports = "\n".join(
        f"from {d.pkg}.router import router as {d.var}_router" for d in domains
    )
    includes: list[str] = []
    for d in domains:
        if d.router_prefix_in_router:
            includes.append(f"    app.include_router({d.var}_router, prefix=API_V1)")
        else:
            includes.append(f'    app.include_router({d.var}_router, prefix=f"{{API_V1}}{d.url}")')
    return f'''"""Application factory: settings, middleware, and every domain router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import settings
from app.core.db import async_engine
{imports}

API_V1 = "/api/v1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await async_engine.dispose()


def create_app() -> FastAPI:
    app = FastAPI(title=settings.project_name, version="1.0.0", lifespan=lifespan)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

{chr(10).join(includes)}

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {{"status": "ok"}}

    return app


app = create_app()
'''


def count_lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def build_tree(lines: int, seed: int = SEED) -> tuple[dict[str, str], int, int]:
    """The relative path -> text of every generated file, the domain and route counts."""
    if lines < MIN_LINES:
        raise ValueError(f"--lines must be at least {MIN_LINES}")
    core = core_files()
    core_lines = sum(count_lines(t) for t in core.values())
    target_files = max(1, round(lines / LINES_PER_MODULE))
    fixed_files = len(core) + 1  # + app/main.py
    n_domains = max(1, round((target_files - fixed_files) / 10))
    extras = min(max(target_files - fixed_files - 8 * n_domains, 0), 2 * n_domains)
    rng = random.Random(f"fastapi-architect-bench:{seed}:names")
    names = domain_names(n_domains, rng)
    main_estimate = 45 + 2 * n_domains
    remaining = lines - core_lines - main_estimate
    builders: list[DomainBuilder] = []
    infos: list[DomainInfo] = []
    for i, var in enumerate(names):
        drng = random.Random(f"fastapi-architect-bench:{seed}:domain:{i}:{var}")
        pool = infos[-30:]
        n_up = min(len(pool), drng.choice([0, 1, 1, 2, 2, 3]))
        upstream = drng.sample(pool, n_up) if n_up else []
        n_extra = extras // n_domains + (1 if i < extras % n_domains else 0)
        builder = DomainBuilder(
            i, var, drng, upstream, with_exceptions=n_extra >= 1, with_tasks=n_extra >= 2
        )
        budget = remaining // (n_domains - i)
        builder.fill(budget)
        remaining -= builder.line_count()
        builders.append(builder)
        infos.append(DomainInfo(builder.var, builder.pkg, builder.camel, builder.plural))
    files: dict[str, str] = dict(core)
    for b in builders:
        files.update(b.render())
    files["app/main.py"] = main_module(builders)
    return dict(sorted(files.items())), len(builders), sum(b.routes for b in builders) + 1


def generate(out: Path, lines: int = DEFAULT_LINES, seed: int = SEED) -> GenerationStats:
    """Write the synthetic project under `out` (emptied first) and return its size."""
    files, n_domains, n_routes = build_tree(lines, seed)
    if out.exists():
        _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += count_lines(text)
    stats = GenerationStats(out, len(files), total, n_domains, n_routes, lines)
    meta = {**stats.as_dict(), "version": GENERATOR_VERSION, "seed": seed}
    (out / STAMP).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return stats


def _clear(out: Path) -> None:
    if any(out.iterdir()) and not (out / STAMP).is_file():
        raise SystemExit(f"refusing to overwrite {out}: not a folder this benchmark generated")
    shutil.rmtree(out)


def ensure_generated(out: Path, lines: int, regenerate: bool) -> GenerationStats | None:
    """Generate unless `out` already holds a tree made by this generator for `lines`."""
    stamp = out / STAMP
    if not regenerate and stamp.is_file():
        try:
            meta = json.loads(stamp.read_text(encoding="utf-8"))
        except ValueError:
            meta = {}
        same = (meta.get("version"), meta.get("seed"), meta.get("target_lines"))
        if same == (GENERATOR_VERSION, SEED, lines):
            return None
    return generate(out, lines)


# ---------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------


def python_files(root: Path) -> list[Path]:
    """The files the review reads (same discovery and default excludes)."""
    from fastapi_architect.config import Config
    from fastapi_architect.source.discovery import discover

    files: list[Path] = discover([root], Config().excludes)
    return files


def parse_all(files: Sequence[Path]) -> int:
    lines = 0
    for path in files:
        source = path.read_bytes()
        ast.parse(source, str(path))
        lines += source.count(b"\n")
    return lines


def count_tree_lines(files: Sequence[Path]) -> int:
    return sum(count_lines(p.read_bytes().decode("utf-8", "replace")) for p in files)


def run_review(root: Path, use_cache: bool = False) -> Any:
    from fastapi_architect.config import Config
    from fastapi_architect.review.engine import review_paths

    return review_paths([root], Config(), root=root, use_cache=use_cache)


def measure_warm(root: Path, repeat: int, cold_findings: list[Any]) -> Timing:
    """Warm runs: the review cache (in a temporary folder) filled once, then an
    unchanged tree reviewed again; the findings must be the cold run's."""
    import tempfile

    from fastapi_architect.review.cache import CACHE_DIR_ENV

    previous = os.environ.get(CACHE_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="bench-review-cache-") as folder:
        os.environ[CACHE_DIR_ENV] = folder
        try:
            run_review(root, use_cache=True)
            timing, warm = best_of(repeat, "warm review", lambda: run_review(root, use_cache=True))
        finally:
            if previous is None:
                del os.environ[CACHE_DIR_ENV]
            else:
                os.environ[CACHE_DIR_ENV] = previous
    if warm.findings != cold_findings:
        raise SystemExit("the warm review's findings differ from the cold review's")
    return timing


@dataclass
class Timing:
    """Wall-clock (`perf_counter`) and CPU (`process_time`) seconds of each run."""

    wall: list[float]
    cpu: list[float]

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def best_of(repeat: int, label: str, action: Callable[[], Any]) -> tuple[Timing, Any]:
    timing = Timing([], [])
    result: Any = None
    for i in range(repeat):
        result = None
        gc.collect()
        cpu_start = time.process_time()
        start = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        timing.wall.append(elapsed)
        timing.cpu.append(cpu)
        print(f"  {label} run {i + 1}/{repeat}: {elapsed:.3f} s (cpu {cpu:.3f} s)", file=sys.stderr)
    return timing, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    On Linux this is `VmHWM` of /proc/self/status, which starts afresh at exec. `ru_maxrss`
    does not: a child started by fork/vfork + exec carries the parent's peak over.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS.
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def own_memory_mb() -> float:
    """The memory this process holds alone (`Private_Clean` + `Private_Dirty` of
    /proc/self/smaps_rollup, in MB): for a forked child, the pages it has copied from
    its parent by writing to them (CPython writes an object's reference count each time
    it reads the object). 0 where /proc is not there."""
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return 0.0
    kib = sum(int(line.split()[1]) for line in text.splitlines()
              if line.startswith(("Private_Clean:", "Private_Dirty:")))
    return kib / 1024


def watch_forked_child() -> Callable[[], float]:
    """Make the review's forked child report its own memory as it finishes; returns what
    tells, after the review, how much that was (0 if no child ran)."""
    from fastapi_architect.review import engine

    read_fd, write_fd = os.pipe()
    walk_front = engine._walk_front

    def walk_and_report(*args: Any) -> Any:
        outcome = walk_front(*args)
        os.write(write_fd, f"{own_memory_mb():.1f}\n".encode())
        return outcome

    engine._walk_front = walk_and_report  # type: ignore[assignment]

    def child_mb() -> float:
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            lines = pipe.read().split()
        return float(lines[-1]) if lines else 0.0

    return child_mb


def child_review(root: Path) -> None:
    """Run one review in this (fresh) process and print its memory figures as JSON."""
    import fastapi_architect.review.engine  # noqa: F401  (import cost is not the review's)

    child_mb = watch_forked_child()
    before = peak_rss_mb()
    start = time.perf_counter()
    result = run_review(root)
    elapsed = time.perf_counter() - start
    after = peak_rss_mb()
    child = child_mb()
    print(json.dumps({
        "peak_mb": round(after, 1),
        "child_own_mb": round(child, 1),
        "both_mb": round(after + child, 1),
        "before_review_mb": round(before, 1),
        "seconds": round(elapsed, 3),
        "findings": len(result.findings),
    }))


def measure_memory(root: Path) -> dict[str, Any] | None:
    if sys.platform == "win32":
        return None
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-review", str(root)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"memory run failed ({proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


# Runs the command as `python -m fastapi_architect ...` would, and at its very end (the
# first handler registered runs last) prints the process's peak memory: measured inside,
# because a child's `ru_maxrss` starts from its parent's peak (see peak_rss_mb).
_CLI_WRAPPER = """
import atexit, runpy, sys
sys.path.insert(0, sys.argv.pop(1))
from review_throughput import peak_rss_mb, watch_forked_child
child_mb = watch_forked_child()
atexit.register(lambda: print(f"{peak_rss_mb():.1f} {child_mb():.1f}", file=sys.stderr))
sys.argv[0] = "fastapi-architect"
runpy.run_module("fastapi_architect", run_name="__main__", alter_sys=True)
"""


def measure_cli(root: Path, repeat: int) -> dict[str, Any] | None:
    """What a user waits for: `fastapi-architect review ROOT --no-cache` in a new process,
    with its imports and the text report (written to a file), best of `repeat`; and the
    command's peak memory, of its own process and with its forked child's own pages."""
    import tempfile

    seconds: list[float] = []
    peak_mb = both_mb = 0.0
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.txt"
        cmd = [sys.executable, "-c", _CLI_WRAPPER, str(Path(__file__).resolve().parent),
               "review", str(root), "--no-cache", "--no-color", "--output-file", str(report)]
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, check=False)
            seconds.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                print(f"command line run failed ({proc.returncode}):\n{proc.stderr[-2000:]}",
                      file=sys.stderr)
                return None
            own, child = map(float, proc.stderr.strip().splitlines()[-1].split())
            peak_mb = max(peak_mb, own)
            both_mb = max(both_mb, own + child)
    return {"seconds": min(seconds), "runs": [round(t, 4) for t in seconds],
            "peak_mb": round(peak_mb, 1), "both_mb": round(both_mb, 1)}


def profile_review(root: Path, top: int = 30) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run_review(root)
    profiler.disable()
    print(f"\nProfile of one review (top {top} by cumulative time):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)


PHASES = ("parse", "load", "model", "project rules", "route rules", "node rules")


def measure_phases(root: Path, repeat: int) -> dict[str, float]:
    """CPU seconds of each phase of a review run serially in this process, best of
    `repeat`: the parse floor; then, collector off as in a review, read, decode and parse
    (`load`); the model build;
    the project, route and node rules in turn (the project rules first, so the project
    indexes the others share are counted there). Their sum, halved, is what any split of
    this work over two cores could at best reach (`print_phases`)."""
    from fastapi_architect.config import Config
    from fastapi_architect.model.build import build_model
    from fastapi_architect.review import engine
    from fastapi_architect.review.collector import Collector
    from fastapi_architect.review.selection import enabled_rules
    from fastapi_architect.source.loader import SourceFile, load

    config = Config()
    paths = python_files(root)
    rules = enabled_rules(config)
    scoped = {scope: [r for r in rules if r.scope == scope] for scope in ("project", "route", "node")}
    best: dict[str, float] = {}
    with engine._few_collections():
        for _ in range(repeat):
            seconds: dict[str, float] = {}
            # The floor as `parse_all` times it: the collector on, as in any plain loop
            # (the review turns it off; its phases below run without it).
            gc.enable()
            start = time.process_time()
            parse_all(paths)
            seconds["parse"] = time.process_time() - start
            gc.disable()
            start = time.process_time()
            loaded = [f for f in map(load, paths) if isinstance(f, SourceFile)]
            seconds["load"] = time.process_time() - start
            start = time.process_time()
            model = build_model(((f.path, f.text, f.tree) for f in loaded), root, config.auth_dependencies)
            seconds["model"] = time.process_time() - start
            for scope, chosen in scoped.items():
                start = time.process_time()
                engine.run_rules(model, chosen, Collector(config), parallel_min_modules=1 << 30)
                seconds[f"{scope} rules"] = time.process_time() - start
            for phase, value in seconds.items():
                best[phase] = min(best.get(phase, value), value)
            model.release()
            del model, loaded
            gc.collect()
    return best


def print_phases(phases: dict[str, float]) -> None:
    floor = phases["parse"]
    serial = sum(phases[p] for p in PHASES[1:])
    print("\nCPU by phase, serial (best of the runs):")
    for phase in PHASES:
        print(f"  {phase:<16}{phases[phase]:>8.2f} s {phases[phase] / floor:>7.2f}x parse")
    print(f"  {'review, serial':<16}{serial:>8.2f} s {serial / floor:>7.2f}x parse")
    print(
        f"  {'two-core bound':<16}{serial / 2:>8.2f} s {serial / 2 / floor:>7.2f}x parse"
        "  (the serial work split evenly over two cores, at no cost)"
    )


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def print_table(figures: dict[str, Any]) -> None:
    n = figures["repeat"]
    rows = [
        ("files", f"{figures['files']:,}"),
        ("lines", f"{figures['lines']:,}"),
        (f"parse s (best of {n})", _fmt(figures["parse_seconds"], ".3f")),
        (f"review s (best of {n})", _fmt(figures["review_seconds"], ".3f")),
        ("ratio review/parse", _fmt(figures["ratio"], ".2f", "x")),
        (f"warm review s (best of {n})", _fmt(figures["warm_seconds"], ".3f")),
        ("ratio warm/parse", _fmt(figures["warm_ratio"], ".3f", "x")),
        ("review lines/s", _fmt(figures["review_lines_per_second"], ",.0f")),
        ("peak MB (review process)", _fmt(figures["peak_mb"], ".1f")),
        ("  + its forked child's own MB", _fmt(figures["child_own_mb"], ".1f")),
        ("  = both processes MB", _fmt(figures["both_mb"], ".1f")),
        (f"command line s (best of {n})", _fmt(figures["cli_seconds"], ".3f")),
        ("ratio command line/parse", _fmt(figures["cli_ratio"], ".2f", "x")),
        ("peak MB (command line)", _fmt(figures["cli_peak_mb"], ".1f")),
        ("  with its forked child MB", _fmt(figures["cli_both_mb"], ".1f")),
        (f"parse CPU s (best of {n})", _fmt(figures["parse_cpu_seconds"], ".3f")),
        (f"review CPU s (best of {n})", _fmt(figures["review_cpu_seconds"], ".3f")),
        ("ratio by CPU time", _fmt(figures["cpu_ratio"], ".2f", "x")),
        ("findings", f"{figures['findings']:,}"),
        ("routes", _fmt(figures.get("routes"), ",")),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    print(f"Review throughput: {figures['root']}")
    print("-" * (width + 16))
    for key, value in rows:
        print(f"{key:<{width}}  {value:>12}")
    print("-" * (width + 16))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--lines", type=int, default=DEFAULT_LINES,
                   help="size of the synthetic project in lines (default %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; best is kept")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="where the synthetic project is written (default bench/.work/synthetic)")
    p.add_argument("--regenerate", action="store_true",
                   help="regenerate the project even if it is there already")
    p.add_argument("--path", type=Path, default=None,
                   help="measure this existing tree instead of generating one")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to FILE")
    p.add_argument("--profile", action="store_true",
                   help="run one review under cProfile and print the top 30 cumulative entries")
    p.add_argument("--phases", action="store_true",
                   help="also time each phase serially, and the best two cores could do")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    p.add_argument("--no-cli", action="store_true",
                   help="skip the runs of the command line (imports and the text report)")
    p.add_argument("--child-review", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.path is None and args.lines < MIN_LINES:
        p.error(f"--lines must be at least {MIN_LINES}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_review is not None:
        child_review(args.child_review.resolve())
        return 0

    routes: int | None = None
    if args.path is not None:
        root = args.path.resolve()
        if not root.is_dir():
            print(f"not a folder: {root}", file=sys.stderr)
            return 2
    else:
        root = args.out.resolve()
        start = time.perf_counter()
        stats = ensure_generated(root, args.lines, args.regenerate)
        if stats is not None:
            print(f"generated {stats.files} files, {stats.lines:,} lines, {stats.domains} domains "
                  f"in {time.perf_counter() - start:.1f} s -> {root}", file=sys.stderr)

    files = python_files(root)
    if not files:
        print(f"no Python files under {root}", file=sys.stderr)
        return 2
    lines = count_tree_lines(files)
    print(f"measuring {len(files)} files, {lines:,} lines under {root}", file=sys.stderr)

    # Memory first, while this process is still small (see peak_rss_mb).
    memory = None if args.no_memory else measure_memory(root)
    # Interleaved, so that both measurements meet the same background load of the
    # machine; the best run of each is kept.
    parse_t, review_t = Timing([], []), Timing([], [])
    result: Any = None
    for _ in range(args.repeat):
        one_parse, _ = best_of(1, "parse", lambda: parse_all(files))
        one_review, result = best_of(1, "review", lambda: run_review(root))
        for timing, one in ((parse_t, one_parse), (review_t, one_review)):
            timing.wall += one.wall
            timing.cpu += one.cpu
    parse_s, review_s = parse_t.best, review_t.best
    if result.internal_errors:
        print(f"{len(result.internal_errors)} internal errors, first ones:", file=sys.stderr)
        for line in result.internal_errors[:5]:
            print(f"  {line}", file=sys.stderr)
    warm_s = measure_warm(root, args.repeat, result.findings).best
    cli = None if args.no_cli else measure_cli(root, args.repeat)
    if args.path is None:
        from fastapi_architect.config import Config
        from fastapi_architect.review.engine import load_model

        routes = len(load_model([root], Config(), root=root).routes)

    figures: dict[str, Any] = {
        "root": str(root),
        "files": len(files),
        "files_checked": result.files_checked,
        "lines": lines,
        "repeat": args.repeat,
        "parse_seconds": round(parse_s, 4),
        "review_seconds": round(review_s, 4),
        "ratio": round(review_s / parse_s, 3) if parse_s else None,
        "review_lines_per_second": round(lines / review_s) if review_s else None,
        "warm_seconds": round(warm_s, 4),
        "warm_ratio": round(warm_s / parse_s, 4) if parse_s else None,
        "parse_cpu_seconds": round(parse_t.best_cpu, 4),
        "review_cpu_seconds": round(review_t.best_cpu, 4),
        "cpu_ratio": round(review_t.best_cpu / parse_t.best_cpu, 3) if parse_t.best_cpu else None,
        "peak_mb": memory["peak_mb"] if memory else None,
        "child_own_mb": memory["child_own_mb"] if memory else None,
        "both_mb": memory["both_mb"] if memory else None,
        "before_review_mb": memory["before_review_mb"] if memory else None,
        "cli_seconds": round(cli["seconds"], 4) if cli else None,
        "cli_ratio": round(cli["seconds"] / parse_s, 3) if cli and parse_s else None,
        "cli_peak_mb": cli["peak_mb"] if cli else None,
        "cli_both_mb": cli["both_mb"] if cli else None,
        "cli_runs": cli["runs"] if cli else None,
        "findings": len(result.findings),
        "internal_errors": len(result.internal_errors),
        "routes": routes,
        "parse_runs": [round(t, 4) for t in parse_t.wall],
        "review_runs": [round(t, 4) for t in review_t.wall],
        "parse_cpu_runs": [round(t, 4) for t in parse_t.cpu],
        "review_cpu_runs": [round(t, 4) for t in review_t.cpu],
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
    }
    if args.phases:
        phases = measure_phases(root, args.repeat)
        figures["phases_cpu_seconds"] = {k: round(v, 4) for k, v in phases.items()}
    print_table(figures)
    if args.phases:
        print_phases(phases)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if args.profile:
        profile_review(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
