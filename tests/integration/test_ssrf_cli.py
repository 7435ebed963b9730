"""``video-agent run`` (a real child process) refuses private URLs and escaping paths, and the
opt-ins (--allow-private-urls, VIDEO_AGENT_ALLOW_PRIVATE_URLS=1, --images-root) let them through.

A TCP listener on 127.0.0.1 counts connections: the refusals must leave it untouched.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from loopback_fixtures import Counting, counting_listener, own_name
from video_agent.status import story_status

ROOT = Path(__file__).resolve().parents[2]


NAME, ADDRESS = own_name()


@pytest.fixture
def listener() -> Iterator[Counting]:
    with counting_listener(ADDRESS) as server:
        yield server


def story(tmp_path: Path, port: int) -> Path:
    """Scene 1 fetches from this machine's own host name, scene 2 from 2130706433 (127.0.0.1
    as a number), scene 3 names a still outside the story folder (a real image, too small to
    use, so reading it shows as its own error)."""
    Image.new("RGB", (64, 64), (0, 0, 0)).save(tmp_path / "outside.png")
    folder = tmp_path / "stories"
    folder.mkdir()
    path = folder / "story.json"
    text = "A slow push-in on the harbour."
    path.write_text(json.dumps({"story_id": "guarded", "scenes": [
        {"scene_number": 1, "scene_content": text, "image_url": f"http://{NAME}:{port}/a.jpg"},
        {"scene_number": 2, "scene_content": text,
         "image_url": f"http://2130706433:{port}/b.jpg"},
        {"scene_number": 3, "scene_content": text, "image_path": "../outside.png"}]}))
    return path


def run(story_file: Path, out: Path, *args: str, env: dict[str, str] | None = None
        ) -> dict[str, str]:
    """Runs the CLI; returns each scene's error message from the checkpoint."""
    child = subprocess.run(
        [sys.executable, "-m", "video_agent", "run", str(story_file), "--out", str(out),
         "--primary", "local:draft", "--fallback", "", "--force", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})})
    assert child.returncode == 1, child.stderr + child.stdout
    info = asyncio.run(story_status(out, "guarded"))
    return {key: scene.get("detail") or "" for key, scene in info["scenes"].items()}


def test_run_refuses_private_urls_and_escaping_paths(tmp_path: Path, listener: Counting) -> None:
    out = tmp_path / "out"
    errors = run(story(tmp_path, listener.port), out)
    assert f"image_url: host {NAME} resolves to {ADDRESS}, which is a " in errors["1"]
    assert "(private addresses are refused; set allow_private_urls" in errors["1"]
    assert "image_url: host 2130706433 is a loopback address (private addresses are refused; " \
           "set allow_private_urls to fetch them)" in errors["2"]
    assert "image_path: " in errors["3"] and f"resolves to {tmp_path / 'outside.png'}, outside " \
        f"the allowed image roots ({tmp_path / 'stories'})" in errors["3"]
    assert listener.connections == 0
    assert not list((out / ".state" / "images").glob("*")), "nothing copied"


def test_run_opt_ins_let_them_through(tmp_path: Path, listener: Counting) -> None:
    story_file = story(tmp_path, listener.port)
    errors = run(story_file, tmp_path / "out", "--allow-private-urls",
                 "--images-root", str(tmp_path))
    assert "unreachable" in errors["1"], "fetched (the listener hangs up)"
    assert "64x64 is too small" in errors["3"], "read from the extra images root"
    assert listener.connections >= 1
    seen = listener.connections

    errors = run(story_file, tmp_path / "out2", env={"VIDEO_AGENT_ALLOW_PRIVATE_URLS": "1"})
    assert "unreachable" in errors["1"] and "outside the allowed image roots" in errors["3"]
    assert listener.connections > seen


def test_a_malformed_opt_in_is_an_error(tmp_path: Path, listener: Counting) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "video_agent", "run", str(story(tmp_path, 9)),
         "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "VIDEO_AGENT_ALLOW_PRIVATE_URLS": "maybe"})
    assert child.returncode == 2 and "VIDEO_AGENT_ALLOW_PRIVATE_URLS" in child.stderr


def test_explain_checks_each_still_as_a_run_would_without_fetching(
        tmp_path: Path, listener: Counting) -> None:
    from typer.testing import CliRunner

    from video_agent.cli.app import app

    story_file = story(tmp_path, listener.port)
    refused = CliRunner().invoke(app, ["explain", str(story_file), "--json"])
    assert refused.exit_code == 1
    errors = {r["scene"]: r.get("error", "") for r in json.loads(refused.stdout)}
    assert errors["1"] == "", "a host name is resolved and checked when the still is fetched"
    assert "host 2130706433 is a loopback address" in errors["2"]
    assert "outside the allowed image roots" in errors["3"]
    allowed = CliRunner().invoke(app, ["explain", str(story_file), "--json",
                                       "--allow-private-urls", "--images-root", str(tmp_path)])
    assert allowed.exit_code == 0, allowed.stdout
    assert [r["scene"] for r in json.loads(allowed.stdout)] == ["1", "2", "3"]
    assert listener.connections == 0, "explain reads no still"
