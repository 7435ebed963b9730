"""The gate judges like a viewer on stills no test here drew (scikit-image's samples): low-key,
night, high-key and low-contrast clips that follow their still pass; real black and blank
insertions and colour defects (channel swaps, range and matrix mix-ups, casts) are caught with a
reason that names the property; every provider shape's good clip passes the colour check."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from defect_clips import pan_frames, push_frames, write_clip
from viewer_stills import COLOUR_DEFECTS, SAMPLES, TONES, black_insert, sample

from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import QualitySettings, assess_clip
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()
N = 48  # 2 s: enough for every frame check, short enough for many stills


def judged(path: Path, source: np.ndarray) -> tuple[dict[str, float], list[str]]:
    values, checks = measure_checks(decode_for_analysis(path), cv2.cvtColor(
        source, cv2.COLOR_RGB2GRAY), S, source_rgb=source)
    return values, [c.reason for c in checks if c.status == "failed"]


def still(name: str, tone: str) -> np.ndarray:
    return TONES[tone](sample(name))


@pytest.mark.parametrize("tone", list(TONES))
@pytest.mark.parametrize("name", SAMPLES)
def test_a_good_clip_over_any_still_passes(tmp_path: Path, name: str, tone: str) -> None:
    image = still(name, tone)
    # A good clip over the astronaut frames her head (a centre crop cuts it: a composition fail)
    height = 0.3 if name == "astronaut" else 0.5
    moves = (pan_frames(image, N, height=height) if hash(name + tone) % 2
             else push_frames(image, N, height=height))
    values, reasons = judged(write_clip(tmp_path / "c.mp4", moves), image)
    assert reasons == [], (reasons, values)


def test_a_push_in_over_a_night_sky_passes_the_whole_gate(tmp_path: Path) -> None:
    image = still("hubble_deep_field", "night")
    path = tmp_path / "night.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    clip = write_clip(tmp_path / "night.mp4", push_frames(image, 144))
    params = VideoParams(scene=SceneSpec(content="night", number=1, image_url=str(path)),
                         motion=MotionSpec(type="push_in", duration=6.0))
    report = assess_clip(clip, path, params, work_dir=tmp_path / "w")
    assert report.verdict == "pass", report.reasons
    assert report.metrics["black_frames"] == 0
    assert float(np.mean(image)) < S.black_luma, "the still itself is darker than 'black'"


@pytest.mark.parametrize(("name", "tone", "level", "kind"), [
    ("hubble_deep_field", "night", 0, "black"),
    ("astronaut", "night", 0, "black"),
    ("coffee", "as_shot", 0, "black"),
    ("chelsea", "high_key", 0, "black"),
    ("camera", "low_contrast", 0, "black"),
    ("coffee", "low_contrast", 118, "blank"),
    ("astronaut", "high_key", 230, "blank"),
    ("moon", "as_shot", 110, "blank"),
])
def test_real_black_and_blank_insertions_are_caught(tmp_path: Path, name: str, tone: str,
                                                     level: int, kind: str) -> None:
    image = still(name, tone)
    clip = write_clip(tmp_path / "c.mp4", black_insert(pan_frames(image, N), 20, 3, level))
    values, reasons = judged(clip, image)
    assert values[f"{kind}_frames"] >= 3, values
    assert any(r.startswith(f"black: 3 {kind} frames at 0.8-0.9 s") for r in reasons), reasons


TOO_SUBTLE = {("hubble_deep_field", "bt709_as_bt601"), ("rocket", "bt709_as_bt601"),
              ("hubble_deep_field", "limited_as_full")}
"""Below the colour thresholds: matrix mix-ups on nearly neutral stills (CIEDE2000 1.2-1.4, cast
under 1) and the night sky's range stretch (CIEDE2000 2.8, which its black-frame and fidelity
checks catch instead). The thresholds (CIEDE2000 3.0, cast 2.0) sit above every good clip,
including clips encoded twice by a repair (CIEDE2000 up to 2.2)."""
BORDERLINE = {("chelsea", "bt709_as_bt601"), ("hubble_deep_field", "red_blue_swap")}
"""Caught by a thin margin (cast 2.07 > 2.0; channel order -0.023 < -0.02): only their metrics
are held to a bound, so encoder noise cannot make the test flaky."""


@pytest.mark.parametrize("defect", list(COLOUR_DEFECTS))
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "hubble_deep_field",
                                  "rocket"])
def test_colour_defects_are_caught(tmp_path: Path, name: str, defect: str) -> None:
    image = sample(name)
    clip = write_clip(tmp_path / "c.mp4", pan_frames(COLOUR_DEFECTS[defect](image), N))
    values, reasons = judged(clip, image)
    colour = [r for r in reasons if r.startswith("colour: ")]
    if (name, defect) in TOO_SUBTLE:
        assert colour == [] and values["colour_delta_e"] < S.max_colour_delta_e
        return
    if (name, defect) in BORDERLINE:
        assert values["colour_cast"] > 1.5 or values["colour_channel_order"] < 0, values
        return
    assert colour, (values, reasons)
    if defect == "red_blue_swap" and name != "hubble_deep_field":
        assert any("swapped channels" in r for r in colour), colour


@pytest.mark.parametrize("name", ["astronaut", "hubble_deep_field"])
def test_every_provider_shape_passes_the_colour_check(tmp_path: Path, name: str) -> None:
    """The fake fal server's clip for every registered endpoint shape (repaired where the shape
    is off-spec, and the repaired file judged again) and the embedded renderer's clip."""
    from video_agent.adapters.providers.fal.endpoints import all_endpoints
    from video_agent.adapters.render import render_clip as render_local
    from video_agent_dev.fakefal.video import render_clip as render_fake

    image = sample(name)
    path = tmp_path / f"{name}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    params = VideoParams(scene=SceneSpec(content=name, number=1, image_url=str(path)),
                         motion=MotionSpec(type="pan", duration=4.0))
    shapes = {(e.output.width, e.output.height, e.output.fps)
              for e in all_endpoints().values()}
    clips = []
    for width, height, fps in sorted(shapes):
        clip = tmp_path / f"fal-{width}x{height}-{fps}.mp4"
        clip.write_bytes(render_fake(path.read_bytes(), width=width, height=height, fps=fps,
                                     seconds=4.0))
        clips.append(clip)
    for preset in ("draft", "standard"):
        clip = tmp_path / f"local-{preset}.mp4"
        render_local(path, clip, MotionSpec(type="push_in", speed="slow", duration=4.0),
                     preset=preset)
        clips.append(clip)
    for clip in clips:
        report = assess_clip(clip, path, params, work_dir=tmp_path / "w")
        colour = [c for c in report.checks if c.property == "colour"]
        assert colour and all(c.status == "passed" for c in colour), (clip.name, report.reasons)
        assert report.verdict != "fail", (clip.name, report.reasons)
