"""FastAPI's and Starlette's HTTP-layer classes, by every name they can be imported as
(FastAPI re-exports Starlette's), for rules that ask what a parameter or a value is."""

from __future__ import annotations

REQUEST = frozenset({"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"})
HTTP_CONNECTION = frozenset(
    {"starlette.requests.HTTPConnection", "fastapi.requests.HTTPConnection"}
)
WEBSOCKET = frozenset(
    {"fastapi.WebSocket", "fastapi.websockets.WebSocket", "starlette.websockets.WebSocket"}
)
RESPONSE = frozenset(
    {"fastapi.Response", "fastapi.responses.Response", "starlette.responses.Response"}
)
BACKGROUND_TASKS = frozenset(
    {
        "fastapi.BackgroundTasks",
        "fastapi.background.BackgroundTasks",
        "starlette.background.BackgroundTasks",
    }
)
UPLOAD_FILE = frozenset(
    {
        "fastapi.UploadFile",
        "fastapi.datastructures.UploadFile",
        "starlette.datastructures.UploadFile",
    }
)
