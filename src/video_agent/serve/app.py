"""The Video Agent's HTTP app: status and retrieval API, story runs, events, preview page,
``/metrics``.

``create_app(out_dir)`` builds it; the module-level ``app`` (output folder from
``VIDEO_AGENT_OUT``, default ``generated_video``) is what ``langgraph.json``'s ``http.app`` mounts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from video_agent.adapters.checkpoints import check_checkpoints
from video_agent.adapters.storage import open_storage
from video_agent.runner import run_story
from video_agent.serve import routes
from video_agent.serve.metrics import TimingMiddleware, metrics_endpoint
from video_agent.serve.runs import RunManager, Runner

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass
class ServeSettings:
    out: Path
    images_roots: list[Path]
    allow_private_urls: bool
    max_body_bytes: int
    primary: str
    fallback: str
    resolution: str
    runs: RunManager
    storage: str | None = None
    """Clip storage: None for the output folder, or s3://bucket/prefix."""
    checkpoints: str | None = None
    """Checkpoint store: None for SQLite under ``out/.state``, or a postgresql:// URL."""


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html",
                        headers={"cache-control": "no-cache"})


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"not found: {request.url.path}"}, status_code=404)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"{request.method} not allowed on {request.url.path}"},
                        status_code=405)


async def server_error(request: Request, exc: Exception) -> Response:
    """A fault of the server itself: still JSON, without internals."""
    return JSONResponse({"error": "internal server error"}, status_code=500)


def create_app(out_dir: Path, *, max_body_bytes: int = DEFAULT_MAX_BODY, max_concurrency: int = 2,
               primary: str = "local", fallback: str = "local:draft",
               resolution: str = "1024x576", images_root: Path | Sequence[Path] | None = None,
               allow_private_urls: bool = False, runner: Runner = run_story,
               storage: str | None = None, checkpoints: str | None = None) -> Starlette:
    """The app serving stories under ``out_dir``; runs use ``primary``/``fallback`` providers.

    ``images_root``: the folder (or folders) posted stories may name stills in (relative paths
    resolve against the first); without one, posted stories must use http(s) URLs.
    ``allow_private_urls`` lets runs fetch stills from private addresses; a posted story
    cannot turn it on.
    ``storage``: where clips are (see ``open_storage``); an S3 clip is served by a redirect to its
    presigned URL.
    ``checkpoints``: where runs checkpoint (see ``open_checkpointer``); a ``postgresql://`` URL
    also holds the fal request ledger and caches, so several servers can share stories.
    """
    open_storage(storage, Path(out_dir))  # a bad setting fails here, not on the first request
    check_checkpoints(checkpoints)
    roots = [images_root] if isinstance(images_root, (str, Path)) else list(images_root or ())
    settings = ServeSettings(
        out=Path(out_dir).expanduser().resolve(),
        images_roots=[Path(root).expanduser().resolve() for root in roots],
        allow_private_urls=allow_private_urls,
        max_body_bytes=max_body_bytes, primary=primary, fallback=fallback,
        resolution=resolution, runs=RunManager(max_concurrency=max_concurrency, runner=runner,
                                               checkpoints=checkpoints or None),
        storage=storage or None, checkpoints=checkpoints or None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await settings.runs.close()

    story = "/api/stories/{story_id}"
    scene = story + "/scenes/{scene}"
    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/api/stories", routes.list_stories, methods=["GET"]),
            Route("/api/stories", routes.post_story, methods=["POST"]),
            Route(story, routes.get_story, methods=["GET"]),
            Route(story + "/events", routes.story_events, methods=["GET"]),
            Route(story + "/cancel", routes.cancel_story, methods=["POST"]),
            Route(scene, routes.get_scene, methods=["GET"]),
            Route(scene + "/video", routes.get_video, methods=["GET"]),
            Route(scene + "/metadata", routes.get_metadata, methods=["GET"]),
            Route(scene + "/rerun", routes.rerun_scene, methods=["POST"]),
            Route(scene + "/still", routes.get_still, methods=["GET"]),
            Route(scene + "/versions/{version}/video", routes.get_version_video,
                  methods=["GET"]),
            Route(scene + "/versions/{version}/current", routes.make_version_current,
                  methods=["POST"]),
            Route("/api/providers", routes.list_providers, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(TimingMiddleware)],
        exception_handlers={routes.ApiError: routes.api_error, 404: not_found,
                            405: method_not_allowed, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.video_agent = settings
    return app


app = create_app(Path(os.environ.get("VIDEO_AGENT_OUT", "generated_video")),
                 storage=os.environ.get("VIDEO_AGENT_STORAGE") or None,
                 checkpoints=os.environ.get("VIDEO_AGENT_CHECKPOINTS") or None,
                 images_root=[Path(root) for root in
                              os.environ.get("VIDEO_AGENT_IMAGES_ROOTS", "").split(os.pathsep)
                              if root])
