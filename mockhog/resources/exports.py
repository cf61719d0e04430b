"""Exports: PostHog's ExportedAsset, with real file content rendered for each format."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import struct
import zipfile
import zlib
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from .. import errors
from ..catalog import Operation
from ..lifecycle import finished
from ..store import Record
from .base import Call, Reply, Resource, public, quirk
from .identity import product_features
from .product import is_live

EXTENSIONS = {
    "image/png": "png",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "video/webm": "webm",
    "video/mp4": "mp4",
    "image/gif": "gif",
    "application/json": "json",
}
VIDEO_FORMATS = {"video/webm", "video/mp4"}
# ExportedAsset.RASTERIZED_FORMATS: rendered from a session recording, never from an insight.
RASTERIZED_FORMATS = {"video/webm", "video/mp4", "image/gif"}
# What a session id may be before it becomes part of PostHog's internal recording API path.
SESSION_RECORDING_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
# Full video exports (a rasterized format of a session recording) a team may make per calendar
# month, by the organization's plan tier (FULL_VIDEO_EXPORTS_LIMIT_BY_TIER).
FULL_VIDEO_EXPORTS_LIMIT_BY_TIER = {"free": 10, "paid": 15, "enterprise": 25}
# The billing features that put an organization on a tier (get_plan_tier, as PostHog's tests pin it).
ENTERPRISE_FEATURES = {"saml", "role_based_access"}
PAID_FEATURES = {"recordings_file_export"}
# An export with no content and no exception this long after it was made is reported as failed
# (HOGQL_INCREASED_MAX_EXECUTION_TIME, 600 s by default, plus STUCK_EXPORT_GRACE_SECONDS, 30 s).
STUCK_EXPORT_SECONDS = 600 + 30
STUCK_EXPORT_MESSAGE = (
    "Export failed without throwing an exception. Please try to rerun this export and contact support if "
    "it fails to complete multiple times."
)
# get_content_response's answers for an export with no bytes (ExportNotReadyError, ExportFailedError).
EXPORT_NOT_READY = "This export is still being generated. Please try again shortly."
# is_url_allowed (posthog/security/url_validation.py): what a heatmap export may screenshot.
METADATA_HOSTS = {"169.254.169.254", "metadata.google.internal"}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
INTERNAL_DOMAIN_SUFFIXES = (
    ".local", ".internal", ".svc.cluster.local", ".cluster.local", ".consul", ".lan", ".home", ".corp",
    ".localdomain", ".home.arpa", ".intranet", ".priv",
)  # fmt: skip
PRIVATE_PREFIXES = ("10.", "192.168.", "169.254.", *(f"172.{n}." for n in range(16, 32)))


class Exports(Resource):
    def required_scopes(self, op: Operation, body: Any) -> tuple[str, ...] | None:
        """A create needs read access to what it renders (``dangerously_get_required_scopes`` with
        ``required_scopes_for_export_target``, products/exports/backend/source_authentication.py):
        ``export:write``, then ``insight:read``, ``dashboard:read`` and ``session_recording:read``
        for the insight, dashboard and recording it names, and ``query:read`` for a query source
        (PostHog derives a query's own scopes from its kind, in the query API's table, which is
        not in mockhog; ``query:read`` is its fallback)."""
        if op.action != "create" or not isinstance(body, dict):
            return None
        context = body.get("export_context")
        context = context if isinstance(context, dict) else {}
        needed = ["export:write"]
        if body.get("insight") is not None:
            needed.append("insight:read")
        if body.get("dashboard") is not None:
            needed.append("dashboard:read")
        if context.get("session_recording_id"):
            needed.append("session_recording:read")
        if context.get("source") is not None:
            needed.append("query:read")
        return tuple(needed)

    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        rows = [row for row in rows if row.get("_created_by") == call.user["id"]]
        path = call.query.get("context_path")
        if path:
            needle = path.lower()
            rows = [r for r in rows if needle in str((r["export_context"] or {}).get("path", "")).lower()]
        wanted = call.query.get("export_format")
        if wanted in EXTENSIONS:
            rows = [row for row in rows if row["export_format"] == wanted]
        recording = call.query.get("session_recording_id")
        if recording:
            rows = [r for r in rows if (r["export_context"] or {}).get("session_recording_id") == recording]
        return rows

    def get(self, call: Call, key: Any = None) -> Record:
        record = super().get(call, key)
        if record.get("_created_by") != call.user["id"]:
            raise errors.not_found()
        return record

    def build(self, call: Call, data: dict[str, Any]) -> Record:
        for field, table in (("dashboard", "dashboards"), ("insight", "insights")):
            if data.get(field) is not None and not is_live(call, table, data[field]):
                raise errors.validation_error(
                    f'Invalid pk "{data[field]}" - object does not exist.', field, "does_not_exist"
                )
        check_export(data)
        check_video_limit(call, data)
        check_heatmap_url(data)
        check_rasterized(data)
        record = super().build(call, {"dashboard": None, "insight": None, "export_context": None, **data})
        # Rendering finishes at once, after a delay, or when advanced (see mockhog.lifecycle).
        ready_at = call.backend.lifecycle.due("exports", call.now)
        dashboards, insights = call.table("dashboards").get, call.table("insights").get
        finished = self.finish(record, call.now, dashboards, insights, call.user["id"])
        return {**finished, "_ready_at": ready_at}

    def finish(self, record: Record, created: datetime, dashboards: Any, insights: Any, user: int) -> Record:
        """Fill the fields PostHog computes on save: filename, expiry, content state, creator."""
        subject = _subject_name(record, dashboards, insights)
        fmt = record["export_format"]
        stamp = created.strftime("%Y-%m-%d-%H%M%S")
        return {
            **record,
            "filename": f"{subject}-{stamp}.{EXTENSIONS[fmt]}",
            "expires_after": _expiry(fmt, created),
            "has_content": True,
            "exception": None,
            "_created_by": user,
        }

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        # Exports are access-controlled ("export"); the mock user, an organization admin and the
        # creator of every export it can see, has the highest level.
        body = {**super().serialize(call, record), "has_content": self.has_content(call, record)}
        return {**body, "exception": self.failure(call, record), "user_access_level": "manager"}

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return {**public(record), "user_access_level": "manager"}

    def has_content(self, call: Call, record: Record) -> bool:
        """Rendering finished without an exception (a fixture may record an export with no content,
        or a failed one)."""
        rendered = finished(record.get("_ready_at"), call.now) and record.get("has_content", True)
        return bool(rendered) and not record.get("exception")

    def failure(self, call: Call, record: Record) -> str | None:
        """get_export_error: the recorded exception, else the stuck message for an export that has
        no content well past its query-timeout budget (the serializer shows the same)."""
        if record.get("exception"):
            return record["exception"]
        if self.has_content(call, record):
            return None
        stuck = _moment(record["created_at"]) < call.now - timedelta(seconds=STUCK_EXPORT_SECONDS)
        return STUCK_EXPORT_MESSAGE if stuck else None

    @quirk("exports_content_retrieve")
    def content(self, call: Call) -> Reply:
        """get_content_response: the bytes, or for an export with none a 400 export_failed carrying
        its failure, or a 425 export_not_ready while it is still being generated."""
        record = self.get(call)
        if not self.has_content(call, record):
            failure = self.failure(call, record)
            if failure is not None:
                raise errors.ApiError(400, "invalid_request", "export_failed", failure)
            raise errors.ApiError(425, "invalid_request", "export_not_ready", EXPORT_NOT_READY)
        headers = {}
        if str(call.query.get("download", "")).lower() in ("true", "1"):
            headers["Content-Disposition"] = f'attachment; filename="{record["filename"]}"'
        headers["Cache-Control"] = "max-age=86400"
        body = render_content(record, call.table("insights").get, call.table("dashboards").get)
        return Reply(body=body, content_type=record["export_format"], headers=headers)

    seed_reads = ("dashboards", "insights")

    def seed(self, ctx: Any) -> list[Record]:
        records = []
        formats = [f for f in EXTENSIONS if f not in VIDEO_FORMATS]
        for key in range(1, ctx.profile["exports"]["count"] + 1):
            fmt = ctx.rng.choice(formats)
            on_dashboard = ctx.rng.random() < 0.3
            created = ctx.moment(20)
            record = {
                "id": key,
                "dashboard": ctx.rng.randint(1, len(ctx.tables["dashboards"])) if on_dashboard else None,
                "insight": None if on_dashboard else ctx.rng.randint(1, len(ctx.tables["insights"])),
                "export_format": fmt,
                "created_at": created,
                "export_context": None,
            }
            moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
            tables = ctx.tables
            records.append(
                self.finish(record, moment, tables["dashboards"].get, tables["insights"].get, ctx.user["id"])
            )
        return records


def check_export(data: dict[str, Any]) -> None:
    """ExportedAssetSerializer.validate's refusals before its video limit (exports.py), in order;
    each a 400 before anything is stored."""
    if not any(data.get(name) for name in ("dashboard", "insight", "export_context")):
        raise errors.validation_error(
            "Either dashboard, insight or export_context is required for an export."
        )
    context = data.get("export_context") or {}
    if not isinstance(context, dict):
        # PostHog reads export_context with .get() and fails with a 500 on anything else.
        got = type(context).__name__
        raise errors.validation_error(
            f'Expected a dictionary of items but got type "{got}".', "export_context", "not_a_dict"
        )
    if context.get("path") and (
        str(context.get("method", "GET")).upper() != "GET" or context.get("body") is not None
    ):
        raise errors.validation_error(
            "Exports from API endpoints only support GET requests without a request body.", "export_context"
        )
    recording = context.get("session_recording_id")
    if recording and not (isinstance(recording, str) and SESSION_RECORDING_ID.fullmatch(recording)):
        raise errors.validation_error("Invalid session_recording_id.", "export_context")


def check_heatmap_url(data: dict[str, Any]) -> None:
    """The validate's last refusal: a heatmap export's page must pass is_url_allowed."""
    url = (data.get("export_context") or {}).get("heatmap_url")
    if url:
        problem = url_problem(url)
        if problem:
            raise errors.validation_error(f"heatmap_url not allowed: {problem}", "export_context")


def check_rasterized(data: dict[str, Any]) -> None:
    """_create_asset's: a rasterized format (video or GIF) is rendered from a session recording only."""
    recording = (data.get("export_context") or {}).get("session_recording_id")
    if data.get("export_format") in RASTERIZED_FORMATS and not recording:
        raise errors.validation_error("Video export supports session recordings only.", "export_format")


def url_problem(raw: Any) -> str | None:
    """is_url_allowed's refusal of a URL PostHog would fetch, in its order, or None. Host names are
    not resolved (mockhog makes no DNS queries), so a public-looking name always passes; IP literals
    are checked as PostHog checks the addresses a name resolves to."""
    try:
        parts = urlparse(raw)
        host = (parts.hostname or "").lower()
    except (TypeError, ValueError, AttributeError):
        return "Invalid URL"
    if parts.scheme not in ("http", "https"):
        return "Disallowed scheme"
    if not parts.netloc:
        return "Missing host"
    if host in METADATA_HOSTS:
        return "Local/metadata host"
    if host in LOOPBACK_HOSTS:
        return "Local/Loopback host not allowed"
    for suffix in INTERNAL_DOMAIN_SUFFIXES:
        if host.endswith(suffix):
            return f"Internal domain pattern blocked: {suffix}"
    if host.startswith(PRIVATE_PREFIXES):
        return "Private IP address not allowed"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    internal = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    return f"Disallowed target IP: {address}" if internal else None


def check_video_limit(call: Call, data: dict[str, Any]) -> None:
    """ExportedAssetSerializer.validate's monthly limit: a video or GIF export of a session recording
    is refused once the team made its tier's number of them since the start of the calendar month
    (UTC); system-made exports do not count (posthog/api/exports.py)."""
    context = data.get("export_context") or {}
    if data.get("export_format") not in RASTERIZED_FORMATS or not context.get("session_recording_id"):
        return
    start_of_month = call.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    made = sum(
        1
        for row in call.table("exports").values()
        if row["export_format"] in RASTERIZED_FORMATS
        and "session_recording_id" in (row.get("export_context") or {})
        and not row.get("is_system")
        and _moment(row["created_at"]) >= start_of_month
    )
    limit = full_video_exports_limit(call)
    if made >= limit:
        message = f"Your team has reached the limit of {limit} full video exports this month."
        raise errors.validation_error(message, "export_limit_exceeded")


def full_video_exports_limit(call: Call) -> int:
    """The plan tier's limit, raised (never lowered) by the team's ``extra_settings`` override."""
    keys = {feature.get("key") for feature in product_features(call.backend.world.organization)}
    tier = "enterprise" if keys & ENTERPRISE_FEATURES else "paid" if keys & PAID_FEATURES else "free"
    limit = FULL_VIDEO_EXPORTS_LIMIT_BY_TIER[tier]
    project = call.backend.projects.get(call.project_id) or {}
    override = (project.get("extra_settings") or {}).get("full_video_exports_limit")
    try:
        override = int(override) if override is not None else 0
    except (TypeError, ValueError):  # PostHog logs an invalid override and keeps the tier's limit
        override = 0
    return max(limit, override)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _subject_name(record: Record, dashboard: Any, insight: Any) -> str:
    context = record.get("export_context") or {}
    if isinstance(context, dict) and context.get("filename"):
        return _slug(str(context["filename"]))
    if record.get("dashboard") and dashboard(record["dashboard"]):
        return "export-" + _slug(dashboard(record["dashboard"])["name"])
    if record.get("insight") and insight(record["insight"]):
        return "export-" + _slug(insight(record["insight"])["name"])
    return "export"


def _slug(text: str) -> str:
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def _expiry(fmt: str, created: datetime) -> str:
    extension = EXTENSIONS[fmt]
    if extension in ("csv", "xlsx"):
        days = 7
    elif extension in ("mp4", "webm", "gif"):
        days = 365
    else:
        days = 182
    midnight = (created + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_content(record: Record, insight: Any, dashboard: Any) -> bytes:
    """A real file of the export's format describing what was exported."""
    subject = (insight(record["insight"]) if record.get("insight") else None) or (
        dashboard(record["dashboard"]) if record.get("dashboard") else None
    )
    title = subject["name"] if subject else record["filename"]
    rows = [["date", "value"]] + [[f"2025-05-{day:02d}", str(day * 7 % 23)] for day in range(1, 8)]
    fmt = record["export_format"]
    if fmt == "text/csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()
    if fmt == "application/json":
        return json.dumps({"name": title, "results": rows[1:]}).encode()
    if fmt == "application/pdf":
        return _pdf(title)
    if fmt == "image/png":
        return _png(16, 16)
    if fmt == "image/gif":
        return _gif()
    if fmt == "video/mp4":
        return _mp4()
    if fmt == "video/webm":
        return _webm()
    return _xlsx(title, rows)


def _mp4() -> bytes:
    """An ISO base-media file with its type box and an empty media box: enough to be an MP4."""
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 512) + b"isomiso2mp41"
    return struct.pack(">I", 8 + len(ftyp)) + ftyp + struct.pack(">I", 8) + b"mdat"


def _webm() -> bytes:
    """An EBML header declaring the webm doc type, then an empty segment."""
    doc_type = b"\x42\x82\x84webm"
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doc_type)]) + doc_type
    return header + b"\x18\x53\x80\x67\x80"


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([0x1D, 0x4A, 0xD8]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _gif() -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x1d\x4a\xd8\x00\x00\x00"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + image + b"\x3b"


def _pdf(title: str) -> bytes:
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _xlsx(title: str, rows: list[list[str]]) -> bytes:
    def cell(value: str) -> str:
        safe = value.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c t="inlineStr"><is><t>{safe}</t></is></c>'

    sheet_rows = "".join(f"<row>{''.join(cell(v) for v in row)}</row>" for row in [[title], *rows])
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_rows}</sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), xml)
    return buffer.getvalue()
