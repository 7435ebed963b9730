"""Fault campaign: a long story through ``video-agent run`` against the fake fal server while about
a fifth of the requests fail in every way the fake knows (``FAULT_KINDS``).

Every scene must end with a stored clip that passes the gate or a clear recorded error; none may
be lost or stored twice, nothing may be left half-written, and every paid request must be counted
and justified. ``VIDEO_AGENT_CAMPAIGN_SCENES`` sets the size; without it the campaign runs 200
scenes when the ``campaign`` marker is selected (``pytest -m campaign``) and 20 otherwise.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import av
import pytest

import fakefal_fixtures
from conftest import run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_FALLBACK, DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.ledger import LEDGER_FILE, LIVE, Ledger
from video_agent_dev.fakefal import FakeFalServer
from video_agent_dev.fakefal.scenario import FAULT_KINDS

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

pytestmark = [pytest.mark.slow, pytest.mark.campaign]

STORY_ID = "campaign"
FAULT_RATE = 0.2
PROVIDER_TIMEOUT_S = 10
STILLS = 6
CLIPS: dict[str, Any] = {"latency_s": 0.3, "width": 1024, "height": 576, "fps": 24,
                         "audio": False, "slow_bytes_per_s": 1024 * 1024}
"""Clips made to the output spec, so the gate repairs only what a fault damaged."""
ALLOWED_SUBMITS = {"primary": 1, "fallback": 1}
"""Paid submissions per scene and slot in one run: fal-client's own retries never reach a paid
request (the fake creates none for a 429, a 5xx or a hang on submit)."""


def campaign_size(config: pytest.Config) -> int:
    if raw := os.environ.get("VIDEO_AGENT_CAMPAIGN_SCENES"):
        return int(raw)
    return 200 if "campaign" in (config.getoption("markexpr") or "") else 20


def campaign_story(tmp_path: Path, scenes: int) -> Path:
    (tmp_path / "stills").mkdir()
    stills = [still(tmp_path / "stills" / f"still_{i}.jpg", seed=i) for i in range(STILLS)]
    places = ("harbour", "market", "forest path", "rooftop", "train platform", "library")
    return write_story(tmp_path / "story.json", STORY_ID, [
        {"scene_number": n,
         "scene_content": f"Scene {n}: a quiet morning at the {places[n % len(places)]}, "
                          f"light moving slowly across it (take {n}).",
         "image_path": str(stills[n % STILLS]),
         "layer1_analysis": "Slow push-in, 5 seconds."}
        for n in range(1, scenes + 1)])


def decode(path: Path) -> tuple[int, int, float, int, bool]:
    """Width, height, frame rate, decoded frames and whether there is audio."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return (stream.codec_context.width, stream.codec_context.height,
                float(stream.average_rate or 0), frames, bool(container.streams.audio))


def ledger_charges(out: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(out / ".state" / LEDGER_FILE)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT c.request_id, c.cost, r.scene, r.slot, r.endpoint "
                           "FROM charges c JOIN requests r ON r.key = c.key").fetchall()
    finally:
        con.close()


def run_story(server: FakeFalServer, tmp_path: Path, story: Path, out: Path,
              scenes: int) -> subprocess.CompletedProcess[str]:
    env = {**server.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home")}
    return run_cli("run", str(story), "--out", str(out), "--primary", f"fal:{DEFAULT_PRIMARY}",
                   "--fallback", f"fal:{DEFAULT_FALLBACK}", "--max-concurrency", "4",
                   "--provider-timeout", str(PROVIDER_TIMEOUT_S), env=env,
                   timeout=60 + scenes * 30)


def test_fault_campaign(fake_fal: FakeFalServer, tmp_path: Path,
                        request: pytest.FixtureRequest) -> None:
    scenes = campaign_size(request.config)
    fake_fal.call(lambda: fake_fal.fake.set_scenario(
        "*", fault_rate=FAULT_RATE, fault_seed=7, fault_persist=0.5, **CLIPS))
    story = campaign_story(tmp_path, scenes)
    out = tmp_path / "out"
    started = time.perf_counter()
    result = run_story(fake_fal, tmp_path, story, out, scenes)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    log = result.stdout + result.stderr
    assert result.returncode in (0, 1), log
    assert "Traceback" not in log, log

    keys = [str(n) for n in range(1, scenes + 1)]
    story_dir = out / STORY_ID
    summary = json.loads((story_dir / "story.json").read_text())["scenes"]
    attempts = [json.loads(line) for line in
                (story_dir / "attempts.jsonl").read_text().splitlines()]
    by_scene: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in attempts:
        by_scene[item["scene"]].append(item)

    # None lost: every scene is either stored or failed with a clear error.
    assert sorted(summary, key=int) == keys
    done = [k for k in keys if summary[k]["status"] == "done"]
    failed = [k for k in keys if summary[k]["status"] == "failed"]
    assert sorted(done + failed, key=int) == keys, summary
    assert (result.returncode == 1) == bool(failed)
    for key in failed:
        error = summary[key]
        assert error["stage"] in ("generate_primary", "generate_fallback", "assess_quality"), error
        assert error["message"].strip() and error["attempts"], error
        assert not (story_dir / f"scene_{key}" / "video.mp4").exists()
        assert f"scene {key}" not in log or "failed" in log

    # Stored clips pass the gate, decoded: size, rate, length, no audio; one version each.
    for key in done:
        scene_dir = story_dir / f"scene_{key}"
        meta = json.loads((scene_dir / "metadata.json").read_text())["metadata"]
        assert meta["quality"]["verdict"] in ("pass", "repaired"), meta["quality"]
        width, height, fps, frames, audio = decode(scene_dir / "video.mp4")
        assert (width, height, fps, audio) == (1024, 576, 24.0, False), (key, meta["quality"])
        assert 4.0 <= frames / 24 <= 10.0
        assert abs(frames / 24 - meta["duration"]) < 0.05, (frames, meta["duration"])
        assert [p.name for p in (scene_dir / "versions").iterdir()] == ["v0001"], key
        assert meta["request_id"] and meta["provider"] == "fal"
        ok = [a for a in by_scene[key] if a["outcome"] == "ok"
              and a["request_id"] == meta["request_id"]]
        assert ok, f"scene {key}: the stored clip's request is not in attempts.jsonl"

    # Nothing half-written: no partial files, no leftover work folders, valid metadata.
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".part")
                 or p.name.startswith(".tmp")]
    assert not leftovers, leftovers
    temp = out / "temp"
    assert not temp.exists() or not any(temp.iterdir()), list(temp.iterdir())
    for meta_file in story_dir.rglob("metadata.json"):
        json.loads(meta_file.read_text())

    # Paid requests counted: every request the fake created is charged in the ledger, once.
    snapshot = fake_fal.call(fake_fal.fake.snapshot)
    created = set(snapshot["requests"])
    charges = ledger_charges(out)
    charged = [row["request_id"] for row in charges if row["request_id"]]
    assert sorted(charged) == sorted(created), "a paid request is missing from the ledger"
    assert sum(snapshot["submits"].values()) == len(created)

    # None repeated without cause: at most one paid submit per scene and slot, and a fallback
    # submit only after a primary failure recorded in attempts.jsonl.
    per_slot = Counter((row["scene"], row["slot"]) for row in charges if row["request_id"])
    for (key, slot), count in per_slot.items():
        assert count <= ALLOWED_SUBMITS[slot], (key, slot, count)
        if slot == "fallback":
            causes = [a for a in by_scene[key] if a["slot"] == "primary"
                      and a["outcome"] in ("error", "quality_fail") and a["error"]]
            assert causes, f"scene {key}: fallback paid with no recorded primary failure"
    assert len(created) <= scenes * sum(ALLOWED_SUBMITS.values())

    drawn = Counter(snapshot["faults"])
    submissions = snapshot["counts"].get("submit_attempts", 0)
    stages = {kind.split("_", 1)[0] for kind in drawn}
    share = sum(drawn.values()) / max(1, submissions)
    report = {"scenes": scenes, "stored": len(done), "failed": len(failed),
              "wall_s": round(wall, 1), "cli_peak_rss_mb": round(peak_mb),
              "submissions": submissions, "paid_requests": len(created),
              "faults_drawn": sum(drawn.values()), "fault_share": round(share, 3),
              "by_kind": dict(sorted(drawn.items())),
              "errors": dict(Counter(summary[k]["stage"] for k in failed))}
    print("\ncampaign " + json.dumps(report))
    assert 0.1 <= share <= 0.3 or scenes < 50, report
    if scenes >= 100:
        assert stages == {kind.split("_", 1)[0] for kind in FAULT_KINDS}, drawn

    # A rerun once fal answers well again: stored scenes stay as they are and cost nothing;
    # failed ones are retried, resuming a request fal may still deliver instead of paying anew
    # (a clip the gate rejected is asked for again: that rejection is recorded).
    rejected = {(a["scene"], a["slot"]) for a in attempts if a["outcome"] == "quality_fail"}
    resumable = {(e.scene, e.slot) for e in Ledger(out / ".state").entries()
                 if e.status in LIVE} - rejected
    fake_fal.call(fake_fal.fake.heal)
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", **CLIPS))
    again = run_story(fake_fal, tmp_path, story, out, scenes)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json.loads((story_dir / "story.json").read_text())["scenes"]
    assert all(summary[k]["status"] == "done" for k in keys), summary
    new = set(fake_fal.call(fake_fal.fake.snapshot)["requests"]) - created
    new_rows = [row for row in ledger_charges(out) if row["request_id"] in new]
    assert len(new_rows) == len(new), "a paid request of the rerun is missing from the ledger"
    for row in new_rows:
        assert row["scene"] in failed, f"stored scene {row['scene']} was paid for again"
        assert (row["scene"], row["slot"]) not in resumable, "a resumable request was repaid"
    for key in keys:
        assert [p.name for p in (story_dir / f"scene_{key}" / "versions").iterdir()] == ["v0001"]
