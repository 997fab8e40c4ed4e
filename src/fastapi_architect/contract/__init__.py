"""Contract guard: breaking and non-breaking changes between two OpenAPI documents."""

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.differ import diff_documents
from fastapi_architect.contract.document import Document, DocumentError, load_document

__all__ = ["Change", "Document", "DocumentError", "Level", "diff_documents", "load_document"]
