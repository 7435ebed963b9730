"""Kill campaign: ``video-agent run`` SIGKILLed at each named fault point, then run again.

After the second run the output must be what one uninterrupted run makes: the same scenes, clips
with the same frames, size and plan, the same metadata (timings, timestamps, ids and paths
aside), exactly one stored version per render, no temp folders, no partial files, and no paid
fal request repeated unless the kill fell between fal accepting it and its id being recorded.

The short form (four representative points) runs in the default suite; ``-m slow`` adds the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import av
import pytest

import fakefal_fixtures
from conftest import ROOT, run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.ledger import Ledger
from video_agent_dev.fakefal import FakeFalServer

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

STORY_ID = "campaign"
LOCAL_ARGS = ("--primary", "local", "--fallback", "local:draft", "--max-concurrency", "1")
FAL_ARGS = ("--primary", f"fal:{DEFAULT_PRIMARY}", "--fallback", "local:draft")
FAL_SCENARIO: dict[str, Any] = {"latency_s": 0.3}  # Kling's 1280x720 30 fps + audio: repaired

# point -> where it sits; the SHORT ones run in the default suite.
LOCAL_POINTS = {
    "render_mid_encode": "embedded renderer, half the frames encoded",
    "generate_clip_ready": "provider returned, attempt not yet journalled",
    "journal_appended": "attempt journalled, generate node not checkpointed",
    "quality_assessed": "quality verdict made, not checkpointed",
    "store_staged": "version staged in temp/, before the rename into versions/",
    "store_version_renamed": "version whole in versions/, nothing published",
    "store_video_published": "video.mp4 published, metadata.json not yet",
    "store_published": "published and work folder removed, store not checkpointed",
}
FAL_POINTS = {
    "fal_submitted": "fal accepted the request, its id not yet in the ledger",
    "fal_recorded": "request id recorded in the ledger",
    "fal_mid_download": "first chunk of the clip on disk",
    "fal_downloaded": "clip downloaded and recorded, attempt not returned",
    "repair_mid_encode": "repair transcode half done",
}
SHORT = {"render_mid_encode", "store_version_renamed", "store_published", "fal_recorded"}
REPEATED_WITH_CAUSE = {"fal_submitted": 1}
"""A kill after fal accepted a submit but before its id was written leaves nothing to resume:
the rerun pays once more. Every other point repeats no paid request."""


def points(table: dict[str, str]) -> list[Any]:
    return [pytest.param(name, id=name,
                         marks=() if name in SHORT else pytest.mark.slow) for name in table]


# --------------------------------------------------------------------------- what a run leaves


def clip_facts(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        frames = sum(1 for _ in container.decode(video=0))
    return {"frames": frames, "size": size, "duration": round(frames / 24, 3)}


VOLATILE = {"timings", "stored_at", "version_path", "request_id", "render_id",
            "provider_details", "attempts", "versions"}


def stable(meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata without what legitimately differs between two runs of the same story."""
    out = {k: v for k, v in meta.items() if k not in VOLATILE}
    # Two uninterrupted runs differ here too: the encoder's threads make the bytes (so the
    # measured metrics and the exact bitrate) vary a little; what was measured must not.
    quality = dict(out.get("quality") or {})
    quality["metrics"] = sorted(quality.get("metrics") or {})
    quality["series"] = sorted(quality.get("series") or {})
    quality["checks"] = [(c["name"], c["property"], c["status"])
                         for c in quality.get("checks") or []]
    for probe in ("probe", "original_probe"):
        if isinstance(quality.get(probe), dict):
            quality[probe] = {k: v for k, v in quality[probe].items()
                              if k not in ("path", "bitrate", "size_bytes")}
    out["quality"] = quality
    out["image"] = {k: v for k, v in (out.get("image") or {}).items() if k != "path"}
    args = dict(out.get("provider_args") or {})
    args.pop("image_url", None)  # a storage URL of the fake server
    out["provider_args"] = args
    # Attempts as what was tried, each once: a clip made again after a kill is the same attempt.
    out["tried"] = [(a["slot"], a["provider"], a["model"], a["outcome"])
                    for a in meta.get("attempts", [])]
    return out


def outcome(out: Path) -> dict[str, Any]:
    story = out / STORY_ID
    scenes: dict[str, Any] = {}
    for scene_dir in sorted(story.glob("scene_*")):
        versions = sorted(p for p in (scene_dir / "versions").iterdir() if p.is_dir())
        renders = [json.loads((v / "metadata.json").read_text())["metadata"]["render_id"]
                   for v in versions]
        meta = json.loads((scene_dir / "metadata.json").read_text())
        assert os.path.samefile(scene_dir / "video.mp4", meta["metadata"]["version_path"])
        scenes[scene_dir.name] = {
            "versions": len(versions), "renders": len(set(renders)),
            "clip": clip_facts(scene_dir / "video.mp4"),
            "metadata": stable(meta["metadata"]),
        }
    summary = json.loads((story / "story.json").read_text())
    return {"scenes": scenes,
            "summary": {k: (v["status"], v.get("version")) for k, v in
                        summary["scenes"].items()}}


def leftovers(out: Path) -> list[str]:
    """Temp folders and partial files anywhere in the output."""
    temp = out / "temp"
    found = [str(p) for p in temp.iterdir()] if temp.is_dir() else []
    found += [str(p) for pattern in ("*.part", "*.partial") for p in out.rglob(pattern)]
    return found


def differences(got: Any, want: Any, where: str = "") -> list[str]:
    """Where two outcomes differ, as readable paths (empty when equal)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [d for key in sorted(set(got) | set(want), key=str)
                for d in differences(got.get(key), want.get(key), f"{where}/{key}")]
    return [] if got == want else [f"{where}: {got!r} != {want!r}"]


# --------------------------------------------------------------------------- stories and baselines


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("campaign_story")
    local = write_story(folder / "local.json", STORY_ID, [
        {"scene_number": n, "scene_content": f"Scene {n}: a slow pan across the hills.",
         "image_path": str(still(folder / f"s{n}.jpg", seed=n)),
         "layer1_analysis": "Slow pan left to right, 4 seconds."} for n in (1, 2)])
    fal = write_story(folder / "fal.json", STORY_ID, [
        {"scene_number": 1, "scene_content": "A slow push-in on the harbour at dawn.",
         "image_path": str(still(folder / "harbour.jpg", seed=7)),
         "layer1_analysis": "Slow push-in, 5 seconds."}])
    return {"local": local, "fal": fal}


def fal_env(server: FakeFalServer, home: Path) -> dict[str, str]:
    return {**server.env(), "FAL_HOME_DIR": str(home)}


def run(story: Path, out: Path, args: tuple[str, ...], env: dict[str, str] | None = None,
        kill_at: str | None = None) -> Any:
    env = dict(env or {})
    if kill_at:
        env["VIDEO_AGENT_KILL_AT"] = kill_at
    return run_cli("run", str(story), "--out", str(out), *args, env=env, timeout=300)


@pytest.fixture(scope="module")
def local_baseline(stories: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("baseline_local") / "out"
    done = run(stories["local"], out, LOCAL_ARGS)
    assert done.returncode == 0, done.stdout + done.stderr
    return outcome(out)


@pytest.fixture(scope="module")
def fal_baseline(stories: dict[str, Path], fake_fal_server: FakeFalServer,
                 tmp_path_factory: pytest.TempPathFactory) -> dict:
    server = fake_fal_server
    server.call(server.fake.reset)
    server.call(lambda: server.fake.set_scenario("*", **FAL_SCENARIO))
    folder = tmp_path_factory.mktemp("baseline_fal")
    done = run(stories["fal"], folder / "out", FAL_ARGS, fal_env(server, folder / "fal_home"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert server.fake.submits == {DEFAULT_PRIMARY: 1}
    result = outcome(folder / "out")
    assert result["scenes"]["scene_1"]["metadata"]["quality"]["verdict"] == "repaired"
    return result


# --------------------------------------------------------------------------- the campaign


def kill_then_finish(point: str, story: Path, out: Path, args: tuple[str, ...],
                     env: dict[str, str] | None = None) -> dict[str, Any]:
    killed = run(story, out, args, env, kill_at=point)
    assert killed.returncode == -9, (
        f"{point} was never reached (exit {killed.returncode}):\n{killed.stderr[-2000:]}")
    finished = run(story, out, args, env)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "internal error" not in finished.stdout + finished.stderr
    assert leftovers(out) == [], f"left behind after {point}"
    result = outcome(out)
    for name, scene in result["scenes"].items():
        assert scene["versions"] == scene["renders"] == 1, f"{name}: {scene['versions']} versions"
    return result


@pytest.mark.parametrize("point", points(LOCAL_POINTS))
def test_local_run_killed_at(point: str, stories: dict[str, Path], local_baseline: dict,
                             tmp_path: Path) -> None:
    result = kill_then_finish(point, stories["local"], tmp_path / "out", LOCAL_ARGS)
    diff = differences(result, local_baseline)
    assert not diff, "\n".join(diff)


@pytest.mark.parametrize("point", points(FAL_POINTS))
def test_fal_run_killed_at(point: str, stories: dict[str, Path], fal_baseline: dict,
                           fake_fal: FakeFalServer, tmp_path: Path) -> None:
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", **FAL_SCENARIO))
    env = fal_env(fake_fal, tmp_path / "fal_home")
    result = kill_then_finish(point, stories["fal"], tmp_path / "out", FAL_ARGS, env)
    diff = differences(result, fal_baseline)
    assert not diff, "\n".join(diff)
    repeated = fake_fal.fake.submits[DEFAULT_PRIMARY] - 1
    assert repeated == REPEATED_WITH_CAUSE.get(point, 0), fake_fal.fake.submits
    assert set(fake_fal.fake.submits) == {DEFAULT_PRIMARY}, "the fallback was never needed"
    entries = Ledger(tmp_path / "out" / ".state").entries(STORY_ID)
    assert [e.status for e in entries] == ["downloaded"]


def test_clip_made_again_after_a_kill_is_one_attempt(stories: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Killed while storing, the rerun finds the clip gone with the dead run's temp folder and
    makes it again: the metadata and the journal list that attempt once."""
    out = tmp_path / "out"
    kill_then_finish("store_staged", stories["local"], out, LOCAL_ARGS)
    journal = [json.loads(line) for line in
               (out / STORY_ID / "attempts.jsonl").read_text().splitlines()]
    for scene in ("1", "2"):
        meta = json.loads((out / STORY_ID / f"scene_{scene}" / "metadata.json").read_text())
        attempts = meta["metadata"]["attempts"]
        assert [(a["slot"], a["outcome"]) for a in attempts] == [("primary", "ok")], attempts
        assert attempts[0]["render_id"] == meta["metadata"]["render_id"]
        lines = [e for e in journal if e["scene"] == scene]
        assert [e["render_id"] for e in lines] == [meta["metadata"]["render_id"]], lines


@pytest.mark.parametrize("checkpoints", ["as_they_come", "slowed"])
def test_rejected_clip_killed_after_its_journal_line_is_made_again_as_it_was(
        checkpoints: str, tmp_path: Path) -> None:
    """Killed right after the gate's rejection was journalled (not checkpointed): the rerun
    makes the same clip again (the same request, for a paid provider), not a new generation,
    and the metadata lists what one uninterrupted run lists.

    ``slowed``: every checkpoint write takes 0.3 s longer, so the gate (quick on a broken clip)
    journals its rejection before the primary's checkpoint is on disk unless the run waits for
    each checkpoint: the rerun then asked for a new clip."""
    story = write_story(tmp_path / "story.json", STORY_ID, [
        {"scene_number": 1, "scene_content": "A slow pan across the hills.",
         "image_path": str(still(tmp_path / "a.jpg")), "layer1_analysis": "4 seconds."}])
    slowed = [str(ROOT / "tests" / "slow_checkpoints")] if checkpoints == "slowed" else []
    paths = os.pathsep.join([*slowed, str(ROOT / "src"), str(ROOT / "tests"),
                             os.environ.get("PYTHONPATH", "")])
    env = {"PYTHONPATH": paths}
    args = ("--primary", "py:providers_for_tests:broken_clip", "--fallback", "local:draft")
    out = tmp_path / "out"
    # journal lines: the primary's clip (1st), the gate's rejection of it (2nd)
    kill_then_finish("journal_appended:2", story, out, args, env)
    meta = json.loads((out / STORY_ID / "scene_1" / "metadata.json").read_text())["metadata"]
    attempts = [(a["slot"], a["outcome"]) for a in meta["attempts"]]
    assert attempts == [("primary", "ok"), ("primary", "quality_fail"), ("fallback", "ok")]
    assert meta["attempts"][0]["render_id"] == meta["attempts"][1]["render_id"]
    journal = [json.loads(line) for line in
               (out / STORY_ID / "attempts.jsonl").read_text().splitlines()]
    made = {e["render_id"] for e in journal if e["slot"] == "primary" and e["outcome"] == "ok"}
    assert made == {meta["attempts"][0]["render_id"]}, "one primary clip, made once"
