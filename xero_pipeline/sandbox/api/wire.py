"""The request and response values passed between the HTTP server and the route handlers.

Handlers never touch sockets: they return a ``Response`` that may also ask the server to
misbehave (reset the connection, send a truncated body, answer late), which is how the
injected faults reach the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "text/xml; charset=utf-8"
NOT_FOUND_TEXT = b"The resource you're looking for cannot be found"


@dataclass
class Request:
    method: str
    path: str  # without the query string, percent-decoded
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def form(self) -> dict[str, str]:
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in fields.items()}

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def arg(self, name: str) -> str | None:
        v = self.query.get(name)
        return v[0] if v else None

    @property
    def wants_json(self) -> bool:
        # Xero answers in XML unless JSON is asked for explicitly.
        return "application/json" in (self.header("Accept") or "").lower()


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # close the connection with RST instead of answering
    truncate: bool = False  # send only the first half of the body
    delay: float = 0.0  # real seconds to wait before answering
    after: list[Callable[[], None]] = field(default_factory=list)  # run once the answer is sent


def json_response(status: int, value: Any, **headers: str) -> Response:
    return Response(status, json.dumps(value, default=str).encode(), JSON, dict(headers))


def text_response(status: int, text: bytes | str) -> Response:
    return Response(status, text.encode() if isinstance(text, str) else text, TEXT)


def not_found() -> Response:
    return text_response(404, NOT_FOUND_TEXT)
