"""The ``mockhog`` command: serve the API, list its routes."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .backend import DEFAULT_API_KEY, Backend
from .catalog import Catalog
from .control import CONTROL_CALLS
from .journal import DEFAULT_BYTES
from .requestlog import FORMATS, RequestLog
from .seed import FixtureError
from .serving import DEFAULT_CONNECTION_LIMIT
from .version import __version__

if TYPE_CHECKING:
    from .spec import Spec

DESCRIPTION = (
    "mockhog: an offline, stateful, contract-checked stand-in for the PostHog REST API.\n\n" + CONTROL_CALLS
)


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line (``mockhog serve: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 0 to 65535 (0 picks a free port)")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: use 1 or more")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mockhog", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"mockhog {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API on a threaded WSGI server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument(
        "--port",
        type=port_number,
        default=8010,
        help="port (default: 8010; 0 picks a free one and prints it)",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of the generated data (default: 0)")
    serve.add_argument(
        "--api-key",
        default=os.environ.get("MOCKHOG_API_KEY") or DEFAULT_API_KEY,
        help=f"personal API key to accept, scope '*' (env MOCKHOG_API_KEY; default {DEFAULT_API_KEY})",
    )
    serve.add_argument(
        "--fixtures",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="JSON files adding or overriding projects and records",
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="reject body fields PostHog would ignore and numbers it would coerce to text or flags (400)",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("MOCKHOG_ADMIN_TOKEN"),
        help="serve /_mockhog/ to any address that sends X-Mockhog-Admin-Token (default: loopback only)",
    )
    serve.add_argument("--no-admin", action="store_true", help="switch the /_mockhog/ control plane off")
    serve.add_argument("--threads", type=positive_int, default=8, help="worker threads (default: 8)")
    serve.add_argument(
        "--connection-limit",
        type=positive_int,
        default=DEFAULT_CONNECTION_LIMIT,
        metavar="N",
        help=f"connections served at once, idle keep-alive ones too (default: {DEFAULT_CONNECTION_LIMIT})",
    )
    serve.add_argument(
        "--journal-size",
        type=_size,
        default=DEFAULT_BYTES,
        metavar="BYTES",
        help="memory the request journal may use, e.g. 64M or 1G; oldest entries drop first (default: 64M)",
    )
    serve.add_argument(
        "--posthog-schema",
        metavar="FILE",
        help="serve and validate against your own PostHog's OpenAPI document (its /api/schema/; JSON or "
        "YAML, .gz allowed) instead of the pinned one: operations it lacks disappear, new ones are served "
        "generically, the verified ones and mockhog's overlay corrections stay",
    )
    serve.add_argument("--quiet", action="store_true", help="no request log (one line per request)")
    serve.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="request log lines as text (default) or as one JSON object each, for CI logs",
    )

    routes = commands.add_parser("routes", help="list every served operation with its handler and tier")
    routes.add_argument("--posthog-schema", metavar="FILE", help="as served by serve --posthog-schema FILE")

    importer = commands.add_parser(
        "import-schema",
        help="turn a PostHog OpenAPI document into mockhog's contract (mockhog/spec/*.json)",
        description="FILE: PostHog's OpenAPI document (JSON or YAML, .gz allowed), or the "
        "arcade-posthog-api wheel/sdist that ships it (pip download --no-deps arcade-posthog-api==0.2.1).",
    )
    importer.add_argument("file", metavar="FILE")
    importer.add_argument(
        "-o", "--output", metavar="DIR", help="directory to write (default: the package's mockhog/spec/)"
    )
    importer.add_argument("--sha256", help="refuse the input unless its (uncompressed) sha256 is this")

    drift = commands.add_parser(
        "drift",
        help="list how mockhog's contract differs from a PostHog OpenAPI document",
        description="Compare mockhog's contract (what it serves at /api/schema/: PostHog's pinned "
        "document as imported, the verified operations' hand-checked schemas, and the overlay of "
        "reasoned corrections in mockhog/spec/overlay.toml) with FILE (your PostHog's /api/schema/, "
        "JSON or YAML, .gz allowed, or a wheel that ships one): operations added or removed, and per "
        "shared operation and component the fields added or removed, types, nullability, formats, "
        "enums, required, scopes, parameters, bodies and responses. Each difference an overlay entry "
        "explains is listed under its reason.\n\n"
        "Exit status: 0 when FILE differs from mockhog only by the overlay's corrections, 1 when there "
        "is drift beyond them, 2 when FILE cannot be read as an OpenAPI document.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    drift.add_argument("file", metavar="FILE")
    drift.add_argument("--json", action="store_true", help="the report as one JSON object")
    drift.add_argument("--all", action="store_true", help="list every difference each reason explains")

    openapi = commands.add_parser("openapi", help="write the OpenAPI 3.1 document")
    openapi.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    openapi.add_argument("--format", choices=["json", "yaml"], help="default: from the file name, else json")
    openapi.add_argument("--posthog-schema", metavar="FILE", help="as served by serve --posthog-schema FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "routes":
        return _routes(args)
    if args.command == "import-schema":
        return _import_schema(args)
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "drift":
        return _drift(args)
    return _serve(args)


def _load_spec(args: argparse.Namespace) -> Spec:
    """The contract to serve: the pinned import, or the user's ``--posthog-schema FILE``.
    A file that is no OpenAPI document raises ``ImportError_`` with the reason."""
    from .spec import Spec

    path = getattr(args, "posthog_schema", None)
    if not path:
        return Spec.load()
    spec = Spec.from_file(path)
    spec.components  # noqa: B018 - applies the overlay now, so that a fix it skips is said at start
    for _fix, reason in spec.overlay_skipped:
        print(f"mockhog: overlay fix not applied to {path}: {reason}", file=sys.stderr)
    from .spec.derive import user_schemas

    spec.served_schemas = user_schemas(spec)  # derived once, reported now, served by the backend
    for name, patch, reason in spec.derive_skipped:
        where = f"schemas/{name} {patch['action']} {patch['def']}{patch['pointer']}"
        print(f"mockhog: overlay patch on {path}: {where}: {reason}", file=sys.stderr)
    return spec


def _routes(args: argparse.Namespace) -> int:
    """Every served operation: method, path, operationId, tier, handler, scopes; counts by tier
    and handler (the viewset interpreter, a quirk, or the generic tier's schema-built answer)."""
    from .handlers import HandlerError, resolve
    from .spec.document import generic_operations
    from .spec.importer import ImportError_

    try:
        catalog, spec = Catalog.load(), _load_spec(args)
        handlers = resolve(catalog)
    except (ImportError_, HandlerError) as error:
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    counts = {"verified": 0, "generic": 0}
    served_by = {"viewset": 0, "quirk": 0, "generic action": 0}
    hooked = 0
    for op in catalog.operations:
        handler = handlers[op].label(op)
        counts["verified"] += 1
        served_by["quirk" if handlers[op].quirk else "viewset"] += 1
        hooked += handlers[op].hooks is not None
        scopes = " ".join(op.scopes)
        print(f"{op.method:<7} {op.template:<80} {op.operation_id:<60} verified {handler:<60} {scopes}")
    for op in generic_operations(catalog, spec):
        counts["generic"] += 1
        scopes = " ".join(op.scopes) if op.scopes is not None else "(personal API keys refused)"
        if op.kind == "action":
            handler = "generic action"
            served_by["generic action"] += 1
        else:
            handler = f"viewset {op.table}.{op.kind}"
            served_by["viewset"] += 1
        print(f"{op.method:<7} {op.template:<80} {op.operation_id:<60} generic  {handler:<60} {scopes}")
    total = sum(counts.values())
    print(
        f"{total} operations: {counts['verified']} verified, {counts['generic']} generic; served by the "
        f"viewset interpreter {served_by['viewset']} ({hooked} of them verified ones with their class's "
        f"serializer hooks), by quirks {served_by['quirk']}, as generic custom actions "
        f"{served_by['generic action']}",
        file=sys.stderr,
    )
    return 0


def _import_schema(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .spec import HERE
    from .spec.importer import ImportError_, run

    output = Path(args.output) if args.output else HERE
    try:
        contract = run(Path(args.file), output, args.sha256)
    except ImportError_ as error:
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    source = contract["source"]
    print(
        f"imported {source['operations']} operations and {source['components']} components "
        f"(sha256 {source['sha256']}) into {output}"
    )
    return 0


def _drift(args: argparse.Namespace) -> int:
    """Exit 0: no drift beyond the overlay; 1: drift; 2: FILE is no OpenAPI document."""
    from pathlib import Path

    from .spec.drift import drift_file, render
    from .spec.importer import ImportError_

    try:
        report = drift_file(Path(args.file))
    except ImportError_ as error:
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render(report, args.file, every=args.all))
    return 1 if report.drift else 0


def _openapi(args: argparse.Namespace) -> int:
    from .contract import Schemas
    from .openapi import build_document, yaml_dump
    from .spec.document import served_document
    from .spec.importer import ImportError_

    catalog = Catalog.load()
    try:
        spec = _load_spec(args)
    except ImportError_ as error:
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    schemas = getattr(spec, "served_schemas", None) or Schemas()
    document = served_document(build_document(catalog, schemas), catalog, spec)
    as_yaml = args.format == "yaml" or (
        args.format is None and str(args.output or "").endswith((".yaml", ".yml"))
    )
    text = yaml_dump(document) + "\n" if as_yaml else json.dumps(document, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import logging

    from .app import create_app
    from .handlers import HandlerError
    from .serving import create_server, freeze_seeded_heap
    from .spec.importer import ImportError_

    logging.basicConfig()  # as waitress.serve does: its warnings and mockhog's errors reach stderr
    try:
        spec = _load_spec(args)
    except ImportError_ as error:
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    try:
        backend = Backend(
            seed=args.seed, api_key=args.api_key, fixtures=args.fixtures, strict=args.strict, spec=spec
        )
        backend.journal.resize(args.journal_size)
    except FixtureError as error:
        print(f"mockhog: bad fixture: {error}", file=sys.stderr)
        return 2
    except HandlerError as error:  # a resource module registers what the catalog does not serve
        print(f"mockhog: {error}", file=sys.stderr)
        return 2
    app = create_app(backend=backend, admin=not args.no_admin, admin_token=args.admin_token)
    wsgi = app if args.quiet else RequestLog(app, backend.journal, sys.stdout, args.log_format)
    freeze_seeded_heap()  # this process only serves
    try:  # bind before saying anything: a port in use is one line, not a banner and a traceback
        server = create_server(
            wsgi,
            host=args.host,
            port=args.port,
            threads=args.threads,
            connection_limit=args.connection_limit,
            ident="mockhog",
        )
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        hint = " (is another server on it? --port 0 picks a free port)" if _in_use(error) else ""
        print(f"mockhog: cannot listen on {args.host}:{args.port}: {reason}{hint}", file=sys.stderr)
        return 1
    if not _is_loopback(args.host):
        print(
            f"mockhog: WARNING: listening on {args.host}, reachable beyond this machine; "
            "anyone who can reach it can read and change its data",
            file=sys.stderr,
        )
    listening = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{listening[0][1]}"
    if args.log_format == "json":
        banner = {"event": "listening", "url": url, "seed": args.seed, "projects": sorted(backend.projects)}
        if args.posthog_schema:
            banner["contract"] = {
                "file": args.posthog_schema,
                "sha256": spec.source["sha256"],
                "operations": len(spec.operations),
            }
        print(json.dumps(banner), flush=True)
    else:
        print(f"mockhog {__version__} serving PostHog's API on {url}", flush=True)
        print(f"  personal API key: {args.api_key}   (Authorization: Bearer {args.api_key})", flush=True)
        print(f"  seed: {args.seed}; projects: {', '.join(map(str, sorted(backend.projects)))}", flush=True)
        if args.posthog_schema:
            print(
                f"  contract: {args.posthog_schema} ({len(spec.operations)} operations, sha256 "
                f"{spec.source['sha256']}; {len(backend.generic_operations)} served generically)",
                flush=True,
            )
    server.run()
    return 0


def _in_use(error: Exception) -> bool:
    return isinstance(error, OSError) and error.errno == errno.EADDRINUSE


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(text: str) -> int:
    """``65536``, ``64K``, ``64M``, ``1G`` (binary units; a trailing ``B`` or ``iB`` is fine)."""
    number = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = number[-1:] if number[-1:] in _UNITS else ""
    digits = number[: len(number) - len(unit)]
    if not (digits.isascii() and digits.isdigit()) or int(digits) * _UNITS[unit] < 1024:
        raise argparse.ArgumentTypeError(f"expected a size of at least 1K like 64M or 1G, got {text!r}")
    return int(digits) * _UNITS[unit]
