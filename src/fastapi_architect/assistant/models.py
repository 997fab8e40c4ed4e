"""What the MCP tools return. Pydantic models, so each tool publishes its output schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]


class SeverityCounts(BaseModel):
    error: int = 0
    warning: int = 0
    info: int = 0


# --- review --------------------------------------------------------------------------


class Finding(BaseModel):
    code: str = Field(description="Rule code, e.g. FAA201.")
    name: str = Field(description="Rule name, kebab-case.")
    severity: Severity
    file: str = Field(description="File path, relative to the server root.")
    line: int = Field(description="1-based line.")
    column: int = Field(description="1-based column.")
    end_line: int
    end_column: int
    message: str = Field(description="What is wrong, naming the code involved.")
    why: str | None = Field(None, description="Why it matters (from the rule's documentation).")
    fix: str | None = Field(None, description="How to fix it, when the rule says.")


class ReviewReport(BaseModel):
    path: str = Field(description="The reviewed path, relative to the server root.")
    files_checked: int
    total_findings: int = Field(description="All findings, including those not listed.")
    counts: SeverityCounts
    findings: list[Finding] = Field(description="Findings by file and line, at most max_findings.")
    truncated: bool = Field(description="True when more findings exist than are listed.")
    internal_errors: list[str] = Field(
        description="Checks that crashed (a bug in the tool); the findings may be incomplete."
    )


# --- routes --------------------------------------------------------------------------


class Route(BaseModel):
    method: str
    path: str = Field(description="Full path, every router prefix applied ({?}: unknown part).")
    name: str
    handler: str = Field(description="Qualified name of the path operation function.")
    file: str = Field(description="Handler file, relative to the server root.")
    line: int
    is_async: bool
    authenticated: bool
    auth: list[str] | None = Field(
        description="The dependency chain that authenticates the route, or null."
    )
    response_model: str | None
    status_code: int | None
    tags: list[str]
    include_in_schema: bool


class RoutesReport(BaseModel):
    path: str = Field(description="The project folder, relative to the server root.")
    count: int
    routes: list[Route]


# --- rules ---------------------------------------------------------------------------


class RuleSummary(BaseModel):
    code: str
    name: str
    category: str
    severity: Severity
    default_enabled: bool
    summary: str


class RuleCatalog(BaseModel):
    count: int
    rules: list[RuleSummary]


class RuleDoc(RuleSummary):
    fix: str | None = Field(description="The fix title, when the rule has one.")
    cwe: list[str]
    owasp: list[str]
    references: list[str]
    sections: dict[str, str] = Field(
        description="The documentation by heading: What it does, Why is this bad?, Example, "
        "Use instead, Fix safety, ..."
    )
    docs: str = Field(description="The whole documentation page, Markdown.")


# --- contract ------------------------------------------------------------------------


class ContractChange(BaseModel):
    id: str = Field(description="Change id, e.g. request-parameter-removed.")
    level: Severity = Field(description="error breaks clients, warning may, info does not.")
    breaking: bool = Field(description="True for error and warning changes.")
    operation: str = Field(description="HTTP method, or empty for path- or document-wide changes.")
    path: str = Field(description="The API path, or empty for document-wide changes.")
    message: str
    pointer: str = Field(description="JSON pointer into the document the change is in.")
    document: str = Field(description="The base document when the thing is gone, else revision.")
    fingerprint: str


class ContractDiffReport(BaseModel):
    base: str
    revision: str
    breaking: bool = Field(description="True when any change may break existing clients.")
    summary: str
    counts: SeverityCounts
    changes: list[ContractChange]
    warnings: list[str] = Field(description="What was not compared (references to other files).")


# --- runtime -------------------------------------------------------------------------


class Durations(BaseModel):
    model_config = ConfigDict(extra="allow")

    p50: float
    p95: float
    max: float


class NPlusOne(BaseModel):
    model_config = ConfigDict(extra="allow")

    statement: str
    count: int
    location: str | None
    confirmed_by: list[dict[str, Any]] | None = Field(
        None, description="Static findings this observation confirms, when the report has them."
    )


class Blocking(BaseModel):
    model_config = ConfigDict(extra="allow")

    duration_ms: float
    location: str | None
    confirmed_by: list[dict[str, Any]] | None = None


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="allow")

    method: str
    route: str
    requests: int
    queries_max: int
    queries_total: int
    duration_ms: Durations
    n_plus_one: list[NPlusOne]
    blocking: list[Blocking]


class RuntimeReport(BaseModel):
    path: str = Field(description="The report file, relative to the server root.")
    endpoints: list[Endpoint]
    endpoints_with_problems: int = Field(description="Endpoints with an N+1 or a blocking step.")


# --- decision records ----------------------------------------------------------------


class AdrProposal(BaseModel):
    number: int
    title: str
    status: str
    path: str = Field(description="Where the record goes, relative to the server root.")
    written: bool = Field(description="False for a proposal (write=false): nothing was written.")
    text: str = Field(description="The record, Markdown.")


class AdrRecord(BaseModel):
    number: int
    title: str
    status: str
    path: str


class AdrList(BaseModel):
    folder: str = Field(description="The record folder, relative to the server root.")
    records: list[AdrRecord]


# --- generator -------------------------------------------------------------------------


class PlannedFile(BaseModel):
    action: str = Field(description="create or modify")
    path: str = Field(description="Relative to the server root.")


class GeneratedFiles(BaseModel):
    path: str = Field(description="The project folder, relative to the server root.")
    written: bool = Field(description="False for a plan (write=false): nothing was written.")
    files: list[PlannedFile]
    next_steps: list[str] = Field(description="Commands to run next, in the project folder.")
