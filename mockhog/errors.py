"""PostHog's error shapes: the drf-exceptions-hog envelope and the bare bodies some actions use."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered in PostHog's envelope ``{type, code, detail, attr}``."""

    def __init__(
        self,
        status: int,
        type: str,
        code: str,
        detail: str,
        attr: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.body: Any = {"type": type, "code": code, "detail": detail, "attr": attr}
        self.headers = headers or {}


class BareError(ApiError):
    """An error some PostHog views build by hand, e.g. ``{"detail": "..."}`` or ``{"message": ...}``."""

    def __init__(self, status: int, body: Any) -> None:
        Exception.__init__(self, str(body))
        self.status = status
        self.body = body
        self.headers = {}


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(404, "invalid_request", "not_found", detail)


def project_not_found() -> ApiError:
    return not_found("Project not found.")


def endpoint_not_found() -> ApiError:
    return not_found("Endpoint not found.")


def validation_error(detail: str, attr: str | None = None, code: str = "invalid_input") -> ApiError:
    # drf-exceptions-hog reports DRF's generic code "invalid" as "invalid_input".
    return ApiError(400, "validation_error", "invalid_input" if code == "invalid" else code, detail, attr)


def parse_error(detail: str) -> ApiError:
    return ApiError(400, "invalid_request", "parse_error", detail)


def method_not_allowed(method: str, allowed: list[str] | None = None) -> ApiError:
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return ApiError(
        405, "invalid_request", "method_not_allowed", f'Method "{method}" not allowed.', headers=headers
    )


def unsupported_media_type(media_type: str) -> ApiError:
    return ApiError(
        415, "invalid_request", "unsupported_media_type", f'Unsupported media type "{media_type}" in request.'
    )


def permission_denied(detail: str = "You do not have permission to perform this action.") -> ApiError:
    return ApiError(403, "authentication_error", "permission_denied", detail)


def not_authenticated() -> ApiError:
    return ApiError(
        401,
        "authentication_error",
        "not_authenticated",
        "Authentication credentials were not provided.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def authentication_failed(source: str) -> ApiError:
    return ApiError(
        401,
        "authentication_error",
        "authentication_failed",
        f"Personal API key found in request {source} is invalid.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def server_error(detail: str = "A server error occurred.") -> ApiError:
    return ApiError(500, "server_error", "error", detail)


def request_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "invalid_request",
        "request_too_large",
        f"Request body is larger than {limit // (1024 * 1024)} MiB.",
    )
