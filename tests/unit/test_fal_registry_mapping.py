"""Endpoint registry, user-registered endpoints, and video_params -> endpoint arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.adapters.providers.fal.endpoints import (
    BUILTIN,
    DEFAULT_FALLBACK,
    DEFAULT_PRIMARY,
    ENV_ENDPOINTS,
    EndpointConfigError,
    all_endpoints,
    get_endpoint,
    load_endpoints,
)
from video_agent.adapters.providers.fal.mapping import (
    clip_seconds,
    fingerprint,
    map_arguments,
    public_args,
)


@pytest.fixture
def still(tmp_path: Path):
    return make_still(tmp_path / "still.png")


def test_builtin_registry_describes_real_endpoints_with_spec_capable_sizes() -> None:
    ids = {e.id for e in BUILTIN}
    assert len(ids) >= 5 and {DEFAULT_PRIMARY, DEFAULT_FALLBACK} <= ids
    for endpoint in BUILTIN:
        caps = endpoint.capabilities
        assert caps.min_duration <= caps.max_duration
        assert caps.max_concurrency >= 1
        widest = max(int(r.split("x")[0]) for r in caps.resolutions)
        assert widest >= 1024 or endpoint.id == "fal-ai/ltx-video/image-to-video"
    kling = get_endpoint(DEFAULT_PRIMARY).capabilities
    assert kling.durations == [5, 10] and kling.guidance_scale == (0.0, 1.0)
    assert kling.negative_prompt is True and kling.price_per_second == pytest.approx(0.05)


def test_unknown_endpoint_names_itself_and_lists_known_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        make_fal_provider("fal-ai/nope/image-to-video", state_dir=tmp_path,
                          timeout_s=10, budget_usd=None)
    assert "fal-ai/nope/image-to-video" in str(info.value)
    assert DEFAULT_PRIMARY in str(info.value)


def test_user_endpoints_from_json_and_toml_files(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    json_file = tmp_path / "mine.json"
    json_file.write_text(json.dumps({"endpoints": [{
        "id": "acme/clipper/i2v", "duration": {"format": "number", "choices": [4, 8]},
        "guidance": {"arg": "cfg", "min": 1, "max": 9}, "price": {"per_video": 0.3}}]}))
    toml_file = tmp_path / "more.toml"
    toml_file.write_text('[[endpoints]]\nid = "acme/other/i2v"\nmax_concurrency = 7\n'
                         '[endpoints.duration]\nformat = "seconds_s"\nchoices = [6]\n')
    monkeypatch.setenv(ENV_ENDPOINTS, f"{json_file}:{toml_file}")
    endpoints = all_endpoints()
    assert endpoints["acme/clipper/i2v"].capabilities.guidance_scale == (1, 9)
    assert endpoints["acme/other/i2v"].capabilities.max_concurrency == 7
    provider = make_fal_provider("acme/clipper/i2v", state_dir=tmp_path,
                                 timeout_s=10, budget_usd=None)
    assert provider.model == "acme/clipper/i2v" and provider.name == "fal"


def test_inline_json_and_broken_files_are_reported(tmp_path: Path) -> None:
    assert load_endpoints('[{"id": "x/y"}]')[0].id == "x/y"
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x/y", "duration": {"format": "weeks"}}]')
    with pytest.raises(EndpointConfigError, match="endpoint #1"):
        load_endpoints(bad)
    with pytest.raises(EndpointConfigError, match="cannot read"):
        load_endpoints(tmp_path / "missing.json")


@pytest.mark.parametrize(("endpoint_id", "requested", "expected"), [
    ("fal-ai/kling-video/v2.1/standard/image-to-video", 6.0, {"duration": "5"}),
    ("fal-ai/kling-video/v2.1/standard/image-to-video", 8.0, {"duration": "10"}),
    ("fal-ai/minimax/hailuo-02/standard/image-to-video", 6.0,
     {"duration": "6", "resolution": "768P", "prompt_optimizer": False}),
    ("fal-ai/veo3.1/fast/image-to-video", 6.2, {"duration": "6s", "resolution": "720p",
                                                "generate_audio": False}),
    ("fal-ai/wan/v2.2-5b/image-to-video", 5.0, {"num_frames": 120, "frames_per_second": 24}),
    ("fal-ai/bytedance/seedance/v1/pro/image-to-video", 7.0, {"duration": "7"}),
])
def test_durations_and_enums_in_each_endpoints_own_format(
        still, tmp_path: Path, endpoint_id: str, requested: float,
        expected: dict[str, object]) -> None:
    endpoint = get_endpoint(endpoint_id)
    args = map_arguments(endpoint, make_request(still, tmp_path, duration=requested), "U")
    assert args["image_url"] == "U" and args["prompt"].startswith("slow pan")
    for name, value in expected.items():
        assert args[name] == value, name


def test_ltx_has_no_duration_argument_and_delivers_five_seconds(still, tmp_path: Path) -> None:
    endpoint = get_endpoint("fal-ai/ltx-video/image-to-video")
    args = map_arguments(endpoint, make_request(still, tmp_path, duration=8), "U")
    assert "duration" not in args and "num_frames" not in args
    assert clip_seconds(endpoint, 8) == 5.0
    assert args["num_inference_steps"] == 30 and 1 <= args["guidance_scale"] <= 10


def test_guidance_is_clamped_to_the_endpoint_range(still, tmp_path: Path) -> None:
    request = make_request(still, tmp_path)  # planner default guidance 6.0
    args = map_arguments(get_endpoint(DEFAULT_PRIMARY), request, "U")
    assert args["cfg_scale"] == 1.0
    assert "seed" not in args


def test_static_motion_fixes_seedance_camera(still, tmp_path: Path) -> None:
    request = make_request(still, tmp_path)
    request.params.motion.type = "static"
    endpoint = get_endpoint("fal-ai/bytedance/seedance/v1/pro/image-to-video")
    assert map_arguments(endpoint, request, "U")["camera_fixed"] is True
    request.params.motion.type = "pan"
    assert map_arguments(endpoint, request, "U")["camera_fixed"] is False


def test_fingerprint_follows_arguments_and_image_content_not_its_url(still,
                                                                     tmp_path: Path) -> None:
    endpoint = get_endpoint(DEFAULT_PRIMARY)
    base = fingerprint(endpoint, make_request(still, tmp_path))
    assert base == fingerprint(endpoint, make_request(still, tmp_path / "elsewhere"))
    assert base != fingerprint(endpoint, make_request(still, tmp_path, prompt="other"))
    assert base != fingerprint(endpoint, make_request(still, tmp_path, duration=10))
    other = make_still(tmp_path / "other.png", seed=3)
    assert base != fingerprint(endpoint, make_request(other, tmp_path))
    assert base != fingerprint(get_endpoint(DEFAULT_FALLBACK), make_request(still, tmp_path))


def test_public_args_shorten_data_uris() -> None:
    shown = public_args({"image_url": "data:image/png;base64," + "A" * 5000, "x": 1},
                        "image_url")
    assert shown["image_url"].startswith("data:image/png;base64,...")
    assert len(shown["image_url"]) < 60 and shown["x"] == 1
