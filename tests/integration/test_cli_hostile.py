"""Hostile story files against the real CLI: exit code 2, one line naming the field, no
traceback, nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE_IMAGES, run_cli

pytestmark = pytest.mark.slow

GOOD: dict[str, Any] = {
    "story_id": "hostile",
    "scenes": [{"scene_number": 1, "scene_content": "A slow push-in on the portrait.",
                "image_path": str(EXAMPLE_IMAGES / "portrait.jpg")}],
    "narration": {"1": {"duration": 4.2, "text": "Hello."}},
}


def changed(edit: Any) -> bytes:
    raw = copy.deepcopy(GOOD)
    edit(raw)
    return json.dumps(raw).encode()


def scene_number(raw: dict, value: Any) -> None:
    raw["scenes"][0]["scene_number"] = value


def renamed(raw: dict) -> None:
    raw["scenes"][0]["scene_numbr"] = raw["scenes"][0].pop("scene_number")


HOSTILE = {
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
    "invalid_utf8": (json.dumps(GOOD).encode().replace(b"slow", b"sl\xffw"), "not valid UTF-8"),
    "utf16": (json.dumps(GOOD).encode("utf-16"), "encoded as UTF-16"),
    "nan": (json.dumps(GOOD).encode().replace(b"4.2", b"NaN"), "NaN"),
    "huge_narration": (changed(lambda r: r["narration"]["1"].update(duration=1.7e308)),
                       "narration['1'].duration"),
    "huge_scene_number": (changed(lambda r: scene_number(r, 10**30)),
                          "scenes[0].scene_number"),
    "newline_id": (changed(lambda r: r.update(story_id="hostile\n")), "story_id"),
    "nul_id": (changed(lambda r: r.update(story_id="hos\x00tile")), "story_id: contains a NUL"),
    "typo": (changed(renamed), "unknown key scenes[0].scene_numbr; did you mean scene_number?"),
    "narration_list": (changed(lambda r: r.update(narration=[])), "narration: must be an object"),
    "too_many": (changed(lambda r: r.update(scenes=[
        {**GOOD["scenes"][0], "scene_number": n} for n in range(1, 10_001)])),
        "scenes: 10000 scenes, more than the limit of 500"),
    "markup": (changed(lambda r: r.update(story_id="[red]x")), "story_id: '[red]x'"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_story_files_exit_2_with_one_line(tmp_path: Path, case: str) -> None:
    data, needle = HOSTILE[case]
    story = tmp_path / "story.json"
    story.write_bytes(data)
    out = tmp_path / "out"
    result = run_cli("run", str(story), "--out", str(out), timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists(), "nothing written for a refused story"


def test_oversize_file_and_scene_cap_option(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(json.dumps(GOOD).encode()[:-1] + b', "title": "' + b"x" * (9 << 20) + b'"}')
    result = run_cli("explain", str(big), timeout=120)
    assert result.returncode == 2 and "larger than 8388608 bytes" in result.stderr
    two = copy.deepcopy(GOOD)
    two["scenes"].append({**GOOD["scenes"][0], "scene_number": 2})
    story = tmp_path / "two.json"
    story.write_text(json.dumps(two))
    capped = run_cli("run", str(story), "--out", str(tmp_path / "out"), "--max-scenes", "1",
                     timeout=120)
    assert capped.returncode == 2, capped.stderr
    assert "scenes: 2 scenes, more than the limit of 1" in capped.stderr
    assert not (tmp_path / "out").exists()


def test_a_nul_in_an_image_path_fails_that_scene_only(tmp_path: Path) -> None:
    story = tmp_path / "story.json"
    story.write_bytes(changed(lambda r: r["scenes"][0].update(image_path="a\x00b.jpg")))
    result = run_cli("explain", str(story), timeout=120)
    assert result.returncode == 1, result.stderr
    assert "image_path: contains a NUL byte" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--budget", "nan"], "--budget: nan is not an amount"),
    (["--budget", "-1"], "--budget: -1.0 is not an amount"),
    (["--provider-timeout", "nan"], "--provider-timeout"),
    (["--primary", "fal:fal-ai/kling-video/v2.1/standard/image-to-video",
      "--fal-key-env", "1 BAD"], "fal_key_env: '1 BAD' is not an environment variable name"),
    (["--primary", "fal:fal-ai/kling-video/v2.1/standard/image-to-video",
      "--fal-key-env", "VIDEO_AGENT_TEST_NO_SUCH_KEY"],
     "no fal.ai key in the environment variable VIDEO_AGENT_TEST_NO_SUCH_KEY"),
])
def test_hostile_run_options_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    story = tmp_path / "story.json"
    story.write_text(json.dumps(GOOD))
    result = run_cli("run", str(story), "--out", str(tmp_path / "out"), *args, timeout=120)
    assert result.returncode == 2 and needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_assess_refuses_a_duration_that_is_no_number_of_seconds() -> None:
    result = run_cli("assess", str(EXAMPLE_IMAGES / "portrait.jpg"), "--duration", "nan",
                     timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--duration" in result.stderr and "above 0" in result.stderr
