"""``/metrics`` and the API response-time histogram (per route template, method, status)."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from video_agent import telemetry

http_seconds = Histogram(
    "video_agent_http_request_seconds", "API response time, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


async def metrics_endpoint(request: Request) -> Response:
    telemetry.register_gpu_collector()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class TimingMiddleware:
    """Times every HTTP request; the label is the route template, never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        route = _route(scope)
        streaming = route.endswith("/events")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                # the streaming routes (events) are timed to their first byte
                if streaming:
                    _observe(scope["method"], route, status["code"], start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if not streaming:
                _observe(scope["method"], route, status["code"], start)


def _observe(method: str, route: str, status: int, start: float) -> None:
    http_seconds.labels(method, route, str(status)).observe(
        time.perf_counter() - start)


def _route(scope: Scope) -> str:
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", "other")
    return "unmatched"
