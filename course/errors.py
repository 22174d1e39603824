"""The course's typed errors. Everything below the two boundaries (the CLI and the
notebooks) raises these with their cause attached (`raise ... from error`); only the
boundaries turn them into one message (and `firstapp --debug` shows the traceback).

The Kubernetes API's refusals are mapped once, by `api_error`, into `ApiError`
subclasses that keep the server's own message.
"""

from __future__ import annotations

import json
from typing import Protocol


class UnusableInput(Exception):
    """The input or the environment cannot be worked with at all (CLI exit status 2)."""


class ClusterUnavailable(UnusableInput):
    """No cluster to talk to: no kubeconfig, an unknown context, no answer."""


class ApiError(UnusableInput):
    """The API server refused a request. `message` is the server's own words."""

    prefix = "cannot"

    def __init__(self, action: str, status: int, message: str, hint: str = "") -> None:
        self.action, self.status, self.message, self.hint = action, status, message, hint
        super().__init__(f"{self.prefix} {action}: {message}" + (f"; {hint}" if hint else ""))


class Forbidden(ApiError):
    prefix = "forbidden to"


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class Invalid(ApiError):
    """The server rejected an object (422): a field it does not accept."""


class _ApiExceptionLike(Protocol):  # kubernetes.client.exceptions.ApiException, without importing it
    status: int | None
    reason: str | None
    body: str | bytes | None


_BY_STATUS: dict[int, type[ApiError]] = {403: Forbidden, 404: NotFound, 409: Conflict, 422: Invalid}


def api_error(error: _ApiExceptionLike, action: str, hint: str = "") -> ApiError:
    """The typed error for an `ApiException` raised while trying to `action`."""
    status = error.status or 0
    message = f"{status} {error.reason or ''}".strip()
    try:
        body = json.loads(error.body or "")
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
    except (TypeError, ValueError):
        pass
    return _BY_STATUS.get(status, ApiError)(action, status, message, hint)
