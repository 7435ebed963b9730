"""The fal provider with the real fal-client against the fake fal server over HTTPS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import pytest

import fakefal_fixtures
from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.adapters.providers.fal.endpoints import (
    DEFAULT_FALLBACK,
    DEFAULT_PRIMARY,
    get_endpoint,
)
from video_agent.adapters.providers.fal.ledger import Ledger
from video_agent.adapters.providers.fal.provider import FalProvider
from video_agent_dev.fakefal import DUMMY_KEY, FakeFalServer

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

LTX = "fal-ai/ltx-video/image-to-video"
SMALL = {"width": 320, "height": 180}


def provider(tmp_path: Path, endpoint: str = DEFAULT_PRIMARY, **options: Any) -> FalProvider:
    settings: dict[str, Any] = {"timeout_s": 20.0, "budget_usd": None,
                                "poll_interval_s": 0.05, "retry_delay_s": 0.05}
    settings.update(options)
    return FalProvider(get_endpoint(endpoint), state_dir=tmp_path / ".state", **settings)


class Events(list[tuple[float, str]]):
    def __call__(self, fraction: float, message: str) -> None:
        assert 0.0 <= fraction <= 1.0
        self.append((fraction, message))

    def text(self) -> str:
        return "\n".join(m for _, m in self)


def probe(path: str) -> tuple[int, int, float, float, int]:
    with av.open(path) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        fps = float(video.average_rate)
        audio = len(container.streams.audio)
        return video.width, video.height, fps, frames / fps, audio


def set_scenario(server: FakeFalServer, endpoint: str = "*", **fields: Any) -> None:
    server.call(lambda: server.fake.set_scenario(endpoint, **fields))


async def start_then_abandon(prov: FalProvider, request: Any, ledger: Ledger) -> str:
    """Start a generation, cancel it once its request id is recorded; return that id."""
    task = asyncio.create_task(prov.generate(request, Events()))
    while not (entries := ledger.entries()) or not entries[0].request_id:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return entries[0].request_id


@pytest.fixture
def still(tmp_path: Path):
    return make_still(tmp_path / "still.png")


@pytest.mark.parametrize(("endpoint", "size", "fps", "seconds", "tracks"), [
    (DEFAULT_PRIMARY, (1280, 720), 30, 5.0, 1),  # Kling 2.1: 30 fps with an AAC track
    (DEFAULT_FALLBACK, (1280, 720), 24, 5.0, 0),
])
def test_happy_path_primary_and_fallback_endpoints(fake_fal, still, tmp_path: Path,
                                                   endpoint, size, fps, seconds, tracks) -> None:
    set_scenario(fake_fal, queue_s=0.3, latency_s=0.4)
    events = Events()
    prov = make_fal_provider(endpoint, state_dir=tmp_path / ".state", timeout_s=30,
                             budget_usd=None)
    result = asyncio.run(prov.generate(make_request(still, tmp_path / "temp"), events))
    width, height, got_fps, got_seconds, audio = probe(result.path)
    assert (width, height) == size and got_fps == fps and audio == tracks
    assert got_seconds == pytest.approx(seconds, abs=0.05)
    assert result.provider == "fal" and result.model == endpoint and result.request_id
    assert result.cost > 0 and result.details["image_upload"] == "uploaded"
    assert Path(result.path).parent == tmp_path / "temp"
    assert "queued at position 0" in events.text() and "generating: " in events.text()
    assert events[-1][0] == 1.0 and [f for f, _ in events] == sorted(f for f, _ in events)
    assert fake_fal.fake.submits == {endpoint: 1}


def test_rerun_of_a_finished_request_touches_nothing(fake_fal, still, tmp_path: Path) -> None:
    set_scenario(fake_fal, latency_s=0.1, **SMALL)
    request = make_request(still, tmp_path / "temp")
    first = asyncio.run(provider(tmp_path).generate(request, Events()))
    calls = fake_fal.fake.snapshot()
    second = asyncio.run(provider(tmp_path).generate(request, Events()))
    assert second.request_id == first.request_id and second.path == first.path
    assert second.details["resumed"] and fake_fal.fake.snapshot() == calls


def test_forced_regeneration_is_a_new_paid_request(fake_fal, still, tmp_path: Path) -> None:
    """A scene generated again on purpose (one version already stored) submits once more."""
    set_scenario(fake_fal, latency_s=0.1, **SMALL)
    request = make_request(still, tmp_path / "temp")
    first = asyncio.run(provider(tmp_path).generate(request, Events()))
    again = request.model_copy(update={"generation": 1})
    second = asyncio.run(provider(tmp_path).generate(again, Events()))
    assert second.request_id != first.request_id and not second.details["resumed"]
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 2
    resumed = asyncio.run(provider(tmp_path).generate(again, Events()))
    assert resumed.request_id == second.request_id and fake_fal.fake.submits[DEFAULT_PRIMARY] == 2


def test_429_is_retried_by_fal_client_and_submitted_once(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, submit_429=2, latency_s=0.1, **SMALL)
    result = asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert result.request_id
    assert fake_fal.fake.counts["submit_429"] == 2 and fake_fal.fake.submits[DEFAULT_PRIMARY] == 1


def test_429_past_fal_clients_retries_is_non_critical(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, submit_429=10, **SMALL)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical) == ("rate_limited", False)
    assert Ledger(tmp_path / ".state").spent("story") == 0.0


def test_5xx_on_submit_is_non_critical_and_costs_nothing(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, submit_error=500)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical) == ("server_error", False)
    assert "HTTP 500" in str(info.value)
    assert Ledger(tmp_path / ".state").spent("story") == 0.0
    assert not fake_fal.fake.submits


def test_own_timeout_cancels_the_request(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=30)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path, timeout_s=2.0).generate(make_request(still, tmp_path),
                                                                Events()))
    assert (info.value.kind, info.value.critical) == ("timeout", False)
    assert info.value.request_id and fake_fal.fake.counts["cancel"] == 1
    entry = Ledger(tmp_path / ".state").entries()[0]
    assert entry.status == "cancelled"


def test_stuck_queue_is_cancelled_and_non_critical(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, stuck=True)
    prov = provider(tmp_path, stuck_queue_s=0.5)
    with pytest.raises(ProviderError) as info:
        asyncio.run(prov.generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical) == ("stuck_queue", False)
    assert fake_fal.fake.counts["cancel"] == 1


def test_out_of_gpu_is_critical(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, gpu_error=True, latency_s=0.05)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical) == ("gpu_unavailable", True)


def test_image_refused_by_the_endpoint_is_critical(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, invalid_image=True, latency_s=0.05)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical, info.value.field) == (
        "invalid_image", True, "image_url")


def test_failed_upload_is_critical_and_submits_nothing(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, upload_error=True)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical, info.value.field) == (
        "upload", True, "image_url")
    assert not fake_fal.fake.submits


def test_malformed_status_is_non_critical(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, malformed_status=True)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert (info.value.kind, info.value.critical) == ("protocol", False)


def test_transient_504_on_result_is_fetched_again(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, result_error=504, result_error_times=1, latency_s=0.05, **SMALL)
    result = asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    assert result.request_id and fake_fal.fake.counts["result_errors"] == 1
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 1


def test_upload_once_per_content_hash_across_provider_instances(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    shared = make_still(tmp_path / "a.png")
    other = make_still(tmp_path / "b.png", seed=5)

    async def two_scenes_same_still() -> None:
        prov = provider(tmp_path)
        await asyncio.gather(prov.generate(make_request(shared, tmp_path, scene="1"), Events()),
                             prov.generate(make_request(shared, tmp_path, scene="2"), Events()))

    asyncio.run(two_scenes_same_still())
    assert fake_fal.fake.counts["uploads"] == 1
    again = asyncio.run(provider(tmp_path).generate(
        make_request(shared, tmp_path, scene="3"), Events()))
    assert again.details["image_upload"] == "cached" and fake_fal.fake.counts["uploads"] == 1
    asyncio.run(provider(tmp_path).generate(make_request(other, tmp_path, scene="4"), Events()))
    assert fake_fal.fake.counts["uploads"] == 2


def test_an_expired_upload_is_uploaded_again_and_resubmitted_once(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    shared = make_still(tmp_path / "a.png")
    asyncio.run(provider(tmp_path).generate(make_request(shared, tmp_path, scene="1"), Events()))
    fake_fal.call(fake_fal.fake.files.clear)  # fal's storage no longer has the still
    result = asyncio.run(provider(tmp_path).generate(
        make_request(shared, tmp_path, scene="2"), Events()))
    assert result.details["image_upload"] == "uploaded" and "reuploaded_after" in result.details
    assert fake_fal.fake.counts["uploads"] == 2
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 3  # scene 1, the refused one, the retry


def test_small_stills_can_go_inline_as_data_uris(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    prov = provider(tmp_path, data_uri_max_bytes=10_000_000)
    result = asyncio.run(prov.generate(make_request(still, tmp_path), Events()))
    assert result.details["image_upload"] == "data_uri"
    assert fake_fal.fake.counts["uploads"] == 0
    assert "..." in result.provider_args["image_url"]


def test_cancelled_wait_resumes_the_same_request(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=1.5, **SMALL)
    request = make_request(still, tmp_path)
    ledger = Ledger(tmp_path / ".state")


    request_id = asyncio.run(start_then_abandon(provider(tmp_path), request, ledger))
    events = Events()
    result = asyncio.run(provider(tmp_path).generate(request, events))
    assert result.request_id == request_id and result.details["resumed"]
    assert f"resuming request {request_id}" in events.text()
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 1


def test_failed_download_is_downloaded_again_without_a_new_submit(fake_fal, still,
                                                                   tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, download_error_times=4, **SMALL)
    request = make_request(still, tmp_path)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path, download_attempts=3).generate(request, Events()))
    assert (info.value.kind, info.value.critical) == ("download", False)
    assert Ledger(tmp_path / ".state").entries()[0].status == "completed"
    result = asyncio.run(provider(tmp_path, download_attempts=3).generate(request, Events()))
    assert result.request_id == info.value.request_id
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 1
    assert fake_fal.fake.counts["downloads"] == 5
    assert probe(result.path)[:2] == (320, 180)


def test_budget_cap_refuses_to_submit(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    prov = provider(tmp_path, budget_usd=0.3)  # a 5 s Kling clip is about $0.25
    first = asyncio.run(prov.generate(make_request(still, tmp_path, scene="1"), Events()))
    assert first.cost == pytest.approx(0.25)
    with pytest.raises(ProviderError) as info:
        asyncio.run(prov.generate(make_request(still, tmp_path, scene="2"), Events()))
    assert (info.value.kind, info.value.critical) == ("budget", True)
    assert "budget_usd" in str(info.value)
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 1


def test_off_spec_clip_is_delivered_as_the_endpoint_made_it(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, video="off_spec")
    result = asyncio.run(provider(tmp_path).generate(
        make_request(still, tmp_path, duration=6), Events()))
    width, height, fps, seconds, audio = probe(result.path)
    assert (width, height, fps, audio) == (1280, 720, 25, 1)  # OFF_SPEC_SHAPE, not Kling's own
    assert seconds == pytest.approx(5.0, abs=0.05)


def test_endpoint_limit_bounds_requests_in_flight(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.4, **SMALL)
    prov = provider(tmp_path, endpoint=LTX)  # LTX allows 8; narrow it for the test
    prov.endpoint = prov.endpoint.model_copy(update={"max_concurrency": 2})
    stills = [make_still(tmp_path / f"s{i}.png", seed=i) for i in range(4)]
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            running = sum(1 for r in fake_fal.fake.requests.values()
                          if r.state in ("IN_QUEUE", "IN_PROGRESS"))
            peak = max(peak, running)
            await asyncio.sleep(0.01)

    async def run_all() -> None:
        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(prov.generate(make_request(s, tmp_path, scene=str(i + 1)),
                                             Events()) for i, s in enumerate(stills)))
        watcher.cancel()

    asyncio.run(run_all())
    assert peak == 2 and sum(fake_fal.fake.submits.values()) == 4


def test_key_is_never_written(fake_fal, still, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path / "out"), Events()))
    assert fake_fal.fake.auth_keys  # the key did reach the server
    secret = DUMMY_KEY.split(":")[1].encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


def test_a_request_fal_no_longer_knows_is_submitted_afresh_next_time(fake_fal, still,
                                                                     tmp_path) -> None:
    set_scenario(fake_fal, latency_s=1.5, **SMALL)
    request = make_request(still, tmp_path)
    ledger = Ledger(tmp_path / ".state")

    asyncio.run(start_then_abandon(provider(tmp_path), request, ledger))
    fake_fal.call(fake_fal.fake.requests.clear)  # the queue forgot every request
    set_scenario(fake_fal, latency_s=0.05, **SMALL)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(request, Events()))
    assert (info.value.kind, info.value.critical) == ("not_found", False)
    assert ledger.entries()[0].status == "failed"
    result = asyncio.run(provider(tmp_path).generate(request, Events()))
    assert result.request_id != info.value.request_id
    assert fake_fal.fake.submits[DEFAULT_PRIMARY] == 2


@pytest.mark.parametrize(("video_url", "reason"), [
    ("https://169.254.169.254/latest/meta-data/iam", "link-local"),
    ("https://10.1.2.3/clip.mp4", "private"),
    ("https://localhost/clip.mp4", "loopback name"),
    ("http://v3.fal.media/files/clip.mp4", "not an https URL"),
    ("file:///etc/passwd", "not an https URL"),
])
def test_a_result_pointing_the_download_inside_is_refused_without_fetching(
        fake_fal, still, tmp_path, video_url, reason) -> None:
    set_scenario(fake_fal, latency_s=0.05, video_url=video_url, **SMALL)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))
    error = info.value
    assert (error.kind, error.critical) == ("protocol", False), error
    assert "video URL" in str(error) and reason in str(error), error
    assert error.request_id, "the error names the paid request"
    assert not list(tmp_path.rglob("*.mp4*")), "nothing was written"


def test_only_fal_own_host_may_be_private(fake_fal, still, tmp_path) -> None:
    """The fake runs on 127.0.0.1 as fal's queue host, so its clips are fetched; the same
    address on another port is not fal's host and stays refused."""
    other = f"https://127.0.0.1:{fake_fal.port + 1}/files/clip.mp4"
    set_scenario(fake_fal, latency_s=0.05, video_url=other, **SMALL)
    with pytest.raises(ProviderError, match="loopback"):
        asyncio.run(provider(tmp_path).generate(make_request(still, tmp_path), Events()))


def test_a_short_request_is_seen_finished_soon_after_it_ends(fake_fal, still, tmp_path) -> None:
    """Polls come at a tenth of the request's age, not at the longest interval: a 2 s request
    polled at most every 5 s is seen finished well before the 5 s mark, with few polls."""
    set_scenario(fake_fal, latency_s=2.0, **SMALL)
    before = fake_fal.fake.counts["status"]
    result = asyncio.run(provider(tmp_path, poll_interval_s=5.0).generate(
        make_request(still, tmp_path), Events()))
    seen = result.details["queue_wait_s"] + result.details["run_s"]
    polls = fake_fal.fake.counts["status"] - before
    assert 1.5 <= seen < 4.5 and polls <= 40, (seen, polls)  # polled every 5 s: seen at 5 s
