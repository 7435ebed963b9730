"""A story's scenes spread over two instances of a real multi-worker LangGraph-compatible server
(Aegra 0.11 on PostgreSQL + Redis), against the fake fal server whose submission counter proves
that no scene is generated or paid for twice: scenes run on both instances, an instance killed
mid-scene loses no finished scene and its runs finish on the other without paying again, and a
failed scene is run again alone through the server API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph_sdk import get_client

from aegra_fixtures import Cluster, Instance, aegra_cluster
from conftest import still
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.ledger import LEDGER_FILE
from video_agent.graph import build_story_graph
from video_agent.remote import scene_thread_id
from video_agent_dev.fakefal import FakeFalServer
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow

SCENES = 8


@pytest.fixture(scope="module")
def fake_fal() -> Iterator[FakeFalServer]:
    with FakeFalServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            fake_fal: FakeFalServer) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("aegra")
    env = {**fake_fal.env(), "FAL_HOME_DIR": str(work / "fal_home")}
    with aegra_cluster(work, env) as running:
        # One after the other: the first runs the database migrations.
        running.start("a")
        running.start("b")
        yield running


@pytest.fixture
def fake(fake_fal: FakeFalServer) -> FakeFalServer:
    fake_fal.call(fake_fal.fake.reset)
    return fake_fal


def scene(number: int, image: Path) -> dict[str, Any]:
    return {"scene_number": number, "scene_content": f"Scene {number}: a slow pan at dusk.",
            "image_path": str(image), "layer1_analysis": "Slow pan, about 4 seconds."}


def story(tmp_path: Path, story_id: str, count: int = SCENES) -> dict[str, Any]:
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    return {"story_id": story_id, "narration": {},
            "scenes": {str(n): scene(n, still(images / f"{n}.jpg", seed=n))
                       for n in range(1, count + 1)}}


def context(out: Path, url: str, **extra: Any) -> dict[str, Any]:
    return {"output_dir": str(out), "primary": f"fal:{DEFAULT_PRIMARY}", "fallback": "",
            "scene_graph_url": url, "image_roots": [str(out.parent / "images")], **extra}


async def scene_runs(url: str, story_id: str, keys: list[str]) -> dict[str, list[dict]]:
    """Every run on each scene's thread, oldest first."""
    client = get_client(url=url)
    try:
        return {key: sorted(await client.runs.list(scene_thread_id(story_id, key), limit=100),
                            key=lambda r: str(r["created_at"]))
                for key in keys}
    finally:
        await client.aclose()


def submits(fake: FakeFalServer) -> int:
    return sum(fake.call(lambda: dict(fake.fake.submits)).values())


async def test_a_story_spreads_its_scenes_over_both_instances(
        cluster: Cluster, fake: FakeFalServer, tmp_path: Path) -> None:
    fake.call(lambda: fake.fake.set_scenario("*", latency_s=1.5))
    a, b = cluster.instances
    out = tmp_path / "out"
    payload = story(tmp_path, "spread")
    payload["scenes"]["9"] = scene(9, tmp_path / "images" / "later.jpg")  # not there yet
    client = get_client(url=a.url)
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "story", input=payload,
                                    context=context(out, a.url))
    await client.aclose()

    keys = [str(n) for n in range(1, SCENES + 1)]
    assert sorted(result["videos"], key=int) == keys, result.get("errors")
    assert result["errors"]["9"]["field"] == "image_path", result["errors"]["9"]
    for key in keys:
        assert_spec_clip(Path(result["videos"][key]["path"]))
    assert submits(fake) == SCENES  # one paid request per scene, none for the failed one

    # One run per scene, on its own thread; both instances ran some of them.
    runs = await scene_runs(a.url, "spread", [*keys, "9"])
    assert all(len(r) == 1 and r[0]["status"] == "success" for r in runs.values()), runs
    owners = {key: cluster.owner_of(r[0]["run_id"]) for key, r in runs.items()}
    assert all(len(o) == 1 for o in owners.values()), owners
    assert {o[0] for o in owners.values()} == {"a", "b"}, owners
    # Every run waited for each checkpoint: the story run by aegra.json's default, the scene
    # runs because remote_scene asks for it.
    assert await asyncio.to_thread(run_durabilities, cluster.database_url) == {"sync"}

    # The failed scene alone, as a new run on its thread through the server API.
    still(tmp_path / "images" / "later.jpg", seed=9)
    client = get_client(url=b.url)
    rerun = await client.runs.wait(scene_thread_id("spread", "9"), "video_agent",
                                   input={"story_id": "spread", "scene": payload["scenes"]["9"]},
                                   context=context(out, b.url))
    await client.aclose()
    assert rerun.get("errors", {}).get("9") is None, rerun
    assert "videos" in rerun, str(rerun)[:3000]
    assert rerun["videos"]["9"]["version"] == 1, rerun
    assert_spec_clip(Path(rerun["videos"]["9"]["path"]))
    assert submits(fake) == SCENES + 1
    after = await scene_runs(a.url, "spread", keys)
    assert {k: [r["run_id"] for r in v] for k, v in after.items()} == \
        {k: [r["run_id"] for r in runs[k]] for k in keys}  # the others did not run again
    assert all(result["videos"][key]["version"] == 1 for key in keys)


async def test_a_killed_instance_loses_no_finished_scene_and_repays_nothing(
        cluster: Cluster, fake: FakeFalServer, tmp_path: Path) -> None:
    """The story graph runs here and sends its scenes to instance a; b is killed mid-scene. The
    fal ledger is the shared PostgreSQL one (``state_db``), as for workers on many machines."""
    a, b = cluster.instances
    # The fake account runs one request at a time: scenes finish one by one, 4 s apart, so
    # when the first is done others (some of them on b) are paid for and still running.
    fake.call(lambda: fake.fake.set_scenario("*", latency_s=4.0, concurrency=1))
    out = tmp_path / "out"
    payload = story(tmp_path, "killed")
    keys = list(payload["scenes"])
    graph = build_story_graph()
    ctx = context(out, a.url, state_db=cluster.database_url)
    story_task = asyncio.create_task(graph.ainvoke(payload, context=ctx))

    finished_before, victims = await wait_for_kill_point(cluster, b, fake, out, keys,
                                                          story_task)
    b.kill()
    killed_at = time.time_ns()
    result = await asyncio.wait_for(story_task, timeout=300)

    assert sorted(result["videos"], key=int) == keys, result.get("errors")
    assert not result.get("errors")
    assert submits(fake) == SCENES  # the killed instance's scenes were not paid again
    assert not (out / ".state" / LEDGER_FILE).exists()  # the PostgreSQL ledger did that
    for key, stamp in finished_before.items():
        video = out / "killed" / f"scene_{key}" / "video.mp4"
        assert video.stat().st_mtime_ns == stamp  # a finished scene is not generated again
        assert result["videos"][key].version == 1
    for key in keys:
        assert_spec_clip(Path(result["videos"][key].path))
    runs = await scene_runs(a.url, "killed", keys)
    # A victim may have ended on b in the moment between the last look and the kill.
    ended_on_b = {k for k in victims
                  if (out / "killed" / f"scene_{k}" / "video.mp4").stat().st_mtime_ns < killed_at}
    assert set(victims) - ended_on_b, "no scene of the killed instance was left running"
    for key in victims:  # b's run on the scene was taken over by a, not doubled
        assert len(runs[key]) == 1 and runs[key][0]["status"] == "success", runs[key]
        owners = ["b"] if key in ended_on_b else ["a", "b"]
        assert cluster.owner_of(runs[key][0]["run_id"]) == owners


def run_durabilities(database_url: str) -> set[str | None]:
    """The durability each run on the cluster was executed with, as Aegra stored its job."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT execution_params->'execution'->>'durability' FROM runs").fetchall()
    return {row[0] for row in rows}


def paid_scenes(database_url: str, story_id: str) -> set[str]:
    """Scenes of ``story_id`` whose fal request the shared ledger records as submitted."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        try:
            rows = conn.execute("SELECT scene FROM fal_requests WHERE story_id=%s"
                                " AND request_id IS NOT NULL", (story_id,)).fetchall()
        except psycopg.errors.UndefinedTable:  # the ledger makes its tables on first use
            return set()
    return {str(row[0]) for row in rows}


async def wait_for_kill_point(cluster: Cluster, victim: Instance, fake: FakeFalServer, out: Path,
                              keys: list[str],
                              story_task: asyncio.Task) -> tuple[dict[str, int], list[str]]:
    """Wait until some scenes are finished and ``victim`` is running scenes that are not, each
    of them paid for (its fal request recorded as submitted); return the finished scenes' video
    mtimes and the victim's unfinished scenes.

    Not "every scene paid for": an instance holds at most the endpoint's request slots (4) at
    once, so with five runs on one instance the fifth is paid only when one of its four ends,
    and the victim's scenes may all have ended by then."""
    deadline = time.monotonic() + 180
    url = cluster.instances[0].url
    seen: list[str] = []
    while time.monotonic() < deadline:
        if story_task.done():
            raise AssertionError(f"the story finished before the kill point: "
                                 f"{story_task.result().get('errors')}; seen: {seen[-8:]}")
        runs = await scene_runs(url, "killed", keys)
        videos = {k: out / "killed" / f"scene_{k}" / "video.mp4" for k in keys}
        done = {k: p.stat().st_mtime_ns for k, p in videos.items() if p.exists()}
        picked = victim.picked_runs()
        victims = [k for k, r in runs.items()
                   if r and r[-1]["run_id"] in picked and r[-1]["status"] == "running"
                   and k not in done]
        paid = await asyncio.to_thread(paid_scenes, cluster.database_url, "killed")
        seen.append(f"done={sorted(done)} victims={victims} paid={sorted(paid)} "
                    f"submits={submits(fake)}")
        if done and victims and set(victims) <= paid:
            return done, victims
        await asyncio.sleep(0.2)
    raise AssertionError(f"no moment with finished scenes and paid scenes running on the "
                         f"victim; seen: {seen[-8:]}")
