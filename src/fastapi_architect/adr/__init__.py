"""Architecture decision records: `adr new`, `adr list`, and the MCP tools of the same job."""

from fastapi_architect.adr.records import (
    AdrError,
    Proposal,
    RecordSummary,
    list_records,
    propose,
    record_dir,
    slugify,
    write,
)

__all__ = [
    "AdrError",
    "Proposal",
    "RecordSummary",
    "list_records",
    "propose",
    "record_dir",
    "slugify",
    "write",
]
