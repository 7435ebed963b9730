"""Remote scene mode: scene threads, the context a scene run gets, joining instead of doubling a
run, and a story graph whose server is unreachable."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE_IMAGES
from video_agent.context import VideoAgentContext
from video_agent.graph import build_story_graph, dispatch_scenes
from video_agent.models import SceneError, SceneVideo
from video_agent.remote import (
    TASK_KEY,
    RemoteSceneError,
    _existing_run,
    _scene_output,
    remote_context,
    run_scene_remotely,
    scene_thread_id,
)


def test_scene_threads_are_stable_uuid5_per_story_and_scene() -> None:
    first = scene_thread_id("cafe", "5")
    assert first == scene_thread_id("cafe", 5) == str(uuid.UUID(first))
    assert uuid.UUID(first).version == 5
    assert len({first, scene_thread_id("cafe", "6"), scene_thread_id("cafe2", "5")}) == 3
    with pytest.raises(ValueError, match="story_id"):
        scene_thread_id("", "5")


@pytest.mark.parametrize("field", ["chat_model", "quality"])
def test_settings_that_cannot_travel_in_a_run_are_refused_by_name(field: str) -> None:
    ctx = VideoAgentContext(scene_graph_url="http://127.0.0.1:1", **{field: object()})
    with pytest.raises(ValueError, match=f"^{field}: "):
        remote_context(ctx)


def test_a_database_password_never_travels_in_a_run() -> None:
    ctx = VideoAgentContext(scene_graph_url="http://127.0.0.1:1",
                            state_db="postgresql://video:s3cret@db:5432/video")
    with pytest.raises(ValueError, match=r"^state_db: ") as raised:
        remote_context(ctx)
    assert "s3cret" not in str(raised.value)
    ctx.state_db = "postgresql://video@db:5432/video"
    assert remote_context(ctx)["state_db"] == ctx.state_db


def test_a_scene_run_gets_the_story_settings_with_absolute_paths(tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = VideoAgentContext(output_dir="out", story_dir="stories", primary="local:draft",
                            scene_graph_url="http://127.0.0.1:1", only_scenes=["2"],
                            image_roots=["stills"])
    sent = remote_context(ctx)
    assert sent["output_dir"] == str(tmp_path / "out")
    assert sent["story_dir"] == str(tmp_path / "stories")
    assert sent["image_roots"] == [str(tmp_path / "stills")]
    assert sent["primary"] == "local:draft"
    assert not {"scene_graph_url", "scene_assistant_id", "only_scenes"} & set(sent)
    assert sent["fal_key_env"] == "FAL_KEY"  # the variable's name, never a key
    VideoAgentContext(**sent)  # the server side builds its context from it


def test_a_scene_runs_output_becomes_story_models() -> None:
    video = {"video_url": "file:///v.mp4", "metadata": {"duration": 4.0}, "path": "/v.mp4"}
    update = _scene_output("3", {"videos": {"3": video, "4": video}, "errors": {"3": None},
                                 "planned_durations": {"3": 4}})
    assert update["videos"] == {"3": SceneVideo.model_validate(video)}
    assert update["errors"] == {"3": None} and update["planned_durations"] == {"3": 4.0}
    failed = _scene_output("3", {"errors": {"3": {"scene": "3", "stage": "store",
                                                  "message": "disk full"}}})
    assert isinstance(failed["errors"]["3"], SceneError)
    with pytest.raises(RemoteSceneError, match="not a Video Agent output"):
        _scene_output("3", {"videos": {"3": {"path": 1}}})
    with pytest.raises(RemoteSceneError, match="wrote nothing"):
        _scene_output("3", {"videos": {"4": video}})


class _Runs:
    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self._runs = runs
        self.created: list[dict[str, Any]] = []

    async def list(self, thread_id: str, limit: int = 10) -> list[dict[str, Any]]:
        return self._runs

    async def create(self, thread_id: str, assistant_id: str, **kwargs: Any) -> dict[str, Any]:
        self.created.append(kwargs)
        return _run("new", "pending")

    async def join(self, thread_id: str, run_id: str) -> dict[str, Any]:
        return {"errors": {"1": {"scene": "1", "stage": "store", "message": "disk full"}}}


class _Threads:
    async def create(self, **kwargs: Any) -> dict[str, Any]:
        return {}


class _Client:
    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = _Runs(runs)
        self.threads = _Threads()

    async def aclose(self) -> None:
        pass


async def test_a_scene_run_waits_for_each_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Created with ``durability="sync"``, whatever the server's default: a worker killed
    between two steps never keeps a step's journal line without the step before it."""
    client = _Client([])
    monkeypatch.setattr("video_agent.remote.get_client", lambda url: client)
    ctx = VideoAgentContext(scene_graph_url="http://127.0.0.1:9")
    update = await run_scene_remotely({"story_id": "s", "scene": {"scene_number": 1}},  # type: ignore[typeddict-item]
                                      ctx, "task")
    assert update["errors"]["1"].message == "disk full"
    assert [c["durability"] for c in client.runs.created] == ["sync"]


def _run(run_id: str, status: str, task: str | None = None, at: str = "1") -> dict[str, Any]:
    return {"run_id": run_id, "status": status, "created_at": at,
            "config": {"configurable": {TASK_KEY: task} if task else {}}}


async def test_a_retried_story_task_joins_its_own_run_even_when_finished() -> None:
    client = _Client([_run("old", "success", "t1", "1"), _run("mine", "success", "t2", "2")])
    assert (await _existing_run(client, "th", "t2"))["run_id"] == "mine"


async def test_an_active_run_on_the_thread_is_joined_not_doubled() -> None:
    client = _Client([_run("done", "success", "t0"), _run("busy", "running", "t9")])
    assert (await _existing_run(client, "th", "t1"))["run_id"] == "busy"
    assert await _existing_run(_Client([_run("done", "error", "t0")]), "th", "t1") is None


def test_dispatch_chooses_the_remote_node_only_when_a_server_is_named() -> None:
    class Runtime:
        def __init__(self, ctx: VideoAgentContext) -> None:
            self.context = ctx

    state = {"story_id": "s", "scenes": {"1": {"scene_number": 1}}, "pending": ["1"]}
    local = dispatch_scenes(state, Runtime(VideoAgentContext()))  # type: ignore[arg-type]
    remote = dispatch_scenes(state, Runtime(  # type: ignore[arg-type]
        VideoAgentContext(scene_graph_url="http://127.0.0.1:1")))
    assert [s.node for s in local] == ["video_agent"]  # type: ignore[union-attr]
    assert [s.node for s in remote] == ["remote_scene"]  # type: ignore[union-attr]


async def test_an_unreachable_server_fails_each_scene_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    scenes = {str(n): {"scene_number": n, "scene_content": "pan",
                       "image_path": str(EXAMPLE_IMAGES / "portrait.jpg")} for n in (1, 2)}
    result = await asyncio.wait_for(build_story_graph().ainvoke(
        {"story_id": "offline", "scenes": scenes},
        context=VideoAgentContext(output_dir=str(tmp_path), scene_graph_url=url)), 120)
    assert not result.get("videos")
    assert {k: (e.field, e.stage) for k, e in result["errors"].items()} == \
        {"1": ("scene_graph_url", "remote"), "2": ("scene_graph_url", "remote")}
    assert url in result["errors"]["1"].message
    assert (tmp_path / "offline" / "story.json").exists()


async def test_a_setting_that_cannot_be_sent_fails_the_scenes_before_any_call(
        tmp_path: Path) -> None:
    scenes = {"1": {"scene_number": 1, "scene_content": "pan",
                    "image_path": str(EXAMPLE_IMAGES / "portrait.jpg")}}
    ctx = VideoAgentContext(output_dir=str(tmp_path), scene_graph_url="http://127.0.0.1:9",
                            quality=object())
    result = await build_story_graph().ainvoke({"story_id": "s", "scenes": scenes}, context=ctx)
    error = result["errors"]["1"]
    assert (error.field, error.stage) == ("quality", "remote")
    assert "127.0.0.1:9" not in error.message  # refused here, the server was never called
