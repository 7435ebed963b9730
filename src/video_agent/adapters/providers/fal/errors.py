"""Classify what fal (and the network) answer into the graph's routes.

Non-critical errors send the scene to the fallback provider: timeouts, 429 after fal-client's own
backoff, 5xx, a queue that does not move, a malformed answer, a download that kept failing.
Critical errors end the scene: an image the endpoint refuses, a failed upload, no GPU resources,
the budget cap.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fal_client import FalClientHTTPError, FalClientTimeoutError

from video_agent.adapters.providers.base import ProviderError

_GPU_TYPES = {"resource_exhausted", "out_of_memory", "gpu_unavailable", "no_gpu_available",
              "runner_scheduling_failure", "insufficient_resources"}
_GPU_TEXT = re.compile(
    r"out of (gpu|memory)|cuda (error: )?out of memory|resources? (are )?exhausted|"
    r"no (available )?gpus?|gpu (capacity|resources?) (unavailable|exhausted)", re.I)
_IMAGE_TYPES = {"image_load_error", "image_too_small", "image_too_large", "file_download_error",
                "unsupported_image_format", "face_detection_error"}


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (and its id:secret halves) removed."""
    if not secret:
        return text
    for part in {secret, *secret.split(":")}:
        if len(part) >= 6:
            text = text.replace(part, "***")
    return text


def _detail_items(detail: Any) -> list[dict[str, Any]]:
    if isinstance(detail, list):
        return [d for d in detail if isinstance(d, dict)]
    if isinstance(detail, dict):
        return [detail]
    return []


def _json_detail(exc: FalClientHTTPError) -> Any:
    try:
        body = exc.response.json()
    except (ValueError, json.JSONDecodeError, httpx.ResponseNotRead, AttributeError):
        return exc.message
    return body.get("detail", body) if isinstance(body, dict) else body


def is_gpu_exhausted(error_type: str | None, message: str) -> bool:
    return (error_type or "").lower() in _GPU_TYPES or bool(_GPU_TEXT.search(message or ""))


def from_http(exc: FalClientHTTPError, *, where: str, image_arg: str = "image_url",
              request_id: str | None = None, key: str | None = None) -> ProviderError:
    """A ``ProviderError`` for an HTTP error answered by fal during ``where``."""
    status = exc.status_code
    detail = _json_detail(exc)
    items = _detail_items(detail)
    text = redact(_short(detail), key)
    error_type = exc.error_type or next((i.get("type") for i in items if i.get("type")), None)
    message = f"fal {where} answered HTTP {status}" + (f" ({error_type})" if error_type else "")
    message += f": {text}" if text else ""
    rid = request_id or exc.response_headers.get("x-fal-request-id")
    if is_gpu_exhausted(error_type, text):
        return ProviderError(message, kind="gpu_unavailable", critical=True, request_id=rid)
    if status == 422:
        for item in items:
            loc = [str(p) for p in item.get("loc", [])]
            if image_arg in loc or item.get("type") in _IMAGE_TYPES:
                return ProviderError(message, kind="invalid_image", critical=True,
                                     field=image_arg, request_id=rid)
        field = next((str(i["loc"][-1]) for i in items if i.get("loc")), None)
        return ProviderError(message, kind="invalid_arguments", critical=False, field=field,
                             request_id=rid)
    if status == 429:
        return ProviderError(message, kind="rate_limited", request_id=rid)
    if status in (401, 403):
        return ProviderError(message, kind="auth", request_id=rid)
    if status == 404:
        return ProviderError(message, kind="not_found", request_id=rid)
    if status in (408, 504):
        return ProviderError(message, kind="timeout", request_id=rid)
    if status >= 500:
        return ProviderError(message, kind="server_error", request_id=rid)
    return ProviderError(message, kind="http_error", request_id=rid)


def classify(exc: BaseException, *, where: str, image_arg: str = "image_url",
             request_id: str | None = None, key: str | None = None) -> ProviderError:
    """Any exception met while talking to fal, as a ``ProviderError``."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, FalClientHTTPError):
        return from_http(exc, where=where, image_arg=image_arg, request_id=request_id, key=key)
    if isinstance(exc, FalClientTimeoutError | TimeoutError | httpx.TimeoutException):
        return ProviderError(f"fal {where} timed out", kind="timeout", request_id=request_id)
    if isinstance(exc, httpx.HTTPError):
        text = redact(str(exc) or exc.__class__.__name__, key)
        return ProviderError(f"fal {where} failed: {text}", kind="connection",
                             request_id=request_id)
    if isinstance(exc, ValueError | KeyError | TypeError):
        text = redact(f"{exc.__class__.__name__}: {exc}", key)
        return ProviderError(f"fal {where} gave a malformed answer ({text})", kind="protocol",
                             request_id=request_id)
    text = redact(f"{exc.__class__.__name__}: {exc}", key)
    return ProviderError(f"fal {where} failed: {text}", kind="provider_error",
                         request_id=request_id)


def _short(detail: Any, limit: int = 300) -> str:
    if isinstance(detail, str):
        text = detail
    else:
        items = _detail_items(detail)
        if items:
            text = "; ".join(
                ".".join(str(p) for p in i.get("loc", [])) + (": " if i.get("loc") else "")
                + str(i.get("msg", i.get("message", ""))) for i in items)
        else:
            text = json.dumps(detail) if detail is not None else ""
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")
