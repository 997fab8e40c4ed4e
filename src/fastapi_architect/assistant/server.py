"""The MCP server: every capability of the tool, as tools an AI coding assistant can call.

Built on the official MCP SDK (`MCPServer`), served over stdio by `fastapi-architect mcp`.
Each tool has typed parameters and returns a Pydantic model, so its output schema is
published; read-only tools say so in their annotations. Every path is confined to the
root (`paths.Root`), and every anticipated failure (a path outside the root, a missing
file, an unknown rule code) is a `ToolError`: the assistant gets an error result with
the reason, and the server keeps running.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from fastapi_architect import __version__
from fastapi_architect.adr import records as adr_records
from fastapi_architect.assistant.capabilities import SERVER_NAME, runtime_report_module
from fastapi_architect.assistant.models import (
    AdrList,
    AdrProposal,
    AdrRecord,
    ContractChange,
    ContractDiffReport,
    Endpoint,
    Finding,
    GeneratedFiles,
    PlannedFile,
    ReviewReport,
    Route,
    RoutesReport,
    RuleCatalog,
    RuleDoc,
    RuleSummary,
    RuntimeReport,
    SeverityCounts,
)
from fastapi_architect.assistant.paths import PathError, Root
from fastapi_architect.config import Config, ConfigError, find_config_file, load_config
from fastapi_architect.contract import DocumentError, diff_documents, load_document
from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.project import DEFAULT_DESCRIPTION, create_project, plan_project
from fastapi_architect.generator.resource import apply_plan, plan_resource
from fastapi_architect.review.registry import Rule, all_rules, get_rule
from fastapi_architect.review.selection import enabled_rules
from fastapi_architect.source.discovery import InputError, discover

INSTRUCTIONS = """\
fastapi-architect reads a FastAPI codebase without running it.
Before proposing a change, check what is there: `routes` lists every path operation
(full path with router prefixes, handler file:line, auth dependency chain, response model),
`review` reports what a senior FastAPI architect would flag, with rule code, location, why
it matters and how to fix it; `explain_rule` gives one rule's documentation.
Before finishing a change to an endpoint, compare the OpenAPI documents with
`contract_diff` and say so plainly if a change breaks clients.
For an architectural decision, propose a record with `adr_new` (write=true writes it).
To start a service, `new_project`; to add a CRUD resource to one (model, schemas,
repository, service, router, migration, tests), `add_resource`. Both list the files
they would write and write them only with write=true.
All paths are relative to the server's root; paths outside it are refused."""

Progress = Callable[[int, int, str], None]
T = TypeVar("T")

# Anticipated failures: the assistant gets the message as a tool error.
_EXPECTED = (
    PathError,
    InputError,
    ConfigError,
    DocumentError,
    adr_records.AdrError,
    GeneratorError,
)


def _read_only(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)


def build_server(root: Path) -> MCPServer[Any]:
    """The server for the project at `root`; its tools only see paths inside `root`."""
    confined = Root.of(root)
    server: MCPServer[Any] = MCPServer(
        name=SERVER_NAME,
        title="FastAPI architect",
        description="Review, route inventory, rule docs, contract diff, decision records "
        "and a project generator for FastAPI codebases.",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )

    @server.tool(annotations=_read_only("Review a FastAPI codebase"))
    async def review(
        ctx: Context[Any, Any],
        path: Annotated[
            str, Field(description="File or folder to review, relative to the root.")
        ] = ".",
        select: Annotated[
            list[str] | None,
            Field(
                description="Only these rule codes or prefixes (e.g. ['FAA2', 'FAA301'], "
                "or ['ALL']); default: the project's configuration."
            ),
        ] = None,
        ignore: Annotated[
            list[str] | None, Field(description="Rule codes or prefixes to leave out.")
        ] = None,
        max_findings: Annotated[
            int, Field(ge=1, le=5000, description="List at most this many findings.")
        ] = 200,
    ) -> ReviewReport:
        """Review FastAPI code and report what a senior backend architect would flag:
        blocking calls on the event loop (followed across modules), routes without
        authentication, unvalidated input, missing response models, JWT, password and
        secret mistakes, SQL built from strings, N+1 queries, business logic in route
        handlers, leaked internals in errors. Each finding has a rule code, file:line,
        why it matters and how to fix it. Reads source only; never runs the code."""
        reporter = _Reporter(ctx)
        result = await _in_thread(
            partial(
                review_project,
                confined,
                path,
                select=select,
                ignore=ignore,
                max_findings=max_findings,
                progress=reporter.from_thread,
            )
        )
        await reporter.done("review finished")
        return result

    @server.tool(annotations=_read_only("List the routes of a FastAPI app"))
    async def routes(
        path: Annotated[str, Field(description="The project folder, relative to the root.")] = ".",
    ) -> RoutesReport:
        """The route inventory, from the source: for every path operation its method,
        full path (every include_router prefix applied), handler file:line, sync or
        async, the dependency chain that authenticates it (or none), response model and
        status code. Use it to see what exists before changing an endpoint."""
        return await _in_thread(partial(route_inventory, confined, path))

    @server.tool(annotations=_read_only("List the review rules"))
    def rules() -> RuleCatalog:
        """The rule catalog: every rule code with its name, category, default severity,
        whether it is on by default, and a one-line summary."""
        found = [_rule_summary(r) for r in all_rules()]
        return RuleCatalog(count=len(found), rules=found)

    @server.tool(annotations=_read_only("Explain a review rule"))
    def explain_rule(
        code: Annotated[str, Field(description="A rule code such as FAA201, or a rule name.")],
    ) -> RuleDoc:
        """One rule's documentation: what it does, why it is bad, an example, what to
        use instead, and whether its fix is safe."""
        try:
            return explain(code)
        except LookupError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=_read_only("Compare two OpenAPI documents"))
    async def contract_diff(
        ctx: Context[Any, Any],
        old: Annotated[
            str,
            Field(
                description="The base OpenAPI document (JSON or YAML): a file relative to "
                "the root, or REF:PATH for a file at a git revision (main:openapi.json)."
            ),
        ],
        new: Annotated[
            str, Field(description="The revision: a file relative to the root, or REF:PATH.")
        ],
    ) -> ContractDiffReport:
        """Breaking and non-breaking changes between two versions of an API's OpenAPI
        document. Run it before finishing any change to an endpoint: a change at level
        error breaks existing clients, warning may break them, info does not."""
        reporter = _Reporter(ctx)
        result = await _in_thread(
            partial(compare_contracts, confined, old, new, progress=reporter.from_thread)
        )
        await reporter.done("contract compared")
        return result

    if runtime_report_module() is not None:

        @server.tool(annotations=_read_only("Read a runtime profile report"))
        async def runtime_report(
            path: Annotated[
                str,
                Field(
                    description="A runtime report JSON file saved by `fastapi-architect "
                    "profile`, relative to the root."
                ),
            ],
        ) -> RuntimeReport:
            """A saved runtime report, structured: per endpoint the requests seen,
            queries per request, latency percentiles, N+1 query groups and blocking
            steps on the event loop, with the code location of each."""
            return await _in_thread(partial(read_runtime_report, confined, path))

    @server.tool(annotations=_read_only("List the decision records"))
    def adr_list() -> AdrList:
        """The project's architecture decision records: number, title, status, file."""
        return _expected(partial(list_decisions, confined))

    @server.tool(
        annotations=ToolAnnotations(
            title="Propose a decision record",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        )
    )
    def adr_new(
        title: Annotated[str, Field(description="What is decided, e.g. 'Use PostgreSQL'.")],
        context: Annotated[
            str | None, Field(description="The situation and forces that need a decision.")
        ] = None,
        decision: Annotated[str | None, Field(description="What is decided.")] = None,
        status: Annotated[
            str,
            Field(description="Proposed, Accepted, Rejected, Deprecated or Superseded."),
        ] = "Proposed",
        positive: Annotated[list[str] | None, Field(description="Positive consequences.")] = None,
        negative: Annotated[
            list[str] | None, Field(description="Negative consequences, costs, risks.")
        ] = None,
        alternatives: Annotated[
            list[str] | None, Field(description="Options considered and why not chosen.")
        ] = None,
        write: Annotated[
            bool,
            Field(description="Write the file. Default false: only return the proposal."),
        ] = False,
    ) -> AdrProposal:
        """Propose the next numbered architecture decision record (docs/adr/NNNN-slug.md,
        or history/adr/ where the project keeps them) with Status, Context, Decision,
        Consequences (positive, negative) and Alternatives considered. Returns the text;
        writes the file only when write=true, and never replaces an existing one."""
        return _expected(
            partial(
                new_decision,
                confined,
                title,
                context=context,
                decision=decision,
                status=status,
                positive=positive or [],
                negative=negative or [],
                alternatives=alternatives or [],
                write=write,
            )
        )

    def _writes(title: str) -> ToolAnnotations:
        return ToolAnnotations(
            title=title,
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        )

    @server.tool(annotations=_writes("Generate a new FastAPI service"))
    def new_project(
        name: Annotated[str, Field(description="The project's folder name, e.g. orders-service.")],
        path: Annotated[
            str, Field(description="The folder to create it in, relative to the root.")
        ] = ".",
        description: Annotated[
            str, Field(description="One line saying what the service does.")
        ] = DEFAULT_DESCRIPTION,
        write: Annotated[
            bool, Field(description="Write the files. Default false: only list them.")
        ] = False,
    ) -> GeneratedFiles:
        """A production-grade FastAPI service in PATH/NAME: layered app (routers, services,
        repositories, models, schemas), async SQLAlchemy with Alembic, users and JWT
        authentication with refresh-token rotation, a paginated products resource,
        problem+json errors, request ids, health checks, and its test suite. Refuses a
        folder that exists and is not empty."""
        return _expected(partial(generate_project, confined, name, path, description, write))

    @server.tool(annotations=_writes("Add a resource to a generated service"))
    def add_resource(
        name: Annotated[str, Field(description="The resource, singular: book, order-line.")],
        fields: Annotated[
            list[str],
            Field(
                description="name:type[:options] each. Types: str, text, int, decimal, bool, "
                "datetime, date, uuid, email, ref:OtherResource. Options: unique, index, "
                "optional, max=N."
            ),
        ],
        project: Annotated[
            str, Field(description="The project folder, relative to the root.")
        ] = ".",
        write: Annotated[
            bool, Field(description="Write the files. Default false: only list them.")
        ] = False,
    ) -> GeneratedFiles:
        """Add a CRUD resource to a generated service (or one with the same layout): model,
        create/update/read schemas, repository, service, router registered in the v1
        router, an Alembic revision and tests. Refuses, writing nothing, when the layout
        is not the expected one, the resource exists or a field spec is invalid."""
        return _expected(partial(generate_resource, confined, name, fields, project, write))

    return server


def run_stdio(root: Path) -> None:
    """Serve the tools over stdin/stdout until the client closes the connection."""
    build_server(root).run("stdio")


# --- running and progress --------------------------------------------------------------


def _expected(work: Callable[[], T]) -> T:
    try:
        return work()
    except _EXPECTED as exc:
        raise ToolError(str(exc)) from None


async def _in_thread(work: Callable[[], T]) -> T:
    """Run blocking work on a worker thread, so the server keeps answering meanwhile."""
    return await anyio.to_thread.run_sync(partial(_expected, work))


class _Reporter:
    """Progress notifications for one tool call: every step named by the work, and of the
    per-file steps (`parsed ...`) one per twentieth of the total, so a large tree sends a
    steady trickle and never a flood."""

    STEPS = 20

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self.ctx = ctx
        self.bucket = -1
        self.total = 1.0

    def from_thread(self, done: int, total: int, what: str) -> None:
        self.total = float(total)
        bucket = done * self.STEPS // max(total, 1)
        if what.startswith("parsed ") and bucket == self.bucket:
            return
        self.bucket = bucket
        anyio.from_thread.run(self.ctx.report_progress, float(done), float(total), what)

    async def done(self, what: str) -> None:
        await self.ctx.report_progress(self.total, self.total, what)


# --- the tools' work (plain functions, run on a worker thread) --------------------------


def review_project(
    root: Root,
    path: str,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    max_findings: int = 200,
    progress: Progress | None = None,
) -> ReviewReport:
    from fastapi_architect.review.engine import review_files

    target = root.resolve(path)
    config = _config_for(root, target).with_cli(
        select=list(select) if select else None, ignore=list(ignore) if ignore else None
    )
    try:
        enabled_rules(config)  # unknown selectors fail here, before any work
    except ConfigError as exc:
        raise ConfigError(f"{exc} (the `rules` tool lists every rule code)") from None
    files = _files_inside(root, target, config)
    base = target if target.is_dir() else target.parent
    if progress is not None:
        progress(0, len(files) + 2, f"reviewing {len(files)} files")
    result = review_files(files, base, config, progress)
    whys: dict[str, str | None] = {}
    findings: list[Finding] = []
    counts = SeverityCounts()
    for f in result.findings:
        setattr(counts, f.severity, getattr(counts, f.severity) + 1)
        if len(findings) >= max_findings:
            continue
        if f.code not in whys:
            whys[f.code] = _why(get_rule(f.code))
        findings.append(
            Finding(
                code=f.code,
                name=f.name,
                severity=f.severity,
                file=root.relative(result.root / f.file),
                line=f.line,
                column=f.column,
                end_line=f.end_line,
                end_column=f.end_column,
                message=f.message,
                why=whys[f.code],
                fix=f.fix_title,
            )
        )
    return ReviewReport(
        path=root.relative(target),
        files_checked=result.files_checked,
        total_findings=len(result.findings),
        counts=counts,
        findings=findings,
        truncated=len(result.findings) > len(findings),
        internal_errors=result.internal_errors,
    )


def route_inventory(root: Root, path: str) -> RoutesReport:
    from fastapi_architect.model.inventory import inventory
    from fastapi_architect.review.engine import load_model

    target = root.resolve(path, kind="dir")
    config = _config_for(root, target)
    files = _files_inside(root, target, config)
    model = load_model(files, config, root=target)
    rows = [
        Route.model_validate({**row.as_dict(), "file": root.relative(target / row.file)})
        for row in inventory(model)
    ]
    return RoutesReport(path=root.relative(target), count=len(rows), routes=rows)


def explain(code: str) -> RuleDoc:
    """One rule's documentation, by code (`FAA201`) or name (`blocking-http-call-in-async`)."""
    wanted = code.strip()
    found = get_rule(wanted) or next((r for r in all_rules() if r.name == wanted.lower()), None)
    if found is None:
        group = wanted.upper()[:4]
        near = [r.code for r in all_rules() if len(group) == 4 and r.code.startswith(group)]
        hint = f" (rules in that group: {', '.join(near)})" if near else ""
        raise LookupError(f"unknown rule code {code!r}{hint}; the `rules` tool lists every code")
    return RuleDoc(
        **_rule_summary(found).model_dump(),
        fix=found.fix_title,
        cwe=list(found.cwe),
        owasp=list(found.owasp),
        references=list(found.references),
        sections=found.sections(),
        docs=found.docs,
    )


def compare_contracts(
    root: Root, old: str, new: str, *, progress: Progress | None = None
) -> ContractDiffReport:
    step = progress or (lambda done, total, what: None)
    step(0, 3, f"loading {old}")
    base = _document(root, old)
    step(1, 3, f"loading {new}")
    revision = _document(root, new)
    step(2, 3, "comparing")
    warnings: list[str] = []
    changes = diff_documents(base, revision, warnings=warnings)
    counts = SeverityCounts()
    for change in changes:
        setattr(counts, change.level.label, getattr(counts, change.level.label) + 1)
    return ContractDiffReport(
        base=base.name,
        revision=revision.name,
        breaking=any(c.breaking for c in changes),
        summary=_contract_summary(changes),
        counts=counts,
        changes=[_change(c, base, revision) for c in changes],
        warnings=warnings,
    )


def read_runtime_report(root: Root, path: str) -> RuntimeReport:
    module = runtime_report_module()
    if module is None:  # pragma: no cover - the tool is not listed then
        raise ToolError("this installation has no runtime profiler")
    target = root.resolve(path, kind="file")
    try:
        data = module.load_report(target)
        endpoints = [Endpoint.model_validate(e) for e in data["endpoints"]]
    except module.ReportError as exc:
        raise ToolError(str(exc).replace(str(target), path)) from None
    except (ValidationError, KeyError, TypeError) as exc:
        raise ToolError(f"{path} is not a fastapi-architect runtime report: {exc}") from None
    problems = sum(1 for e in endpoints if e.n_plus_one or e.blocking)
    return RuntimeReport(
        path=root.relative(target), endpoints=endpoints, endpoints_with_problems=problems
    )


def list_decisions(root: Root) -> AdrList:
    folder = adr_records.record_dir(root.path)
    root.resolve(folder.as_posix(), must_exist=False)  # a record folder linked out is refused
    records = [
        AdrRecord(number=r.number, title=r.title, status=r.status, path=r.path)
        for r in adr_records.list_records(root.path)
    ]
    return AdrList(folder=folder.as_posix(), records=records)


def new_decision(
    root: Root,
    title: str,
    *,
    context: str | None,
    decision: str | None,
    status: str,
    positive: Sequence[str],
    negative: Sequence[str],
    alternatives: Sequence[str],
    write: bool,
) -> AdrProposal:
    proposal = adr_records.propose(
        root.path,
        title,
        status=status,
        context=context,
        decision=decision,
        positive=positive,
        negative=negative,
        alternatives=alternatives,
    )
    # The record folder may be a symlink: where the file lands must be inside the root.
    root.resolve(proposal.path, must_exist=False)
    if write:
        adr_records.write(root.path, proposal)
    return AdrProposal(
        number=proposal.number,
        title=proposal.title,
        status=proposal.status,
        path=proposal.path,
        written=write,
        text=proposal.text,
    )


# --- helpers -----------------------------------------------------------------------------


def _config_for(root: Root, target: Path) -> Config:
    """The project's settings: the nearest pyproject.toml with our table, looked for from
    `target` up to the root and no further."""
    here = target if target.is_dir() else target.parent
    for folder in (here, *here.parents):
        if not root.contains(folder):
            break
        candidate = folder / "pyproject.toml"
        # `find_config_file` answers for this folder first; a hit higher up is not taken.
        if (
            candidate.is_file()
            and root.contains(candidate.resolve())
            and find_config_file(folder) == candidate
        ):
            return load_config(candidate)
    return load_config(None)


def _files_inside(root: Root, target: Path, config: Config) -> list[Path]:
    """The Python files to read; files reached through a symlink out of the root are left out."""
    return [f for f in discover([target], config.excludes) if root.contains(f)]


def _why(rule: Rule | None) -> str | None:
    """The first paragraph of the rule's "Why is this bad?" section."""
    if rule is None:
        return None
    text = rule.sections().get("Why is this bad?", "").strip()
    if not text:
        return None
    return " ".join(text.split("\n\n", 1)[0].split())


def _rule_summary(rule: Rule) -> RuleSummary:
    return RuleSummary(
        code=rule.code,
        name=rule.name,
        category=rule.category,
        severity=rule.severity,
        default_enabled=rule.default_enabled,
        summary=rule.summary,
    )


def _change(change: Change, base: Document, revision: Document) -> ContractChange:
    return ContractChange(
        id=change.id,
        level=change.level.label,  # type: ignore[arg-type]
        breaking=change.breaking,
        operation=change.operation,
        path=change.path,
        message=change.message,
        pointer=change.pointer,
        document=(base if change.in_base else revision).name,
        fingerprint=change.fingerprint,
    )


def _contract_summary(changes: Sequence[Change]) -> str:
    from fastapi_architect.contract.report.common import summary

    return summary(changes)


# A git revision as `git show` takes it; never an option (a leading `-`).
_REF_RE = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9_./@{}~^-]*$")


def _document(root: Root, spec: str) -> Document:
    """An OpenAPI document: a file inside the root, or `REF:PATH` (a file at a git
    revision, PATH from the top of the repository, which must lie inside the root)."""
    spec = spec.strip()
    if not spec:
        raise PathError("an empty document path")
    given = Path(spec)
    on_disk = os.path.lexists(given if given.is_absolute() else root.path / given)
    if not on_disk and ":" in spec:
        ref, _, path = spec.partition(":")
        if _REF_RE.match(ref) and path:
            return _document_at_ref(root, spec, ref, path)
    target = root.resolve(spec, kind="file")
    return load_document(root.relative(target), cwd=root.path)


def _document_at_ref(root: Root, spec: str, ref: str, path: str) -> Document:
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root.path,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise PathError(f"{spec!r}: no such file, and git is not installed") from None
    if top.returncode != 0:
        raise PathError(f"{spec!r}: no such file, and the root is not in a git repository")
    toplevel = Path(top.stdout.strip()).resolve()
    inside = Path(posixpath.normpath((toplevel / path.lstrip("/")).as_posix()))
    if not root.contains(inside):
        raise PathError(
            f"{spec!r}: {path!r} is outside the project root {root.path}: "
            "this server only reads documents inside its --root"
        )
    return load_document(f"{ref}:{inside.relative_to(toplevel).as_posix()}", cwd=root.path)


# --- generator -------------------------------------------------------------------------


def generate_project(
    root: Root, name: str, path: str, description: str, write: bool
) -> GeneratedFiles:
    parent = root.resolve(path, must_exist=False)
    plan = plan_project(name, parent, description)
    destination = root.resolve(root.relative(plan.destination), must_exist=False)
    if write:
        create_project(plan)
    where = root.relative(destination)
    return GeneratedFiles(
        path=where,
        written=write,
        files=[
            PlannedFile(action="create", path=posixpath.join(where, f.path.as_posix()))
            for f in plan.files
        ],
        next_steps=[f"cd {where}", "make test", "make run"],
    )


def generate_resource(
    root: Root, name: str, fields: Sequence[str], project: str, write: bool
) -> GeneratedFiles:
    folder = root.resolve(project, kind="dir")
    plan = plan_resource(folder, name, list(fields))
    where = root.relative(folder)
    files = []
    for change in plan.changes:
        # a folder of the project may be a symlink: every file must land inside the root
        target = root.resolve(posixpath.join(where, change.path.as_posix()), must_exist=False)
        files.append(PlannedFile(action=change.action, path=root.relative(target)))
    if write:
        apply_plan(plan)
    return GeneratedFiles(
        path=where,
        written=write,
        files=files,
        next_steps=["alembic upgrade head", "make test"],
    )
