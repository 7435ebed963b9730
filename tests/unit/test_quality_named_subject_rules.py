"""The gate's judgement of named subjects over sampled windows: cut at an end, lost over the
move, or fine; found as the renderer finds them, without loading the renderer on import."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from subject_stills import subject_still
from video_agent.adapters.render.focus import find_focus_points
from video_agent.quality import QualitySettings
from video_agent.quality.composition import Face, Named, find_named, named_checks
from video_agent.quality.windows import Box

S = QualitySettings()
TOWER = Named("lighthouse", (0.6, 0.2, 0.8, 0.4))


@dataclass
class _Match:
    window: Box


class _Track:
    """Sampled windows, as ``WindowTrack.samples`` gives them."""

    def __init__(self, windows: list[Box]) -> None:
        last = 96
        idx = np.linspace(0, last, len(windows)).round().astype(int)
        self._found = {int(i): _Match(w) for i, w in zip(idx, windows, strict=True)}

    def samples(self) -> dict[int, _Match]:
        return self._found


TIMES = np.arange(97) / 24.0
LEFT, RIGHT = (0.0, 0.0, 0.55, 0.55), (0.45, 0.1, 1.0, 0.65)  # shows the tower whole
EDGE = (0.2, 0.1, 0.7, 0.6)  # cuts the tower in half


def _judge(windows: list[Box], faces: list[Face] | None = None,
           settings: QualitySettings = S) -> tuple[dict[str, float], list[str], list[str]]:
    out: dict[str, float] = {}
    checks = named_checks(_Track(windows), TIMES, [TOWER], faces or [], settings,  # type: ignore[arg-type]
                          out)
    return out, [c.status for c in checks], [c.reason for c in checks]


def test_a_subject_cut_at_the_end_is_flagged_with_its_name() -> None:
    out, status, reasons = _judge([LEFT, LEFT, RIGHT, RIGHT, EDGE])
    assert status == ["flagged"]
    assert reasons[0].startswith("composition: 'lighthouse' cut by the frame edge at the end")
    assert reasons[0].endswith("flagged, not failed)")
    assert out["named_subject_coverage"] == 0.5 and out["named_subject_coverage_at_s"] == 4.0


def test_a_subject_cut_at_the_end_fails_when_composition_verdicts_fail() -> None:
    strict = QualitySettings(fail_on_composition=True)
    _, status, reasons = _judge([LEFT, LEFT, RIGHT, RIGHT, EDGE], settings=strict)
    assert status == ["failed"] and "flagged" not in reasons[0]


def test_a_subject_whole_at_both_ends_passes() -> None:
    out, status, _ = _judge([RIGHT, LEFT, LEFT, LEFT, RIGHT])
    assert status == ["passed"] and out["named_subject_coverage"] == 1.0


def test_a_subject_out_at_the_ends_but_shown_mid_move_passes() -> None:
    _, status, _ = _judge([LEFT, RIGHT, RIGHT, RIGHT, LEFT])
    assert status == ["passed"]


def test_a_subject_the_move_never_shows_whole_is_lost() -> None:
    _, status, reasons = _judge([LEFT, LEFT, RIGHT, LEFT, LEFT])
    assert status == ["failed"]
    assert reasons[0].startswith("composition: 'lighthouse' lost for most of the move")
    assert "whole in only 1 of 5 sampled frames" in reasons[0]


def test_a_face_whole_at_an_end_carries_the_move() -> None:
    face = Face(box=(0.1, 0.2, 0.2, 0.35), small=False)
    _, status, _ = _judge([LEFT, LEFT, RIGHT, LEFT, LEFT], [face])
    assert status == ["passed"]


def test_a_zero_coverage_threshold_turns_the_check_off() -> None:
    _, status, _ = _judge([EDGE, LEFT, LEFT, LEFT, EDGE], settings=QualitySettings(
        min_face_coverage=0.0))
    assert status == ["passed"]


def test_the_gate_finds_the_boxes_the_renderer_keeps_whole() -> None:
    gray = cv2.cvtColor(subject_still(1150, 430, 120), cv2.COLOR_RGB2GRAY)
    for names in (["lighthouse"], ["face", "menu_book"], ["menu_book", "face", "cup"],
                  ["sea", "rocket", "woman"]):
        found = {n.name: n.box for n in find_named(gray, names)}
        expected = {p.name: p.subject for p in find_focus_points(gray, names) if p.subject}
        assert found == expected and found, names
    assert find_named(gray, ["face", "horizon"]) == []


def test_importing_the_gate_does_not_load_the_renderer() -> None:
    code = ("import json, sys, video_agent.quality, video_agent.quality.checks, "
            "video_agent.quality.composition; "
            "print(json.dumps(sorted(m for m in sys.modules if 'adapters' in m)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    assert "video_agent.adapters.render.focus" not in loaded, loaded


def test_a_subject_leaving_the_frame_at_the_end_is_not_cut() -> None:
    """A fifth of the box at the edge of the last frame: the move leaves the subject."""
    sliver = (0.09, 0.0, 0.64, 0.55)
    out, status, _ = _judge([RIGHT, RIGHT, RIGHT, EDGE, sliver])
    assert status == ["passed"] and out["named_subject_coverage"] == 1.0
