"""Reads the PostHog API docs pages in ../shared/seeds/: every documented operation, its scopes,
status and example body. Tests use it so that an undocumented gap fails a test."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /api/(projects|environments)/:\w+/(\S+)$")
_HEADINGS = {
    "Path parameters",
    "Query parameters",
    "Request parameters",
    "Response",
    "Example request",
    "Request",
}


def seeds_dir() -> Path:
    configured = os.environ.get("MOCKHOG_SEEDS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "seeds"


@dataclass(frozen=True)
class DocumentedOperation:
    method: str
    prefix: str
    path: str  # relative to the project prefix, catalog style: "exports/{id}/"
    scopes: tuple[str, ...]
    status: int | None
    example: Any  # the example response body, or None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.prefix, self.method, self.path)


def documented_operations() -> list[DocumentedOperation]:
    found: dict[tuple[str, str, str], DocumentedOperation] = {}
    for page in sorted(seeds_dir().glob("*.txt")):
        lines = page.read_text().splitlines()
        for index, line in enumerate(lines):
            match = _REQUEST_LINE.match(line.strip())
            if not match:
                continue
            method, prefix, rest = match.groups()
            path = re.sub(r":(\w+)", r"{\1}", rest.rstrip("/")) + "/"
            op = DocumentedOperation(
                method, prefix, path, _scopes_before(lines, index), *_response_after(lines, index)
            )
            found.setdefault(op.key, op)
    return list(found.values())


def _scopes_before(lines: list[str], index: int) -> tuple[str, ...]:
    for back in range(index - 1, max(index - 80, -1), -1):
        if lines[back].startswith("Status ") or _REQUEST_LINE.match(lines[back].strip()):
            break  # the previous operation's block: this one lists no scopes
        if lines[back].strip() == "Required API key scopes":
            scopes = []
            for line in lines[back + 1 :]:
                text = line.strip()
                if text in _HEADINGS:
                    break
                if text:
                    scopes.append(text)
            return tuple(scopes)
    return ()


def _response_after(lines: list[str], index: int) -> tuple[int | None, Any]:
    status, example = None, None
    for ahead in range(index + 1, min(index + 60, len(lines))):
        text = lines[ahead].strip()
        if _REQUEST_LINE.match(text):
            break
        if text.startswith("Status "):
            status = int(text.split()[1])
        if text == "RESPONSE":
            buffer = ""
            for line in lines[ahead + 1 :]:
                buffer += line + "\n"
                try:
                    example = json.loads(buffer)
                    break
                except ValueError:
                    continue
            break
    return status, example
