"""S3 clip storage against a real S3-compatible server (moto) on loopback: versions, atomic
publication, presigned URLs served over HTTP, idempotent renders, a kill before the pointer."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

import shared_state_fixtures
from video_agent.adapters.storage import open_storage
from video_agent.adapters.storage.s3 import S3Storage

s3_server = shared_state_fixtures.s3_server
s3_env = shared_state_fixtures.s3_env


def clip(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"clip_{uuid.uuid4().hex[:6]}.mp4"
    path.write_bytes(content)
    return path


@pytest.fixture
def storage(s3_env: dict[str, str], tmp_path: Path) -> S3Storage:
    store = open_storage(f"s3://clips/run-{uuid.uuid4().hex[:8]}", tmp_path / "out")
    assert isinstance(store, S3Storage)
    return store


async def test_versions_pointer_and_presigned_url(storage: S3Storage, tmp_path: Path) -> None:
    first = await storage.save_scene("story", "5", clip(tmp_path, b"one" * 1000), {"d": 6.0})
    second = await storage.save_scene("story", 5, clip(tmp_path, b"two" * 1000), {"d": 5.0})
    assert (first.version, second.version) == (1, 2)
    assert second.path.endswith("/story/scene_5/versions/v0002/video.mp4")
    assert second.metadata["versions"] == [1, 2] and second.metadata["d"] == 5.0
    current = await storage.current("story", "5")
    assert current is not None and current.version == 2
    assert await storage.versions("story", "5") == [1, 2]
    assert await storage.scenes("story") == ["5"] and await storage.stories() == ["story"]
    async with httpx.AsyncClient() as http:
        answer = await http.get(current.video_url)
        old = await http.get(first.video_url)
    assert answer.status_code == 200 and answer.content == b"two" * 1000
    assert old.content == b"one" * 1000, "earlier versions stay"
    assert "X-Amz-Signature" in current.video_url
    assert "testing-secret" not in current.model_dump_json(), "no secret in metadata"
    assert not list((tmp_path / "out").rglob("*.mp4")), "nothing left in the local temp folder"


async def test_a_render_is_stored_once(storage: S3Storage, tmp_path: Path) -> None:
    first = await storage.save_scene("s", "1", clip(tmp_path, b"a"), {}, render_id="r1")
    again = await storage.save_scene("s", "1", clip(tmp_path, b"a"), {}, render_id="r1")
    other = await storage.save_scene("s", "1", clip(tmp_path, b"b"), {}, render_id="r2")
    assert (first.version, again.version, other.version) == (1, 1, 2)
    assert again.metadata["render_id"] == "r1"
    assert await storage.versions("s", "1") == [1, 2]


async def test_journal_summary_and_public_urls(s3_env: dict[str, str], tmp_path: Path) -> None:
    prefix = f"pub-{uuid.uuid4().hex[:8]}"
    store = open_storage(f"s3://clips/{prefix}", tmp_path, public_base_url="https://cdn.test/v/")
    video = await store.save_scene("s", "3", clip(tmp_path, b"x"), {})
    assert video.video_url == "https://cdn.test/v/s/scene_3/versions/v0001/video.mp4"
    await store.record_attempt("s", {"scene": "3", "outcome": "ok"})
    await store.record_attempt("s", {"scene": "3", "outcome": "error"})
    assert [a["outcome"] for a in await store.attempts("s")] == ["ok", "error"]
    where = await store.write_story_summary("s", {"story_id": "s"})
    assert where == f"s3://clips/{prefix}/s/story.json"
    assert await store.stories() == ["s"], "attempts and summaries are not stories"


def test_bad_settings_are_named(tmp_path: Path) -> None:
    for spec in ("s3://", "s3://bucket?x=1", "s3://key:secret@bucket/p", "gs://bucket"):
        with pytest.raises(ValueError, match="storage: "):
            open_storage(spec, tmp_path)


async def test_bad_story_ids_are_refused(storage: S3Storage, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="story_id"):
        await storage.save_scene("../x", "1", clip(tmp_path, b"a"), {})


CHILD = """
import asyncio, sys
from pathlib import Path
from video_agent.adapters.storage import open_storage

store = open_storage(sys.argv[1], Path(sys.argv[2]))
asyncio.run(store.save_scene("story", "1", Path(sys.argv[3]), {"take": 2}))
"""


async def test_a_kill_before_the_pointer_leaves_the_previous_version_current(
        storage: S3Storage, s3_env: dict[str, str], tmp_path: Path) -> None:
    url = f"s3://{storage.bucket}/{storage.prefix}"
    await storage.save_scene("story", "1", clip(tmp_path, b"first"), {"take": 1})
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "out"), str(clip(tmp_path, b"2nd"))],
        env={**os.environ, "VIDEO_AGENT_KILL_AT": "s3_before_pointer"}, capture_output=True,
        text=True, timeout=120)
    assert child.returncode == -9, child.stderr
    current = await storage.current("story", "1")
    assert current is not None and current.version == 1 and current.metadata["take"] == 1
    async with httpx.AsyncClient() as http:
        assert (await http.get(current.video_url)).content == b"first"
    # The orphan version is whole but not current; the next write takes the next number.
    assert await storage.versions("story", "1") == [1, 2]
    third = await storage.save_scene("story", "1", clip(tmp_path, b"third"), {"take": 3})
    assert third.version == 3
    assert (await storage.current("story", "1")).version == 3  # type: ignore[union-attr]


async def test_concurrent_writers_never_share_a_version(storage: S3Storage,
                                                        tmp_path: Path) -> None:
    import asyncio

    bodies = [f"take {i}".encode() * 100 for i in range(3)]
    videos = await asyncio.gather(*(storage.save_scene("s", "2", clip(tmp_path, body), {"i": i})
                                    for i, body in enumerate(bodies)))
    assert sorted(v.version for v in videos) == [1, 2, 3]
    async with httpx.AsyncClient() as http:
        for video, body in zip(videos, bodies, strict=True):
            assert (await http.get(video.video_url)).content == body


async def test_the_http_app_serves_clips_from_s3(storage: S3Storage, tmp_path: Path) -> None:
    from video_agent.serve import create_app

    await storage.save_scene("shown", "1", clip(tmp_path, b"clip bytes"), {"duration": 6.0})
    app = create_app(tmp_path / "out", storage=f"s3://{storage.bucket}/{storage.prefix}")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        stories = (await api.get("/api/stories")).json()["stories"]
        assert [s["story_id"] for s in stories] == ["shown"]
        scene = (await api.get("/api/stories/shown/scenes/1")).json()
        assert scene["status"] == "done" and scene["metadata"]["duration"] == 6.0
        video = await api.get("/api/stories/shown/scenes/1/video")
        meta = (await api.get("/api/stories/shown/scenes/1/metadata")).json()
        missing = await api.get("/api/stories/shown/scenes/2/video")
    assert video.status_code == 307 and meta["version"] == 1
    assert missing.status_code == 404
    async with httpx.AsyncClient() as http:
        assert (await http.get(video.headers["location"])).content == b"clip bytes"


async def test_a_stored_version_is_read_whole_and_made_current(storage: S3Storage,
                                                              tmp_path: Path) -> None:
    await storage.save_scene("pick", "2", clip(tmp_path, b"take one"), {"take": 1})
    await storage.save_scene("pick", "2", clip(tmp_path, b"take two"), {"take": 2})
    first = await storage.version("pick", "2", 1)
    assert first is not None and first.version == 1 and first.metadata["take"] == 1
    assert first.path.endswith("/pick/scene_2/versions/v0001/video.mp4")
    made = await storage.make_current("pick", "2", 1)
    assert made is not None and made.version == 1
    current = await storage.current("pick", "2")
    assert current is not None and current.version == 1 and current.metadata["take"] == 1
    async with httpx.AsyncClient() as http:
        assert (await http.get(current.video_url)).content == b"take one"
    assert await storage.version("pick", "2", 7) is None
    assert await storage.make_current("pick", "2", 7) is None
    assert (await storage.current("pick", "2")).version == 1  # type: ignore[union-attr]


async def test_a_claimed_version_without_its_clip_is_not_offered(storage: S3Storage,
                                                                 tmp_path: Path) -> None:
    """A writer killed between claiming a number and copying the clip in leaves metadata only."""
    await storage.save_scene("half", "1", clip(tmp_path, b"whole"), {})
    base = storage._scene_key("half", "1")
    async with storage._client() as client:
        await client.put_object(Bucket=storage.bucket, Key=f"{base}/versions/v0002/metadata.json",
                                Body=(await storage.version("half", "1", 1)).model_dump_json()
                                .replace('"version":1', '"version":2').encode())
    assert await storage.version("half", "1", 2) is None
    assert await storage.make_current("half", "1", 2) is None
    assert (await storage.current("half", "1")).version == 1  # type: ignore[union-attr]


async def test_the_panel_lists_serves_and_picks_versions_in_s3(storage: S3Storage,
                                                               tmp_path: Path) -> None:
    from video_agent.serve import create_app

    for n in (1, 2):
        await storage.save_scene("vs", "3", clip(tmp_path, bytes([n]) * 500),
                                 {"provider": "local", "model": f"m{n}", "cost_usd": 0.5 * n})
    app = create_app(tmp_path / "out", storage=f"s3://{storage.bucket}/{storage.prefix}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as api:
        scene = (await api.get("/api/stories/vs/scenes/3")).json()
        assert [(v["version"], v["current"], v["model"]) for v in scene["versions"]] == [
            (1, False, "m1"), (2, True, "m2")]
        old = await api.get(scene["versions"][0]["video"])
        made = await api.post("/api/stories/vs/scenes/3/versions/1/current")
        now = await api.get("/api/stories/vs/scenes/3/video")
        missing = await api.post("/api/stories/vs/scenes/3/versions/9/current")
        listed = (await api.get("/api/stories/vs/scenes/3")).json()["versions"]
    assert old.status_code == 307 and made.status_code == 200 and made.json()["version"] == 1
    assert missing.status_code == 404 and "no version 9" in missing.json()["error"]
    assert [v["current"] for v in listed] == [True, False]
    async with httpx.AsyncClient() as http:
        assert (await http.get(old.headers["location"])).content == bytes([1]) * 500
        assert (await http.get(now.headers["location"])).content == bytes([1]) * 500
