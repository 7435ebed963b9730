"""The fake fal server's HTTP application: fal's queue protocol and storage upload endpoints.

Routes, as fal-client calls them:

- ``POST /<endpoint id>`` submit -> ``request_id``, ``status_url``, ``response_url``, ``cancel_url``
- ``GET /<owner>/<alias>/requests/<id>/status`` -> IN_QUEUE / IN_PROGRESS / COMPLETED
- ``GET /<owner>/<alias>/requests/<id>`` -> the model output (``video.url``) or the error
- ``PUT /<owner>/<alias>/requests/<id>/cancel``
- ``POST /storage/auth/token``, ``POST /files/upload``, ``POST /storage/upload/initiate`` + ``PUT``
- ``GET /files/<name>``: uploaded stills and generated clips

plus ``/_fake/counts``, ``/_fake/scenario`` and ``/_fake/reset`` for tests and tooling.

Random faults (``Scenario.fault_rate``) are drawn once per submission (``draw_fault``); a drawn
fault then hits the calls of its stage for that request: the submit itself, status polls, the
result, the clip's content or its download.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from video_agent_dev.fakefal.scenario import Fault, FaultKind, Scenario, draw_fault
from video_agent_dev.fakefal.video import BadImage, damage, render_clip

TOKEN_HOSTS = ("rest.fal.ai",)


@dataclass
class FakeRequest:
    id: str
    endpoint: str
    app_path: str
    args: dict[str, Any]
    scenario: Scenario
    submitted: float = field(default_factory=time.monotonic)
    state: str = "IN_QUEUE"
    started: float | None = None
    result: dict[str, Any] | None = None
    error: tuple[int, dict[str, Any]] | None = None
    cancelled: bool = False
    task: asyncio.Task[None] | None = None
    fault: Fault | None = None
    fault_calls: int = 0


class DownloadReset(ConnectionResetError):
    """Raised mid-body to drop a download's connection (a ``download_reset`` fault)."""


class _QuietResets(logging.Filter):
    """Keep the server's error log free of the resets it makes on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        return not isinstance(exc, DownloadReset)


logging.getLogger("uvicorn.error").addFilter(_QuietResets())


class FakeFal:
    """State of the fake server: requests, stored files, scenarios and counters."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.scenarios: dict[str, Scenario] = {}
        self.requests: dict[str, FakeRequest] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.counts: Counter[str] = Counter()
        self.submits: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        """Faults drawn, by kind (``counts["fault_<kind>"]``: calls they hit)."""
        self._ordinals: Counter[str] = Counter()
        self.auth_keys: set[str] = set()
        self._fault_used: Counter[str] = Counter()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ control

    def set_scenario(self, endpoint: str = "*", scenario: Scenario | None = None,
                     **fields: Any) -> Scenario:
        chosen = scenario or Scenario(**fields)
        self.scenarios[endpoint] = chosen
        self._slots.pop(endpoint, None)
        return chosen

    def scenario_for(self, endpoint: str) -> Scenario:
        return self.scenarios.get(endpoint) or self.scenarios.get("*") or Scenario()

    def heal(self) -> None:
        """Clear every random fault drawn so far: live requests answer normally again."""
        for req in self.requests.values():
            req.fault = None

    def reset(self) -> None:
        for req in self.requests.values():
            if req.task is not None:
                req.task.cancel()
        self._clear()

    def snapshot(self) -> dict[str, Any]:
        return {"submits": dict(self.submits), "counts": dict(self.counts),
                "faults": dict(self.faults),
                "requests": {r.id: r.state for r in self.requests.values()}}

    def _draw(self, endpoint: str, sc: Scenario, body: bytes) -> Fault | None:
        nth = f"{endpoint}|{hashlib.sha256(body).hexdigest()}"
        self._ordinals[nth] += 1
        fault = draw_fault(sc, endpoint, body, self._ordinals[nth])
        if fault is not None:
            self.faults[fault.kind] += 1
        return fault

    def _hits(self, req: FakeRequest | None, stage: str) -> FaultKind | None:
        """The request's drawn fault if it hits this call of ``stage``."""
        fault = req.fault if req is not None else None
        if fault is None or fault.stage != stage:
            return None
        assert req is not None
        req.fault_calls += 1
        if not fault.persistent and req.fault_calls > 1:
            return None
        self.counts[f"fault_{fault.kind}"] += 1
        return fault.kind

    def _fault(self, name: str, times: int) -> bool:
        """True for the first ``times`` calls of ``name`` (always when ``times`` is 0)."""
        if times and self._fault_used[name] >= times:
            return False
        self._fault_used[name] += 1
        return True

    # ------------------------------------------------------------------ lifecycle

    def _slot(self, endpoint: str, scenario: Scenario) -> asyncio.Semaphore | None:
        if scenario.concurrency is None:
            return None
        if endpoint not in self._slots:
            self._slots[endpoint] = asyncio.Semaphore(scenario.concurrency)
        return self._slots[endpoint]

    async def _run(self, req: FakeRequest) -> None:
        sc = req.scenario
        waiting = self._waiting.setdefault(req.endpoint, [])
        waiting.append(req.id)
        try:
            if sc.stuck:
                await asyncio.Event().wait()
            await asyncio.sleep(sc.queue_s)
            slot = self._slot(req.endpoint, sc)
            if slot is not None:
                await slot.acquire()
        finally:
            with contextlib.suppress(ValueError):
                waiting.remove(req.id)
        try:
            req.state, req.started = "IN_PROGRESS", time.monotonic()
            render = asyncio.create_task(asyncio.to_thread(self._render, req))
            await asyncio.sleep(sc.latency_s)
            await render
            req.state = "COMPLETED"
        finally:
            if slot is not None:
                slot.release()

    def _render(self, req: FakeRequest) -> None:
        sc = req.scenario
        try:
            if sc.gpu_error:
                req.error = (503, {"detail": "Out of GPU resources: no runner could be allocated",
                                   "error_type": "resource_exhausted"})
                return
            image_key = next((k for k in req.args if k.endswith("image_url")), "image_url")
            try:
                image = self._image_bytes(str(req.args.get(image_key, "")))
                if sc.invalid_image:
                    raise BadImage("the image could not be processed")
                clip = self._clip(req, image)
            except BadImage as exc:
                req.error = (422, {"detail": [{"loc": ["body", image_key], "msg": str(exc),
                                               "type": "image_load_error"}]})
                return
            name = f"{req.id}.mp4"
            self.files[name] = (clip, "video/mp4")
            req.result = {"video": {"url": f"/files/{name}", "content_type": "video/mp4",
                                    "file_name": name, "file_size": len(clip)},
                          "seed": int(req.args.get("seed", 42) or 42)}
        except Exception as exc:  # the fake must answer, whatever broke
            req.error = (500, {"detail": f"fake server error: {exc}"})

    def _image_bytes(self, url: str) -> bytes:
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.split(",", 1)[1])
            except (IndexError, ValueError) as exc:
                raise BadImage("malformed data URI") from exc
        path = urlparse(url).path
        name = unquote(path.rsplit("/files/", 1)[-1]) if "/files/" in path else ""
        if name in self.files:
            return self.files[name][0]
        raise BadImage(f"cannot download {url!r}")

    def _clip(self, req: FakeRequest, image: bytes) -> bytes:
        from video_agent.adapters.providers.fal.endpoints import all_endpoints

        sc = req.scenario
        known = all_endpoints().get(req.endpoint)
        width, height = (known.output.width, known.output.height) if known else (1280, 720)
        fps, audio = (known.output.fps, known.output.audio) if known else (24, False)
        seconds = requested_seconds(req.args, fps)
        width, height, fps, audio, seconds = _variant_shape(
            sc.video, width, height, fps, audio, seconds)
        width, height = sc.width or width, sc.height or height
        fps = sc.fps or fps
        audio = sc.audio if sc.audio is not None else audio
        variant = sc.video
        if fault := self._hits(req, "video"):  # a drawn fault wins over the overrides
            variant = fault.removeprefix("video_")  # type: ignore[assignment]
            width, height, fps, audio, seconds = _variant_shape(
                variant, width, height, fps, audio, seconds)
        clip = render_clip(image, width=width, height=height, fps=fps, seconds=seconds,
                           audio=audio)
        return damage(clip, variant) if variant in ("broken", "truncated") else clip


OFF_SPEC_SHAPE = (1280, 720, 25, True)
"""What ``video=off_spec`` answers with: 1280x720 at 25 fps with a sound track, a shape no endpoint
in the registry returns by default, so every part of it needs a repair (scale, rate, audio)."""


def _variant_shape(variant: str, width: int, height: int, fps: int, audio: bool,
                   seconds: float) -> tuple[int, int, int, bool, float]:
    """The clip's shape after a video variant: off-spec, small (768x512) or a second short."""
    if variant == "off_spec":
        width, height, fps, audio = OFF_SPEC_SHAPE
    elif variant == "small":
        width, height = 768, 512
    elif variant == "short":
        seconds = max(1.0, seconds - 1.0)
    return width, height, fps, audio, seconds


def requested_seconds(args: dict[str, Any], fps: int) -> float:
    """The length asked for: ``duration`` ("5", "4s", 5) or ``num_frames``; 5 s otherwise."""
    raw = args.get("duration")
    if raw is not None:
        with contextlib.suppress(ValueError):
            return float(str(raw).rstrip("s"))
    if "num_frames" in args:
        rate = float(args.get("frames_per_second") or fps or 24)
        with contextlib.suppress(TypeError, ValueError):
            return float(args["num_frames"]) / rate
    return 5.0


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _error(status: int, detail: Any, error_type: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if error_type:
        body["error_type"] = error_type
    return JSONResponse(body, status_code=status, headers=headers)


def build_app(fake: FakeFal) -> Starlette:
    """The Starlette application serving ``fake``."""

    def authorised(request: Request) -> bool:
        value = request.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("key", "bearer") or not token:
            return False
        fake.auth_keys.add(hashlib.sha256(token.encode()).hexdigest())
        return True

    async def submit(request: Request, endpoint: str) -> Response:
        fake.counts["submit_attempts"] += 1
        if not authorised(request):
            return _error(401, "No credentials (Authorization: Key <FAL_KEY>)")
        sc = fake.scenario_for(endpoint)
        if sc.submit_delay_s:
            await asyncio.sleep(sc.submit_delay_s)
        body = await request.body()
        fault = fake._draw(endpoint, sc, body)
        if fault is not None and fault.stage == "submit":
            fake.counts[f"fault_{fault.kind}"] += 1
            if fault.kind == "submit_429":
                return _error(429, "Too many requests in flight", "rate_limited")
            if fault.kind == "submit_5xx":
                return _error(503, "Service temporarily unavailable", "internal_server_error",
                              headers={"x-fal-request-id": "none"})
            await asyncio.sleep(sc.hang_s)
            return _error(504, "Gateway timeout", "gateway_timeout")
        if sc.submit_429 and fake._fault(f"429:{endpoint}", sc.submit_429):
            fake.counts["submit_429"] += 1
            return _error(429, "Too many requests in flight", "rate_limited")
        if sc.submit_error and fake._fault(f"submit:{endpoint}", sc.submit_error_times):
            fake.counts["submit_errors"] += 1
            return _error(sc.submit_error, "Internal server error", "internal_server_error",
                          headers={"x-fal-request-id": "none"})
        try:
            args = json.loads(body)
        except (ValueError, json.JSONDecodeError):
            return _error(422, [{"loc": ["body"], "msg": "invalid JSON", "type": "json"}])
        if not isinstance(args, dict):
            return _error(422, [{"loc": ["body"], "msg": "expected an object", "type": "type"}])
        parts = endpoint.split("/")
        app_path = "/".join(parts[:2])
        rid = str(uuid.uuid4())
        req = FakeRequest(id=rid, endpoint=endpoint, app_path=app_path, args=args, scenario=sc,
                          fault=fault)
        fake.requests[rid] = req
        fake.submits[endpoint] += 1
        req.task = asyncio.create_task(fake._run(req))
        base = f"{_base(request)}/{app_path}/requests/{rid}"
        return JSONResponse({"request_id": rid, "response_url": base,
                             "status_url": f"{base}/status", "cancel_url": f"{base}/cancel",
                             "queue_position": len(fake._waiting.get(endpoint, []))},
                            headers={"x-fal-request-id": rid})

    def find(rid: str) -> FakeRequest | None:
        return fake.requests.get(rid)

    async def status(request: Request, rid: str) -> Response:
        fake.counts["status"] += 1
        req = find(rid)
        if req is None:
            return _error(404, f"Request {rid} not found")
        sc = req.scenario
        fault = fake._hits(req, "status")
        if fault == "status_hang":
            await asyncio.sleep(sc.hang_s)
        if sc.malformed_status or fault == "status_malformed":
            return PlainTextResponse("<html>upstream hiccup</html>", status_code=200)
        if fault == "status_5xx":
            return _error(500, "status unavailable", headers={"x-fal-request-id": rid})
        if sc.status_error and fake._fault(f"status:{rid}", sc.status_error_times):
            return _error(sc.status_error, "status unavailable",
                          headers={"x-fal-request-id": rid})
        with_logs = request.query_params.get("logs", "").lower() in ("1", "true")
        headers = {"x-fal-request-id": rid}
        if req.state == "IN_QUEUE":
            waiting = fake._waiting.get(req.endpoint, [])
            position = waiting.index(rid) if rid in waiting else 0
            return JSONResponse({"status": "IN_QUEUE", "queue_position": position,
                                 "request_id": rid}, status_code=202, headers=headers)
        logs = _logs(req) if with_logs else None
        if req.state == "IN_PROGRESS":
            return JSONResponse({"status": "IN_PROGRESS", "logs": logs, "request_id": rid},
                                status_code=202, headers=headers)
        body: dict[str, Any] = {"status": "COMPLETED", "logs": logs, "request_id": rid,
                                "metrics": {"inference_time": sc.latency_s}}
        if req.error is not None:
            body["error"] = str(req.error[1].get("detail"))
            body["error_type"] = req.error[1].get("error_type")
        return JSONResponse(body, headers=headers)

    async def result(request: Request, rid: str) -> Response:
        fake.counts["result"] += 1
        req = find(rid)
        if req is None:
            return _error(404, f"Request {rid} not found")
        headers = {"x-fal-request-id": rid}
        if req.cancelled:
            return _error(400, "Request was cancelled", "request_cancelled", headers)
        if req.state != "COMPLETED":
            return _error(400, "Request is still in progress", "still_in_progress", headers)
        sc = req.scenario
        fault = fake._hits(req, "result")
        if fault == "result_hang":
            await asyncio.sleep(sc.hang_s)
        if sc.result_error and fake._fault(f"result:{rid}", sc.result_error_times):
            fake.counts["result_errors"] += 1
            return _error(sc.result_error, "Result temporarily unavailable", None, headers)
        if fault == "result_5xx":
            return _error(503, "Result temporarily unavailable", None, headers)
        if fault == "result_malformed":
            return PlainTextResponse("<html>upstream hiccup</html>", headers=headers)
        if req.error is not None:
            code, body = req.error
            return JSONResponse(body, status_code=code, headers=headers)
        assert req.result is not None
        if sc.malformed_result or fault == "result_no_video":
            return JSONResponse({"seed": 1, "note": "no video here"}, headers=headers)
        out = json.loads(json.dumps(req.result))
        out["video"]["url"] = sc.video_url or _base(request) + out["video"]["url"]
        return JSONResponse(out, headers=headers)

    async def cancel(request: Request, rid: str) -> Response:
        fake.counts["cancel"] += 1
        req = find(rid)
        if req is None:
            return _error(404, f"Request {rid} not found")
        if req.state == "COMPLETED":
            return _error(400, "Request already completed", "ALREADY_COMPLETED")
        req.cancelled = True
        if req.task is not None:
            req.task.cancel()
        req.state = "COMPLETED"
        req.error = (400, {"detail": "Request was cancelled", "error_type": "request_cancelled"})
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def queue_route(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        parts = path.split("/")
        if "requests" in parts:
            index = parts.index("requests")
            rest = parts[index + 1:]
            if request.method == "GET" and len(rest) == 2 and rest[1] == "status":
                return await status(request, rest[0])
            if request.method == "GET" and len(rest) == 1:
                return await result(request, rest[0])
            if request.method == "PUT" and len(rest) == 2 and rest[1] == "cancel":
                return await cancel(request, rest[0])
        if request.method == "POST" and len(parts) >= 2:
            return await submit(request, path)
        return _error(404, f"No route for {request.method} /{path}")

    # ----------------------------------------------------------------- storage

    def storage_failure() -> Response | None:
        if fake.scenario_for("storage").upload_error or fake.scenario_for("*").upload_error:
            fake.counts["upload_errors"] += 1
            return _error(500, "storage unavailable", "internal_server_error")
        return None

    def store(data: bytes, name: str | None, content_type: str) -> str:
        ext = (name or "upload.bin").rsplit(".", 1)[-1][:8]
        stored = f"{hashlib.sha256(data).hexdigest()[:24]}.{ext}"
        fake.files[stored] = (data, content_type)
        fake.counts["uploads"] += 1
        return stored

    async def token(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "No credentials")
        if failure := storage_failure():
            return failure
        expires = datetime.now(UTC) + timedelta(hours=1)
        return JSONResponse({"token": uuid.uuid4().hex, "token_type": "Bearer",
                             "base_url": _base(request), "expires_at": expires.isoformat()})

    async def upload(request: Request) -> Response:
        if failure := storage_failure():
            return failure
        data = await request.body()
        name = store(data, request.headers.get("x-fal-file-name"),
                     request.headers.get("content-type", "application/octet-stream"))
        return JSONResponse({"access_url": f"{_base(request)}/files/{name}"})

    async def initiate(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "No credentials")
        if failure := storage_failure():
            return failure
        body = await request.json()
        slot = uuid.uuid4().hex
        fake.files[f"pending-{slot}"] = (b"", str(body.get("content_type", "")))
        return JSONResponse({"upload_url": f"{_base(request)}/storage/put/{slot}",
                             "file_url": f"{_base(request)}/files/{slot}"})

    async def put_upload(request: Request) -> Response:
        slot = request.path_params["slot"]
        if f"pending-{slot}" not in fake.files:
            return _error(404, "unknown upload")
        content_type = fake.files.pop(f"pending-{slot}")[1]
        fake.files[slot] = (await request.body(), content_type)
        fake.counts["uploads"] += 1
        return Response(status_code=200)

    async def get_file(request: Request) -> Response:
        name = request.path_params["name"]
        fault: FaultKind | None = None
        sc = Scenario()
        if name.endswith(".mp4"):
            fake.counts["downloads"] += 1
            req = fake.requests.get(name[:-4])
            sc = req.scenario if req is not None else sc
            if sc.download_error_times and fake._fault(f"download:{name}",
                                                        sc.download_error_times):
                return PlainTextResponse("download failed", status_code=500)
            fault = fake._hits(req, "download")
            if fault == "download_5xx":
                return PlainTextResponse("download failed", status_code=500)
        if name not in fake.files:
            return PlainTextResponse("not found", status_code=404)
        data, content_type = fake.files[name]
        if fault in ("download_slow", "download_reset"):
            return StreamingResponse(
                _trickle(data, sc.slow_bytes_per_s, reset=fault == "download_reset"),
                media_type=content_type, headers={"content-length": str(len(data))})
        return Response(data, media_type=content_type)

    # ----------------------------------------------------------------- admin

    async def admin_counts(request: Request) -> Response:
        return JSONResponse(fake.snapshot())

    async def admin_scenario(request: Request) -> Response:
        body = await request.json()
        endpoint = body.pop("endpoint", "*")
        try:
            chosen = fake.set_scenario(endpoint, Scenario(**body))
        except ValueError as exc:
            return _error(422, str(exc))
        return JSONResponse({"endpoint": endpoint, "scenario": chosen.model_dump()})

    async def admin_reset(request: Request) -> Response:
        fake.reset()
        return JSONResponse({"reset": True})

    routes = [
        Route("/_fake/counts", admin_counts, methods=["GET"]),
        Route("/_fake/scenario", admin_scenario, methods=["POST"]),
        Route("/_fake/reset", admin_reset, methods=["POST"]),
        Route("/storage/auth/token", token, methods=["POST"]),
        Route("/storage/upload/initiate", initiate, methods=["POST"]),
        Route("/storage/put/{slot}", put_upload, methods=["PUT"]),
        Route("/files/upload", upload, methods=["POST"]),
        Route("/files/{name}", get_file, methods=["GET"]),
        Route("/{path:path}", queue_route, methods=["GET", "POST", "PUT"]),
    ]
    return Starlette(routes=routes)


async def _trickle(data: bytes, bytes_per_s: int, *, reset: bool) -> AsyncIterator[bytes]:
    """``data`` at ``bytes_per_s``; with ``reset``, the connection drops halfway."""
    step = max(1024, bytes_per_s // 10)
    end = len(data) // 2 if reset else len(data)
    for start in range(0, end, step):
        yield data[start:min(end, start + step)]
        await asyncio.sleep(0.1)
    if reset:
        raise DownloadReset(f"connection reset after {end} of {len(data)} bytes")


def _logs(req: FakeRequest) -> list[dict[str, Any]]:
    sc = req.scenario
    if not sc.logs or req.started is None:
        return []
    elapsed = time.monotonic() - req.started
    share = 1.0 if req.state == "COMPLETED" or not sc.latency_s else elapsed / sc.latency_s
    count = max(1, min(len(sc.logs), int(share * len(sc.logs)) + 1))
    return [{"message": m, "level": "INFO", "source": "user", "timestamp": ""}
            for m in sc.logs[:count]]
