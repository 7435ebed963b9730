"""Composition over the whole move: the renderer's push-in keeps the main face whole with its
headroom from the first frame to the last, on portrait, square, group and off-centre stills;
the gate measures the face's coverage on sampled frames and fails a move that cuts the head."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from defect_clips import push_frames, write_clip
from viewer_stills import sample

from video_agent.adapters.render import render_clip
from video_agent.models import MotionSpec
from video_agent.quality import QualitySettings
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "stories" / "images"


def _portrait() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(EXAMPLES / "portrait.jpg")), cv2.COLOR_BGR2RGB)


def _group() -> np.ndarray:
    return np.hstack([sample("astronaut"), cv2.resize(_portrait(), (512, 512))])


def _off_centre() -> np.ndarray:
    scene = cv2.resize(sample("coffee"), (1536, 864))
    scene[100:612, 980:1492] = sample("astronaut")
    return scene


def _tall() -> np.ndarray:
    """A 2:3 portrait: the face sits high, where a centre 16:9 crop cuts it."""
    canvas = cv2.resize(sample("coffee"), (512, 768))
    canvas[40:552] = sample("astronaut")
    return canvas


STILLS = {"portrait": _portrait, "square_astronaut": lambda: sample("astronaut"),
          "group": _group, "off_centre": _off_centre, "tall_portrait": _tall}


def judge(clip: Path, image: np.ndarray, settings: QualitySettings = S
          ) -> tuple[dict[str, float], list[str]]:
    values, checks = measure_checks(decode_for_analysis(clip),
                                    cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), settings,
                                    source_rgb=image)
    return values, [c.reason for c in checks if c.status in ("failed", "flagged")]


@pytest.mark.parametrize("name", list(STILLS))
def test_the_renderers_push_in_keeps_the_head_whole(tmp_path: Path, name: str) -> None:
    image = STILLS[name]()
    still = tmp_path / f"{name}.png"
    cv2.imwrite(str(still), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    clip = tmp_path / f"{name}.mp4"
    render_clip(still, clip, MotionSpec(type="push_in", speed="slow", duration=4.0),
                preset="draft")
    values, reasons = judge(clip, image)
    assert values["faces_in_source"] >= 1
    assert values["main_face_coverage"] >= S.min_face_coverage, values
    assert not [r for r in reasons if r.startswith("composition: ")], reasons


@pytest.mark.parametrize("name", ["portrait", "square_astronaut", "tall_portrait"])
def test_a_centre_crop_push_in_that_cuts_the_head_is_flagged_or_failed(tmp_path: Path,
                                                                       name: str) -> None:
    """The head is cut on the first frame and the face is not small: it fails by default."""
    image = STILLS[name]()
    clip = write_clip(tmp_path / "centre.mp4", push_frames(image, 96, end_zoom=1.5))
    frames = decode_for_analysis(clip)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    values, checks = measure_checks(frames, gray, S, source_rgb=image)
    found = [c for c in checks if c.property == "composition"]
    assert values["main_face_coverage"] < S.min_face_coverage, values
    assert [c.status for c in found] == ["failed"], found
    assert found[0].reason.startswith("composition: the main face"), found
    assert "on the first frame at 0.0 s" in found[0].reason, found
    strict = QualitySettings(fail_on_composition=True)
    _, checks = measure_checks(frames, gray, strict, source_rgb=image)
    assert [c.status for c in checks if c.property == "composition"] == ["failed"]


def test_a_still_without_faces_has_no_composition_verdict(tmp_path: Path) -> None:
    image = sample("coffee")
    values, _ = judge(write_clip(tmp_path / "c.mp4", push_frames(image, 48)), image)
    assert values["faces_in_source"] == 0 and "main_face_coverage" not in values
