"""The shared value types: a resolution parsed and checked in one place, a range of seconds."""

from __future__ import annotations

import math

import pytest

from video_agent.context import VideoAgentContext
from video_agent.models import GenerationSettings, SceneSpec, VideoParams
from video_agent.reasoning import thresholds_for
from video_agent.reasoning.rules import DURATION_RANGE
from video_agent.values import CLIP_SECONDS, FieldValueError, Resolution, Seconds


@pytest.mark.parametrize(("text", "size"), [("1280x720", (1280, 720)), ("1920X1080", (1920, 1080)),
                                            (" 1024 x 576 ", (1024, 576))])
def test_resolution_parses_and_formats_back(text: str, size: tuple[int, int]) -> None:
    parsed = Resolution.parse(text)
    assert parsed == size and (parsed.width, parsed.height) == size
    assert str(parsed) == f"{size[0]}x{size[1]}"
    assert Resolution.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "1280", "1280x", "x720", "1280x720x2", "-1280x720",
                                  "1280*720", "12.5x7", "0x720", "1280x0", "１２８０x720"])
def test_a_malformed_resolution_names_its_field(text: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        Resolution.parse(text, "generation.resolution")
    assert caught.value.field == "generation.resolution"
    assert str(caught.value).startswith("generation.resolution: ")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("text", "ok"), [("1024x576", True), ("1920x1080", True),
                                          ("1280x720", True), ("640x360", False),
                                          ("1024x768", False), ("1026x577", False)])
def test_the_spec_check(text: str, ok: bool) -> None:
    size = Resolution.parse(text)
    if ok:
        assert size.checked_for_spec() == size
        assert VideoAgentContext(resolution=text).size == (size.width, size.height)
    else:
        with pytest.raises(FieldValueError, match=r"^resolution: .* must be 16:9, even"):
            size.checked_for_spec()
        with pytest.raises(ValueError, match="must be 16:9"):
            _ = VideoAgentContext(resolution=text).size


def test_context_names_a_malformed_resolution() -> None:
    with pytest.raises(FieldValueError, match="resolution: 'big' is not WIDTHxHEIGHT"):
        _ = VideoAgentContext(resolution="big").size


def test_resolution_arithmetic() -> None:
    size = Resolution(1280, 720)
    assert size.area == 921_600 and size.ratio == pytest.approx(16 / 9)
    assert Resolution(800, 900).at_least(Resolution(1024, 576)) == (1024, 900)


def test_thresholds_keep_their_string_form() -> None:
    params = VideoParams(scene=SceneSpec(content="c", number=1, image_url="a"),
                         generation=GenerationSettings(resolution="1280x720"))
    assert thresholds_for(params).min_resolution == "1280x720"
    params.generation.resolution = "640x360"
    assert thresholds_for(params).min_resolution == "1024x576"
    params.generation.resolution = "wide"
    with pytest.raises(FieldValueError, match=r"^generation\.resolution: "):
        thresholds_for(params)


def test_seconds() -> None:
    assert CLIP_SECONDS == (4.0, 10.0) and DURATION_RANGE is CLIP_SECONDS
    low, high = CLIP_SECONDS
    assert (low, high) == (4.0, 10.0)
    assert CLIP_SECONDS.clamp(2) == 4.0 and CLIP_SECONDS.clamp(12.5) == 10.0
    assert CLIP_SECONDS.clamp(6.5) == 6.5
    assert CLIP_SECONDS.holds(4) and CLIP_SECONDS.holds(10.0)
    for bad in (3.99, 10.01, math.nan, math.inf, True, "6"):
        assert not CLIP_SECONDS.holds(bad)
    assert CLIP_SECONDS.check(6, "motion.duration") == 6.0
    with pytest.raises(FieldValueError, match=r"^motion.duration: 12 s is outside 4-10 s$"):
        CLIP_SECONDS.check(12, "motion.duration")
    assert Seconds(0.5, 2).clamp(3) == 2
