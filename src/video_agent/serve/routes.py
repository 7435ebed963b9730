"""The HTTP endpoints: stories, scenes, videos with range requests, runs, events."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from video_agent.adapters.storage import LocalStorage, SceneStorage, open_storage
from video_agent.adapters.storage.local import check_story_id
from video_agent.context import VideoAgentContext
from video_agent.inputs import InputError, read_json
from video_agent.preflight import PreflightError, fallback_note, preflight
from video_agent.serve.panel import camera_path, quality_checks
from video_agent.serve.runs import RunBusy, RunManager
from video_agent.serve.stills import source_fields, source_still
from video_agent.serve.stories import checkpointed_story, story_from_body
from video_agent.status import story_status
from video_agent.story import Story, StoryFileError


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {"error": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    return JSONResponse(body, status_code=exc.status)


def _settings(request: Request) -> Any:
    return request.app.state.video_agent


def _storage(request: Request) -> SceneStorage:
    settings = _settings(request)
    return open_storage(settings.storage, settings.out)


def _manager(request: Request) -> RunManager:
    runs: RunManager = _settings(request).runs
    return runs


def _story_id(request: Request) -> str:
    raw = request.path_params["story_id"]
    try:
        return check_story_id(raw)
    except ValueError:
        raise ApiError(404, f"no story {raw!r}") from None


def _scene(request: Request) -> str:
    raw: str = request.path_params["scene"]
    if not raw.isascii() or not raw.isdigit() or raw.startswith("0") or len(raw) > 6:
        raise ApiError(404, f"no scene {raw!r}: scene numbers are positive integers")
    return raw


async def _status(request: Request, story_id: str) -> dict[str, Any]:
    """Stored and checkpointed status, overlaid with the live state of a running story."""
    out: Path = _settings(request).out
    settings = _settings(request)
    info = await story_status(out, story_id, settings.checkpoints, storage=settings.storage)
    run = _manager(request).last(story_id)
    if run is not None:
        info["running"] = not run.finished
        if run.error:
            info["run_error"] = run.error
        for key, live in run.live.items():
            scene = info["scenes"].setdefault(key, {"status": "not_run"})
            if not run.finished and live["state"] in ("queued", "running"):
                scene["status"] = live["state"]
                scene["stage"] = live["stage"]
                scene["progress"] = live["progress"]
                scene["message"] = live["message"]
        if not run.finished:
            info["run"] = "running"
    else:
        info["running"] = False
    info["scenes"] = dict(sorted(info["scenes"].items(), key=lambda kv: (len(kv[0]), kv[0])))
    if not info["scenes"]:
        raise ApiError(404, f"no story {story_id!r}")
    sources = {key: scene.pop("source", None) for key, scene in info["scenes"].items()}
    if run is not None:
        sources.update({k: v for k, v in run.sources.items() if k in info["scenes"]})
    stills = await asyncio.to_thread(_source_stills, request, sources)
    for key, scene in info["scenes"].items():
        scene.pop("path", None)  # server paths stay on the server
        base = f"/api/stories/{story_id}/scenes/{key}"
        if scene.get("status") == "done":
            scene["video"] = f"{base}/video"
        scene["still"] = f"{base}/still" if key in stills else None
        if not scene.get("scene_content") and sources.get(key):
            scene["scene_content"] = sources[key].get("scene_content")
            scene["layer1_analysis"] = sources[key].get("layer1_analysis")
        if run is not None and key in run.live:
            scene["overall"] = run.live[key].get("overall")
    counts: dict[str, int] = {}
    for scene in info["scenes"].values():
        counts[scene["status"]] = counts.get(scene["status"], 0) + 1
    info["totals"] = {"scenes": len(info["scenes"]), **counts, "cost_usd": round(sum(
        float(s.get("cost_usd") or 0) for s in info["scenes"].values()), 4),
        "seconds": round(sum(float(s.get("duration") or 0)
                             for s in info["scenes"].values()), 2)}
    return info


def _source_stills(request: Request, sources: dict[str, Any]) -> set[str]:
    """The scenes whose named still the server may show (see ``source_still``)."""
    settings = _settings(request)
    return {key for key, source in sources.items()
            if source_still(source, settings.images_roots, settings.out) is not None}


async def _scene_source(request: Request, story_id: str, key: str) -> dict[str, Any] | None:
    """The scene as its story names it: from the server's run of it, else from the checkpoint."""
    run = _manager(request).last(story_id)
    if run is not None and key in run.sources:
        return run.sources[key]
    settings = _settings(request)
    story = await checkpointed_story(settings.out, story_id, settings.checkpoints)
    scene = story.scenes.get(key) if story is not None else None
    return source_fields(scene) if scene is not None else None


async def list_stories(request: Request) -> Response:
    ids = set(await _storage(request).stories()) | {
        sid for sid in _manager(request).ids()}
    stories = []
    for sid in sorted(ids):
        try:
            info = await _status(request, sid)
        except ApiError:
            continue
        counts: dict[str, int] = {}
        for scene in info["scenes"].values():
            counts[scene["status"]] = counts.get(scene["status"], 0) + 1
        stories.append({"story_id": sid, "run": info["run"], "running": info["running"],
                        "scenes": len(info["scenes"]), "counts": counts,
                        "url": f"/api/stories/{sid}"})
    return JSONResponse({"stories": stories})


async def get_story(request: Request) -> Response:
    return JSONResponse(await _status(request, _story_id(request)))


async def get_scene(request: Request) -> Response:
    story_id, key = _story_id(request), _scene(request)
    info = await _status(request, story_id)
    if key not in info["scenes"]:
        raise ApiError(404, f"story {story_id!r} has no scene {key}")
    video = await _storage(request).current(story_id, key)
    body = {"story_id": story_id, "scene": key, **info["scenes"][key],
            "metadata": video.metadata if video else None}
    if body["metadata"]:
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "version_path"}
    body.update(await asyncio.to_thread(_panel, request, story_id, key, body["metadata"]))
    body["still"] = body["still"] or info["scenes"][key].get("still")
    body["versions"] = await _versions(request, story_id, key, body["metadata"])
    if not body.get("scene_content"):
        body["scene_content"] = (body["metadata"] or {}).get("scene_content")
    return JSONResponse(body, headers={"cache-control": "no-store"})


def _panel(request: Request, story_id: str, key: str,
           metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Quality checks, camera path, still and versions of a stored scene (read in a thread)."""
    base = f"/api/stories/{story_id}/scenes/{key}"
    if not metadata:
        return {"checks": [], "camera": None, "still": None, "versions": []}
    out: dict[str, Any] = {
        "checks": quality_checks(metadata.get("quality") or {}),
        "camera": camera_path(metadata),
        "still": f"{base}/still" if _still_path(request, metadata) else None,
        "cost_usd": metadata.get("cost_usd"),
        "fallback": fallback_note(metadata),
    }
    return out


async def _versions(request: Request, story_id: str, key: str,
                    metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every whole stored version of a scene, oldest first, in whichever storage holds it."""
    if not metadata:
        return []
    storage = _storage(request)
    base = f"/api/stories/{story_id}/scenes/{key}"
    versions = []
    for number in await storage.versions(story_id, key):
        video = await storage.version(story_id, key, number)
        if video is None:
            continue
        meta = video.metadata
        versions.append({"version": number, "provider": meta.get("provider"),
                         "model": meta.get("model"), "cost_usd": meta.get("cost_usd"),
                         "verdict": (meta.get("quality") or {}).get("verdict"),
                         "stored_at": meta.get("stored_at"),
                         "current": number == metadata.get("version"),
                         "video": f"{base}/versions/{number}/video"})
    return versions


def _still_path(request: Request, metadata: dict[str, Any]) -> Path | None:
    """The scene's cached source still, if it is a file inside the output folder."""
    raw = (metadata.get("image") or {}).get("path")
    if not raw:
        return None
    root = Path(_settings(request).out).resolve()
    path = Path(raw).resolve()
    return path if root in path.parents and path.is_file() else None


async def get_still(request: Request) -> Response:
    """The still of the scene's current version, or before one is stored, the image file the
    story's scene names when it lies inside the images roots or the output folder."""
    story_id, key = _story_id(request), _scene(request)
    video = await _storage(request).current(story_id, key)
    path = await asyncio.to_thread(_still_path, request, video.metadata) if video else None
    if path is not None:
        return FileResponse(path, headers={"cache-control": "no-cache"})
    settings = _settings(request)
    found = await asyncio.to_thread(source_still, await _scene_source(request, story_id, key),
                                    settings.images_roots, settings.out)
    if found is None:
        raise ApiError(404, f"story {story_id!r} scene {key} has no still to show")
    return FileResponse(found[0], media_type=found[1], headers={"cache-control": "no-cache"})


def _version(request: Request) -> int:
    raw = request.path_params["version"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise ApiError(404, f"no version {raw!r}")
    return int(raw)


async def get_version_video(request: Request) -> Response:
    """One stored version's clip: the file from the output folder, or a redirect to its signed
    URL in the bucket."""
    story_id, key, number = _story_id(request), _scene(request), _version(request)
    video = await _storage(request).version(story_id, key, number)
    if video is None:
        raise ApiError(404, f"story {story_id!r} scene {key} has no version {number}")
    if _settings(request).storage:
        return RedirectResponse(video.video_url, status_code=307,
                                headers={"cache-control": "no-store"})
    return FileResponse(video.path, media_type="video/mp4", headers={"cache-control": "no-cache"})


async def make_version_current(request: Request) -> Response:
    story_id, key, number = _story_id(request), _scene(request), _version(request)
    if _manager(request).running(story_id):
        raise ApiError(409, f"story {story_id!r} is running")
    video = await _storage(request).make_current(story_id, key, number)
    if video is None:
        raise ApiError(404, f"story {story_id!r} scene {key} has no version {number}")
    return JSONResponse({"story_id": story_id, "scene": key, "version": video.version})


async def list_providers(request: Request) -> Response:
    """The provider specs the start form offers, with the server's defaults."""
    from video_agent.adapters.providers.fal.endpoints import all_endpoints

    settings = _settings(request)
    specs = ["local", "local:draft", *(f"fal:{e}" for e in all_endpoints())]
    return JSONResponse({"providers": specs, "primary": settings.primary,
                         "fallback": settings.fallback, "resolution": settings.resolution,
                         "resolutions": ["1024x576", "1280x720", "1920x1080"]})


def _scene_file(request: Request, name: str) -> Path:
    story_id, key = _story_id(request), _scene(request)
    storage = LocalStorage(_settings(request).out)
    if storage.current(story_id, key) is None:
        raise ApiError(404, f"story {story_id!r} scene {key} has no stored video")
    root = Path(_settings(request).out).resolve()
    path = (storage.scene_dir(story_id, key) / name).resolve()
    if root not in path.parents:
        raise ApiError(404, "not found")
    return path


async def _remote_video(request: Request) -> Any:
    """The current video of a scene whose clips are not in the output folder."""
    story_id, key = _story_id(request), _scene(request)
    video = await _storage(request).current(story_id, key)
    if video is None:
        raise ApiError(404, f"story {story_id!r} scene {key} has no stored video")
    return video


async def get_video(request: Request) -> Response:
    if _settings(request).storage:
        video = await _remote_video(request)
        return RedirectResponse(video.video_url, status_code=307,
                                headers={"cache-control": "no-store"})
    path = await asyncio.to_thread(_scene_file, request, "video.mp4")
    return FileResponse(path, media_type="video/mp4",
                        headers={"cache-control": "no-cache"})


async def get_metadata(request: Request) -> Response:
    if _settings(request).storage:
        return JSONResponse((await _remote_video(request)).model_dump(mode="json"),
                            headers={"cache-control": "no-store"})
    path = await asyncio.to_thread(_scene_file, request, "metadata.json")
    return Response(await asyncio.to_thread(path.read_bytes), media_type="application/json")


JSON_TYPES = ("application/json",)


def _check_content_type(request: Request) -> None:
    """JSON bodies only (no header at all is read as JSON); UTF-8 is the only charset."""
    header = request.headers.get("content-type")
    if header is None:
        return
    kind, _, params = header.partition(";")
    kind = kind.strip().lower()
    if kind not in JSON_TYPES and not (kind.startswith("application/") and kind.endswith("+json")):
        raise ApiError(415, f"content-type: expected application/json, got {kind[:80]!r}",
                       "content-type")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
                "utf-8", "utf8"):
            raise ApiError(415, "content-type: the body must be UTF-8", "content-type")


async def _json_body(request: Request) -> Any:
    limit: int = _settings(request).max_body_bytes
    _check_content_type(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise ApiError(400, "content-length: not a number", "content-length")
        if len(declared) > 18 or int(declared) > limit:
            raise ApiError(413, f"body: larger than {limit} bytes", "body")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(413, f"body: larger than {limit} bytes", "body")
    try:
        return read_json(bytes(body), field="body", max_bytes=limit)
    except InputError as exc:
        raise ApiError(400, str(exc), exc.field) from None


def _context(request: Request, story: Story, only: list[str], force: list[str], **chosen: Any
             ) -> VideoAgentContext:
    settings = _settings(request)
    options = {"primary": settings.primary, "fallback": settings.fallback,
               "resolution": settings.resolution, **chosen}
    return VideoAgentContext(output_dir=str(settings.out), only_scenes=only, force_scenes=force,
                             storage=settings.storage,
                             image_roots=[str(root) for root in settings.images_roots],
                             allow_private_urls=settings.allow_private_urls, **options)


async def _run_options(request: Request) -> dict[str, Any]:
    """``primary``, ``fallback``, ``resolution`` and ``budget`` from the query string, checked
    like the CLI's options (a provider that cannot work at all is refused here)."""
    query = request.query_params
    chosen: dict[str, Any] = {}
    for name in ("primary", "fallback", "resolution"):
        if name in query:
            value = query[name].strip()
            if len(value) > 200 or any(ord(c) < 32 for c in value):
                raise ApiError(400, f"{name}: not a provider or size", name)
            chosen[name] = value
    if "budget" in query and query["budget"].strip():
        try:
            budget = float(query["budget"])
        except ValueError:
            raise ApiError(400, "budget: not a number of USD", "budget") from None
        if not (math.isfinite(budget) and budget >= 0):
            raise ApiError(400, "budget: an amount of USD, 0 or more", "budget")
        chosen["budget_usd"] = budget
    if not chosen:
        return chosen
    settings = _settings(request)
    ctx = VideoAgentContext(output_dir=str(settings.out), **{
        "primary": settings.primary, "fallback": settings.fallback,
        "resolution": settings.resolution, **chosen})
    try:
        ctx.size  # noqa: B018 - validates the resolution
    except ValueError as exc:
        raise ApiError(400, f"resolution: {exc}", "resolution") from None
    try:
        await asyncio.to_thread(preflight, ctx)
    except PreflightError as exc:
        field = str(exc).split(":", 1)[0].lstrip("-")
        raise ApiError(400, str(exc).lstrip("-"), field) from None
    return chosen


def _start(request: Request, story: Story, only: list[str], force: list[str],
           chosen: dict[str, Any] | None = None) -> Response:
    try:
        run = _manager(request).start(story, _context(request, story, only, force,
                                                      **(chosen or {})))
    except RunBusy as exc:
        raise ApiError(409, str(exc)) from None
    sid = story.story_id
    return JSONResponse({"story_id": sid, "scenes": run.scenes,
                         "status": f"/api/stories/{sid}", "events": f"/api/stories/{sid}/events"},
                        status_code=202)


async def post_story(request: Request) -> Response:
    raw = await _json_body(request)
    try:
        settings = _settings(request)
        story = story_from_body(raw, settings.images_roots,
                                allow_private_urls=settings.allow_private_urls)
    except StoryFileError as exc:
        raise ApiError(400, str(exc), exc.field or "body") from None
    force = request.query_params.get("force", "").lower() in ("1", "true", "yes")
    chosen = await _run_options(request)
    return _start(request, story, [], list(story.scenes) if force else [], chosen)


async def rerun_scene(request: Request) -> Response:
    story_id, key = _story_id(request), _scene(request)
    if _manager(request).running(story_id):
        raise ApiError(409, f"story {story_id!r} is already running")
    settings = _settings(request)
    story = await checkpointed_story(settings.out, story_id, settings.checkpoints)
    if story is None:
        raise ApiError(404, f"no story {story_id!r} run by this server's checkpoints")
    if key not in story.scenes:
        raise ApiError(404, f"story {story_id!r} has no scene {key}")
    return _start(request, story, [key], [key])


async def cancel_story(request: Request) -> Response:
    story_id = _story_id(request)
    manager = _manager(request)
    if not manager.cancel(story_id):
        if manager.last(story_id) is None:
            await _status(request, story_id)  # 404 for a story nobody knows
        raise ApiError(409, f"story {story_id!r} is not running")
    await manager.wait(story_id)
    return JSONResponse({"story_id": story_id, "status": "cancelled"}, status_code=202)


async def story_events(request: Request) -> Response:
    story_id = _story_id(request)
    manager = _manager(request)
    if manager.last(story_id) is None:
        await _status(request, story_id)  # 404 for a story nobody knows

    async def stream() -> Any:
        async with manager.subscribe(story_id) as queue:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield {"event": "ping", "data": "{}"}
                    continue
                yield {"event": event.get("event", "message"),
                       "data": json.dumps(event, default=str)}

    return EventSourceResponse(stream(), headers={"cache-control": "no-store"})
