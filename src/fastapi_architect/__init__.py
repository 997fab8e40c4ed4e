"""fastapi-architect: a senior FastAPI backend architect, as a tool."""

__version__ = "0.1.0"
