"""Derives the documented API surface from PostHog's docs pages into tests/data/docs_surface.json.

The docs pages (../shared/seeds/*.txt) exist only on the developers' machines and in CI, never in a
user's clone, so the tests read the derived file instead. It holds facts only: per documented
operation its method, prefix and path, PostHog's operationId (from PostHog's OpenAPI document in
../shared/posthog-openapi/, where that document has the operation), the required scopes, the
documented parameters (name, types, enum values, default), the example status and the keys and JSON
types of the example response body. No page text (titles, descriptions, example values) is kept.

    python tools/derive_docs_surface.py           # rewrite the data file
    python tools/derive_docs_surface.py --check   # exit 1 if the data file is stale
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUTPUT = REPO / "tests" / "data" / "docs_surface.json"

_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /api/(projects|environments)/:\w+/(\S+)$")
_HEADINGS = {
    "Path parameters",
    "Query parameters",
    "Request parameters",
    "Response",
    "Example request",
    "Request",
}
_PARAMETER_SECTIONS = {"Path parameters": "path", "Query parameters": "query", "Request parameters": "body"}
_BULLET = re.compile(r"^  • (\S+)$")
_TYPE_WORDS = re.compile(r"string|integer|number|boolean|array|object|null")


def derive(seeds: Path, openapi: Path) -> dict[str, Any]:
    operation_ids = _posthog_operation_ids(openapi)
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    pages = sorted(seeds.glob("*.txt"))
    if not pages:
        raise SystemExit(f"no docs pages in {seeds}")
    for page in pages:
        lines = page.read_text().splitlines()
        for index, line in enumerate(lines):
            match = _REQUEST_LINE.match(line.strip())
            if not match:
                continue
            method, prefix, rest = match.groups()
            path = re.sub(r":(\w+)", r"{\1}", rest.rstrip("/")) + "/"
            if (prefix, method, path) in found:
                continue  # the first page that documents an operation wins
            status, example = _response_after(lines, index)
            found[(prefix, method, path)] = {
                "method": method,
                "prefix": prefix,
                "path": path,
                "operation_id": operation_ids.get((method, _shape(f"/api/{prefix}/{{}}/{path}"))),
                "scopes": list(_scopes_before(lines, index)),
                "parameters": _parameters_before(lines, index),
                "status": status,
                "response": None if example is None else describe(example),
            }
    return {
        "derived_by": "tools/derive_docs_surface.py",
        "from": "PostHog's API docs pages (facts only, no page text)",
        "operations": list(found.values()),
    }


def describe(value: Any) -> dict[str, Any]:
    """The JSON type of an example value, with the keys of objects and the first item of arrays."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": describe(value[0]) if value else None}
    return {"type": "object", "keys": {key: describe(item) for key, item in value.items()}}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _posthog_operation_ids(openapi: Path) -> dict[tuple[str, str], str]:
    with gzip.open(openapi) as handle:
        document = json.load(handle)
    return {
        (method.upper(), _shape(path)): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _block_start(lines: list[str], index: int) -> int:
    """The first line after the previous operation's example status (or request line)."""
    for back in range(index - 1, -1, -1):
        if lines[back].startswith("Status ") or _REQUEST_LINE.match(lines[back].strip()):
            return back + 1
    return 0


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


def _parameters_before(lines: list[str], index: int) -> dict[str, list[dict[str, Any]]]:
    sections: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for line in lines[_block_start(lines, index) : index]:
        text = line.strip()
        if text in _HEADINGS:
            current = (
                sections.setdefault(_PARAMETER_SECTIONS[text], []) if text in _PARAMETER_SECTIONS else None
            )
            continue
        if current is None:
            continue
        bullet = _BULLET.match(line)
        if bullet:
            current.append({"name": bullet.group(1), "types": []})
            continue
        if not current or not text:
            continue
        parameter = current[-1]
        if not parameter["types"] and _TYPE_WORDS.sub("", text) == "":
            parameter["types"] = _TYPE_WORDS.findall(text)
        elif text.startswith("One of: "):
            parameter["enum"] = re.findall(r'"([^"]*)"', text)
        elif text.startswith("Default: "):
            parameter["default"] = json.loads(text.removeprefix("Default: "))
    return sections


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


def render(surface: dict[str, Any]) -> str:
    return json.dumps(surface, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=Path, default=SHARED / "seeds", help="folder of docs pages")
    parser.add_argument(
        "--openapi",
        type=Path,
        default=SHARED / "posthog-openapi" / "posthog-openapi-2025-10.json.gz",
        help="PostHog's OpenAPI document (gzip), for the operationIds",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="fail if the data file differs from a fresh derive"
    )
    args = parser.parse_args(argv)
    for needed in (args.seeds, args.openapi):
        if not needed.exists():
            parser.error(f"{needed} does not exist: run this where ../shared/ is beside the repo")
    text = render(derive(args.seeds, args.openapi))
    if args.check:
        if not args.output.is_file() or args.output.read_text() != text:
            print(f"{args.output} is stale: run python tools/derive_docs_surface.py", file=sys.stderr)
            return 1
        print(f"{args.output} matches the docs pages")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(json.loads(text)['operations'])} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
