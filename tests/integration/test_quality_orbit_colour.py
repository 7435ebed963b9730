"""The colour check on moves that turn the picture: a good fast orbit of the embedded renderer
passes (its first frame is turned by about two degrees; the still's window is aligned on it
before colours are compared), and the colour defects a pipeline brings in are caught on orbits
and on every provider shape of the fake fal server."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from face_stills import FACE_STILLS
from viewer_stills import COLOUR_DEFECTS, sample

from video_agent.adapters.render import render_clip as render_local
from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import QualitySettings, assess_clip
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()


def _save(tmp_path: Path, name: str, image: np.ndarray) -> Path:
    path = tmp_path / f"{name}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def _orbit(tmp_path: Path, still: Path, way: str, seconds: float) -> Path:
    clip = tmp_path / f"orbit-{still.stem}-{way}.mp4"
    render_local(still, clip, MotionSpec(type="orbit", speed="fast", direction=way,
                                         duration=seconds))
    return clip


def _colour(clip: Path, image: np.ndarray) -> tuple[dict[str, float], list[str]]:
    values, checks = measure_checks(decode_for_analysis(clip),
                                    cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), S,
                                    source_rgb=image)
    return values, [c.reason for c in checks if c.status == "failed"
                    and c.property == "colour"]


@pytest.mark.parametrize(("name", "way"), [("off_centre", "clockwise"),
                                           ("group_of_three", "counterclockwise"),
                                           ("group_of_two", "clockwise")])
def test_a_good_fast_orbit_passes_the_colour_check(tmp_path: Path, name: str, way: str) -> None:
    """These failed as colour defects (CIEDE2000 3.5-4.8 > 3.0) when the still's window was
    compared unaligned with the turned first frame."""
    image = FACE_STILLS[name]()
    clip = _orbit(tmp_path, _save(tmp_path, name, image), way, 6.0)
    values, colour = _colour(clip, image)
    assert colour == [], (colour, values)
    assert values["colour_delta_e"] < S.max_colour_delta_e / 2, values


@pytest.mark.parametrize("defect", list(COLOUR_DEFECTS))
@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_colour_defects_on_a_fast_orbit_are_caught(tmp_path: Path, name: str,
                                                   defect: str) -> None:
    """The renderer orbits over the defective still; the clip is judged against the true one."""
    image = sample(name)
    still = _save(tmp_path, "bad", COLOUR_DEFECTS[defect](image))
    values, colour = _colour(_orbit(tmp_path, still, "clockwise", 4.0), image)
    assert colour, values
    if defect == "red_blue_swap":
        assert any("swapped channels" in r for r in colour), colour


@pytest.mark.parametrize("defect", list(COLOUR_DEFECTS))
def test_colour_defects_are_caught_on_every_provider_shape(tmp_path: Path, defect: str) -> None:
    """The fake fal server's clip of the defective still, for every registered output shape
    (off-spec shapes repaired and the repair judged again), fails with a colour reason."""
    from video_agent.adapters.providers.fal.endpoints import all_endpoints
    from video_agent_dev.fakefal.video import render_clip as render_fake

    image = sample("astronaut")
    truth = _save(tmp_path, "astronaut", image)
    bad = COLOUR_DEFECTS[defect](image)
    ok, data = cv2.imencode(".png", cv2.cvtColor(bad, cv2.COLOR_RGB2BGR))
    assert ok
    params = VideoParams(scene=SceneSpec(content="astronaut", number=1, image_url=str(truth)),
                         motion=MotionSpec(type="pan", duration=4.0))
    shapes = sorted({(e.output.width, e.output.height, e.output.fps)
                     for e in all_endpoints().values()})
    for width, height, fps in shapes:
        clip = tmp_path / f"fal-{width}x{height}-{fps}.mp4"
        clip.write_bytes(render_fake(data.tobytes(), width=width, height=height, fps=fps,
                                     seconds=4.0))
        report = assess_clip(clip, truth, params, work_dir=tmp_path / "w")
        assert report.verdict == "fail", (clip.name, report.reasons)
        assert any(r.startswith("colour: ") for r in report.reasons), (clip.name,
                                                                        report.reasons)
