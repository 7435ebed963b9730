"""Each random fault of the fake fal server, met by the fal provider through the real fal-client.

``fault_rate=1`` with one kind makes every submission draw that fault; ``fault_persist`` 1 makes
it hit every call of its stage, 0 only the first call (a transient fault).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import pytest

import fakefal_fixtures
from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY, get_endpoint
from video_agent.adapters.providers.fal.ledger import Ledger
from video_agent.adapters.providers.fal.provider import FalProvider
from video_agent_dev.fakefal import FakeFalServer
from video_agent_dev.fakefal.scenario import FAULT_KINDS, Scenario, draw_fault

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

pytestmark = pytest.mark.slow

SMALL = {"width": 320, "height": 180}
TIMEOUT_S = 4.0
RENDER_TIMEOUT_S = 60.0
"""For tests that wait on a full-size clip: the fake renders it while the client waits, which
takes more than ``TIMEOUT_S`` on a loaded 2-core machine."""
SLOW = 1024 * 1024


def provider(tmp_path: Path, timeout_s: float = TIMEOUT_S) -> FalProvider:
    return FalProvider(get_endpoint(DEFAULT_PRIMARY), state_dir=tmp_path / ".state",
                       timeout_s=timeout_s, budget_usd=None, poll_interval_s=0.05,
                       retry_delay_s=0.05, poll_timeout_s=1.0)


def with_fault(server: FakeFalServer, kind: str, *, persist: bool, **fields: Any) -> None:
    server.call(lambda: server.fake.set_scenario(
        "*", latency_s=0.05, fault_rate=1.0, fault_kinds=[kind],
        fault_persist=1.0 if persist else 0.0, slow_bytes_per_s=SLOW, **SMALL, **fields))


def generate(tmp_path: Path, scene: str = "1", timeout_s: float = TIMEOUT_S) -> Any:
    still = make_still(tmp_path / "still.png")
    request = make_request(still, tmp_path / "work", scene=scene)
    return asyncio.run(provider(tmp_path, timeout_s).generate(request, lambda f, m: None))


def ledger_status(tmp_path: Path) -> str:
    (entry,) = Ledger(tmp_path / ".state").entries()
    return entry.status


def test_draws_are_seeded_per_submission_and_near_the_rate() -> None:
    scenario = Scenario(fault_rate=0.2, fault_seed=3)
    bodies = [f'{{"prompt": "scene {n}"}}'.encode() for n in range(2000)]
    first = [draw_fault(scenario, "fal-ai/x", body, 1) for body in bodies]
    assert first == [draw_fault(scenario, "fal-ai/x", body, 1) for body in bodies]
    assert 0.17 < sum(f is not None for f in first) / len(first) < 0.23
    assert {f.kind for f in first if f} == set(FAULT_KINDS)
    retried = [draw_fault(scenario, "fal-ai/x", body, 2) for body in bodies]
    assert retried != first, "a retried submission draws afresh"
    other_seed = Scenario(fault_rate=0.2, fault_seed=4)
    assert first != [draw_fault(other_seed, "fal-ai/x", body, 1) for body in bodies]
    assert draw_fault(Scenario(), "fal-ai/x", bodies[0], 1) is None


@pytest.mark.parametrize(("kind", "error_kind"), [
    ("submit_429", "rate_limited"), ("submit_5xx", "server_error"), ("submit_hang", "timeout")])
def test_failed_submits_pay_for_nothing(fake_fal, tmp_path, kind, error_kind) -> None:
    with_fault(fake_fal, kind, persist=True)
    with pytest.raises(ProviderError) as info:
        generate(tmp_path)
    assert (info.value.kind, info.value.critical) == (error_kind, False)
    assert not fake_fal.fake.submits
    assert fake_fal.fake.counts[f"fault_{kind}"] >= 1


@pytest.mark.parametrize("kind", ["status_5xx", "status_malformed", "status_hang",
                                  "result_5xx", "result_malformed", "result_hang",
                                  "download_5xx", "download_reset"])
def test_a_transient_fault_is_retried_without_a_new_submit(fake_fal, tmp_path, kind) -> None:
    with_fault(fake_fal, kind, persist=False)
    result = generate(tmp_path)
    assert fake_fal.fake.counts[f"fault_{kind}"] == 1
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}
    with av.open(result.path) as container:
        assert container.streams.video[0].codec_context.width == 320
    assert ledger_status(tmp_path) == "downloaded"
    assert not list((tmp_path / "work").glob("*.part"))


@pytest.mark.parametrize(("kind", "error_kind", "status"), [
    ("status_5xx", "server_error", "submitted"),
    ("status_malformed", "protocol", "submitted"),
    ("status_hang", "timeout", "submitted"),
    ("result_5xx", "server_error", "submitted"),
    ("result_malformed", "protocol", "submitted"),
    ("result_hang", "timeout", "submitted"),
    ("result_no_video", "protocol", "failed"),
    ("download_5xx", "download", "completed"),
    ("download_reset", "download", "completed"),
])
def test_a_lasting_fault_fails_non_critically_and_a_rerun_pays_nothing_more(
        fake_fal, tmp_path, kind, error_kind, status) -> None:
    with_fault(fake_fal, kind, persist=True)
    with pytest.raises(ProviderError) as info:
        generate(tmp_path)
    assert (info.value.kind, info.value.critical) == (error_kind, False), info.value
    assert info.value.request_id, "the error names the paid request"
    assert ledger_status(tmp_path) == status
    assert not list((tmp_path / "work").glob("*.part"))
    if status == "failed":
        return
    # The request is still worth having: once fal answers again, a rerun resumes it.
    fake_fal.call(fake_fal.fake.heal)
    result = generate(tmp_path)
    assert result.request_id == info.value.request_id and result.details["resumed"]
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}


@pytest.mark.parametrize(("kind", "check"), [
    ("video_off_spec", lambda w, h, fps, audio, frames: (w, h, fps, audio) == (1280, 720, 25, 1)),
    ("video_small", lambda w, h, fps, audio, frames: (w, h) == (768, 512)),
    ("video_short", lambda w, h, fps, audio, frames: frames == 4 * fps),
])
def test_off_spec_clips_are_delivered_as_made(fake_fal, tmp_path, kind, check) -> None:
    with_fault(fake_fal, kind, persist=True)
    result = generate(tmp_path, timeout_s=RENDER_TIMEOUT_S)
    with av.open(result.path) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        shape = (video.width, video.height, int(video.average_rate),
                 len(container.streams.audio), frames)
    assert check(*shape), shape


@pytest.mark.parametrize("kind", ["video_truncated", "video_broken"])
def test_damaged_clips_do_not_decode(fake_fal, tmp_path, kind) -> None:
    with_fault(fake_fal, kind, persist=True)
    result = generate(tmp_path)
    with pytest.raises(av.error.FFmpegError), av.open(result.path) as container:
        for _ in container.decode(video=0):
            pass


def test_slow_download_arrives_whole(fake_fal, tmp_path) -> None:
    with_fault(fake_fal, "download_slow", persist=True)
    result = generate(tmp_path)
    assert fake_fal.fake.counts["fault_download_slow"] == 1
    with av.open(result.path) as container:  # the endpoint's own rate (Kling: 30 fps)
        rate = int(container.streams.video[0].average_rate)
        assert sum(1 for _ in container.decode(video=0)) == 5 * rate
