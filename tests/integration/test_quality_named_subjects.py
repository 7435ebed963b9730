"""Composition of named subjects (not faces): the gate finds the plan's named subject on the
still as the renderer does, fails a clip whose end frame cuts it or that never shows it, passes
one that keeps it whole (an off-centre and a small subject), and a scene whose subject is only a
thirds guess, or that names no subject, is judged exactly as before."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from defect_clips import camera_frame, ease, write_clip

from subject_stills import SIZE, pixels, subject_still
from video_agent.adapters.render import find_focus_points, render_clip
from video_agent.models import MotionSpec, QualityCheck, SceneSpec, VideoParams
from video_agent.quality import QualitySettings
from video_agent.quality.assess import assess_clip
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()
ZOOM = 1.6
WINDOW = SIZE[0] / ZOOM  # the hand-made pans' window width, pixels of the still
OFF_CENTRE = (1150, 430, 120)
SMALL = (1250, 300, 40)


def _pan(image: np.ndarray, x0: float, x1: float, cy: float, n: int = 96
         ) -> Iterator[np.ndarray]:
    """A pan at ``ZOOM`` from ``x0`` to ``x1`` (window centres, kept inside the still)."""
    half_w, half_h = WINDOW / 2, WINDOW * 9 / 16 / 2
    x0, x1 = (min(max(x, half_w), SIZE[0] - half_w) for x in (x0, x1))
    cy = min(max(cy, half_h), SIZE[1] - half_h)
    for i in range(n):
        yield camera_frame(image, ZOOM, x0 + (x1 - x0) * ease(i / (n - 1)), cy)


def _judge(clip: Path, image: np.ndarray, names: Sequence[str]
           ) -> tuple[dict[str, float], list[QualityCheck]]:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return measure_checks(decode_for_analysis(clip), gray, S, source_rgb=image,
                          focus_points=names)


def _named(checks: list[QualityCheck]) -> list[QualityCheck]:
    return [c for c in checks if c.name == "named_subject_coverage"]


def _box(image: np.ndarray, name: str) -> tuple[float, float, float, float]:
    [point] = find_focus_points(image, [name])
    assert point.subject is not None
    return pixels(point.subject)


@pytest.mark.parametrize(("where", "name"), [(OFF_CENTRE, "lighthouse"), (SMALL, "rocket")])
def test_an_end_frame_that_cuts_the_named_subject_is_flagged(tmp_path: Path,
                                                        where: tuple[int, int, int],
                                                        name: str) -> None:
    image = subject_still(*where)
    x0, y0, x1, y1 = _box(image, name)
    cy = (y0 + y1) / 2
    # the pan ends with the frame's right edge through the middle of the subject's box
    cut = write_clip(tmp_path / "cut.mp4", _pan(image, 500, (x0 + x1) / 2 - WINDOW / 2, cy))
    values, checks = _judge(cut, image, [name])
    [found] = _named(checks)
    assert found.status == "flagged", found
    assert found.reason.startswith(f"composition: '{name}' cut by the frame edge at the end"), \
        found.reason
    assert values["named_subject_coverage"] < S.min_face_coverage
    assert values["named_subject_coverage_at_s"] > 3.5
    # the same pan ending on the subject keeps it whole and passes
    kept = write_clip(tmp_path / "kept.mp4", _pan(image, 500, (x0 + x1) / 2, cy))
    values, checks = _judge(kept, image, [name])
    assert [c.status for c in _named(checks)] == ["passed"]
    assert values["named_subject_coverage"] >= S.min_face_coverage
    assert not [c for c in checks if c.property == "composition" and c.status != "passed"]


def test_a_move_that_never_shows_the_named_subject_fails(tmp_path: Path) -> None:
    image = subject_still(*OFF_CENTRE)
    _, _, _, y1 = _box(image, "lighthouse")
    # the window's top stays below the subject's box over the whole pan
    clip = write_clip(tmp_path / "away.mp4", _pan(image, 500, 1000, y1 + 20 + WINDOW * 9 / 32))
    _, checks = _judge(clip, image, ["lighthouse"])
    [found] = _named(checks)
    assert found.status == "failed"
    assert found.reason.startswith("composition: 'lighthouse' lost for most of the move"), \
        found.reason


@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_the_renderers_pan_keeps_the_named_subject_whole(tmp_path: Path, speed: str) -> None:
    """A fast pan planned from the focus point alone starts with the subject cut; the
    renderer settles that end, and the gate agrees."""
    image = subject_still(*OFF_CENTRE)
    clip = tmp_path / "pan.mp4"
    report = render_clip(image, clip, MotionSpec(
        type="pan", direction="left_to_right", speed=speed, duration=4.0,  # type: ignore[arg-type]
        focus_points=["lighthouse"]), preset="draft")
    assert report.focus[0].box is not None
    values, checks = _judge(clip, image, ["lighthouse"])
    assert values["named_subjects_in_source"] == 1
    assert [c.status for c in _named(checks)] == ["passed"], _named(checks)


def test_a_thirds_guess_or_no_subject_word_is_judged_as_before(tmp_path: Path) -> None:
    """A subject saliency cannot find (a thirds guess) has no box to judge, and face or
    horizon words add nothing: the verdicts and metrics are those of a scene naming nothing."""
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.normal(0, 60, (SIZE[1], SIZE[0], 3)).astype(np.float32),
                             (0, 0), 3)
    image = np.clip(128 + noise, 0, 255).astype(np.uint8)
    assert find_focus_points(image, ["lighthouse"])[0].method == "thirds"
    clip = write_clip(tmp_path / "noise.mp4", _pan(image, 500, 1000, 432))
    plain_values, plain = _judge(clip, image, [])
    values, checks = _judge(clip, image, ["lighthouse"])
    assert values.pop("named_subjects_in_source") == 0
    assert (values, checks) == (plain_values, plain)
    assert _judge(clip, image, ["face", "horizon"]) == (plain_values, plain)


def test_the_gate_reads_the_named_subject_from_the_plan(tmp_path: Path) -> None:
    image = subject_still(*OFF_CENTRE)
    still = tmp_path / "still.png"
    cv2.imwrite(str(still), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    x0, y0, x1, y1 = _box(image, "lighthouse")
    cut = write_clip(tmp_path / "cut.mp4",
                     _pan(image, 500, (x0 + x1) / 2 - WINDOW / 2, (y0 + y1) / 2))
    params = VideoParams(scene=SceneSpec(content="a lighthouse", number=1, image_url=str(still)),
                         motion=MotionSpec(type="pan", duration=4.0,
                                           focus_points=["lighthouse"]))
    report = assess_clip(cut, still, params, work_dir=tmp_path / "work",
                         settings=QualitySettings(fail_on_composition=True))
    assert report.verdict == "fail"
    assert any("'lighthouse' cut by the frame edge" in r for r in report.reasons), report.reasons
    kept = assess_clip(cut, still, params, work_dir=tmp_path / "work")
    [flag] = [c for c in kept.checks if c.name == "named_subject_coverage"]
    assert (kept.verdict, flag.status) == ("pass", "flagged"), kept.reasons
