"""What PostHog's capture service (rust/capture) reads from a request. Knows nothing of Flask.

The v0 endpoints (``/i/v0/e/``, ``/batch/``, ``/e/``, ``/capture/``, ``/track/``, ``/engage/``)
share one decoder, restated from ``extract_payload_bytes`` and ``RawRequest::from_bytes``:

1. the payload is the ``data`` query parameter when it is set, else the body; none is
   ``request missing data payload``;
2. a body that is wholly base64 (and not a urlencoded form) is decoded first;
3. a ``application/x-www-form-urlencoded`` body is a form whose ``data`` field is the payload
   (``+`` restored where the form decoding made spaces of it) and whose ``compression`` is a hint;
4. the compression hint (query ``compression``, the form's, or ``Content-Encoding: gzip``) says
   ``gzip``/``gzip-js``, ``lz64`` or ``base64``; gzip is also recognised by its magic bytes;
5. the JSON is an array of events (posthog-js), a batch ``{"api_key"|"token", "batch": [...]}``
   (the server SDKs) or one event;
6. the token is the batch's, else the events' own (``token``, ``$token``, ``api_key`` or
   ``properties.token``), and every event must agree.

Errors answer with the service's status and its plain-text message (``CaptureError``'s Display).
The service does not check the token against a team: an unknown token is accepted (200) and the
events are dropped later in the pipeline.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import lzstring

GZIP_MAGIC = b"\x1f\x8b\x08"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_DISTINCT_ID = 200
_BASE64 = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")
_BASE64_LOOSE = re.compile(r"^[A-Za-z0-9+/= ]+$")


class CaptureError(Exception):
    """A refused request: the capture service's status and plain-text body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decoding_error(reason: str) -> CaptureError:
    return CaptureError(400, f"failed to decode request: {reason}")


def parsing_error(reason: str) -> CaptureError:
    return CaptureError(400, f"failed to parse request: {reason}")


@dataclass
class Request:
    """The request as capture sees it."""

    body: bytes
    query: dict[str, str]
    content_type: str = ""
    content_encoding: str = ""


@dataclass
class Payload:
    """A decoded payload: its events, the token they carry, and the batch's ``sent_at``."""

    events: list[dict[str, Any]]
    token: str
    sent_at: str | None = None
    compression: str = "none"
    historical_migration: bool = False
    warnings: list[str] = field(default_factory=list)


def decode(request: Request) -> Payload:
    """Decode a v0 capture request, or raise :class:`CaptureError` with PostHog's answer."""
    raw = request.query.get("data", "").encode() or request.body
    if not raw:
        raise CaptureError(400, "request missing data payload")
    if not _looks_like_form(raw) and _looks_like_base64(raw):
        with contextlib.suppress(binascii.Error, ValueError):
            raw = base64.b64decode(raw, validate=True)
    form: dict[str, str] = {}
    if request.content_type.split(";")[0].strip().lower() == FORM_TYPE:
        if not _looks_like_form(raw):
            raise decoding_error("expected form data in POST request payload")
        parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        form = {key: values[-1] for key, values in parsed.items()}
        if "data" in form and _BASE64_LOOSE.match(form["data"]):
            form["data"] = form["data"].replace(" ", "+")
    hint = (
        request.query.get("compression")
        or form.get("compression")
        or ("gzip" if request.content_encoding.lower() == "gzip" else "")
    ).lower()
    data = form["data"].encode() if "data" in form else raw
    text, compression = _decompress(data, hint)
    payload = _parse(text)
    payload.compression = compression
    if payload.sent_at is None:
        payload.sent_at = _query_sent_at(request.query.get("sent_at") or request.query.get("_"))
    return payload


def _query_sent_at(raw: str | None) -> str | None:
    """``EventQuery::sent_at`` (``sent_at=`` or its alias ``_=``): posthog-js's milliseconds;
    seconds (older SDKs) are ignored."""
    if not raw or not raw.isdigit():
        return None
    moment = datetime.fromtimestamp(int(raw) / 1000, UTC)
    return moment.isoformat() if moment.year > 2020 else None


def _looks_like_form(raw: bytes) -> bool:
    head = raw[:64].lstrip()
    return b"=" in head and not head.startswith((b"{", b"[")) and re.match(rb"^[\w.$%-]+=", head) is not None


def _looks_like_base64(raw: bytes) -> bool:
    stripped = raw.strip()
    return len(stripped) % 4 == 0 and _BASE64.match(stripped) is not None


def _decompress(data: bytes, hint: str) -> tuple[str, str]:
    if data.startswith(GZIP_MAGIC) or hint in ("gzip", "gzip-js"):
        try:
            return gzip.decompress(data).decode("utf-8"), "gzip"
        except (OSError, EOFError, zlib.error, UnicodeDecodeError):
            raise decoding_error("invalid gzip data") from None
    if hint == "lz64":
        try:
            text = lzstring.LZString().decompressFromBase64(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError, TypeError, KeyError, IndexError):
            text = None
        if not text:
            raise decoding_error("invalid lz64 data")
        return text, "lz64"
    if hint == "base64" or (not hint and _looks_like_base64(data)):
        try:
            return base64.b64decode(data).decode("utf-8"), "base64"
        except (binascii.Error, ValueError, UnicodeDecodeError):
            if hint:
                raise decoding_error("invalid base64 data") from None
    try:
        return data.decode("utf-8"), "none"
    except UnicodeDecodeError:
        raise decoding_error("invalid body encoding") from None


def load_json(text: str) -> Any:
    """JSON as the services read it; lone surrogate escapes become U+FFFD (passes/invalid_surrogates.rs)
    so that nothing stored is text that cannot be written back out. Raises ValueError."""
    try:
        loaded = json.loads(text)
    except RecursionError:
        raise ValueError("recursion limit exceeded") from None
    return clean_surrogates(loaded) if "\\u" in text.lower() else loaded


def clean_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {clean_surrogates(k): clean_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_surrogates(item) for item in value]
    return value


def _parse(text: str) -> Payload:
    try:
        loaded = load_json(text)
    except ValueError as exc:
        raise parsing_error(str(exc)) from None
    batch_token: Any = None
    sent_at = None
    historical = False
    if isinstance(loaded, list):
        events = loaded
    elif isinstance(loaded, dict) and "batch" in loaded:
        batch_token = loaded.get("api_key", loaded.get("token"))
        if (batch_token is not None and not isinstance(batch_token, str)) or not isinstance(
            loaded["batch"], list
        ):
            raise parsing_error("data did not match any variant of untagged enum RawRequest")
        events, sent_at = loaded["batch"], loaded.get("sent_at")
        historical = bool(loaded.get("historical_migration"))
    elif isinstance(loaded, dict):
        events = [loaded]
    else:
        raise parsing_error("data did not match any variant of untagged enum RawRequest")
    if not all(isinstance(event, dict) for event in events):
        raise parsing_error("data did not match any variant of untagged enum RawRequest")
    if not events:
        raise CaptureError(400, "request holds no event")
    token = batch_token if batch_token is not None else _events_token(events)
    _validate_token(token)
    for event in events:
        if not isinstance(event.get("event"), str) or not event["event"]:
            raise CaptureError(400, "event submitted with an empty event name")
        distinct_id = extract_distinct_id(event)
        if distinct_id is None:
            raise CaptureError(400, "event submitted without a distinct_id")
        event["distinct_id"] = distinct_id
    return Payload(
        events, token, sent_at if isinstance(sent_at, str) else None, historical_migration=historical
    )


def _event_token(event: dict[str, Any]) -> str | None:
    for name in ("token", "$token", "api_key"):
        if isinstance(event.get(name), str):
            return event[name]
    token = (
        (event.get("properties") or {}).get("token") if isinstance(event.get("properties"), dict) else None
    )
    return token if isinstance(token, str) else None


def _events_token(events: list[dict[str, Any]]) -> str:
    tokens = {token for token in map(_event_token, events) if token is not None}
    if not tokens:
        raise CaptureError(401, "event submitted without an api_key")
    if len(tokens) > 1:
        raise CaptureError(401, "batch submitted with inconsistent api_key values")
    return tokens.pop()


def _validate_token(token: str) -> None:
    """``validate_token``: the shape only (the service does not look the team up)."""
    reason = None
    if not token.strip():
        reason = "empty"
    elif len(token) > 64:
        reason = "too_long"
    elif not token.isascii():
        reason = "not_ascii"
    elif "\0" in token:
        reason = "null_byte"
    elif token.startswith("phx_"):
        reason = "personal_api_key"
    if reason:
        raise CaptureError(401, f"API key is not valid: {reason}")


SESSION_ID = re.compile(r"^[A-Za-z0-9-]*$")
MAX_SESSION_ID = 70


def check_recording(payload: Payload) -> None:
    """``process_replay_events``' checks on a ``/s/`` batch: the first event carries a
    ``$session_id`` (letters, digits and ``-``, at most 70), every event its ``$snapshot_data``
    (a list or an object)."""
    first = _properties(payload.events[0])
    if "$session_id" not in first:
        raise CaptureError(400, "replay event submitted without session id")
    session_id = first["$session_id"]
    if (
        not isinstance(session_id, str)
        or len(session_id) > MAX_SESSION_ID
        or not SESSION_ID.match(session_id)
    ):
        raise CaptureError(400, "replay event has invalid session id")
    if not all(isinstance(_properties(e).get("$snapshot_data"), list | dict) for e in payload.events):
        raise CaptureError(400, "replay event submitted without snapshot data")


def _properties(event: dict[str, Any]) -> dict[str, Any]:
    properties = event.get("properties")
    return properties if isinstance(properties, dict) else {}


def extract_distinct_id(event: dict[str, Any]) -> str | None:
    """``RawEvent::extract_distinct_id``: the root field (or ``$distinct_id``), else the property;
    numbers and containers stringified, NUL replaced, cut to 200 characters; empty is none."""
    value = event.get("distinct_id")
    if value is None:
        value = event.get("$distinct_id")
    if value is None and isinstance(event.get("properties"), dict):
        value = event["properties"].get("distinct_id")
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = text.replace("\0", "\ufffd")
    return text[:MAX_DISTINCT_ID] or None
