"""Request ledger, budget reservation, and classification of fal errors into routes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fal_client import FalClientHTTPError, FalClientTimeoutError

from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.adapters.providers.fal.budget import BudgetExceeded
from video_agent.adapters.providers.fal.errors import classify, redact
from video_agent.adapters.providers.fal.ledger import Ledger, request_key
from video_agent.adapters.providers.fal.provider import resolve_key

KEY = request_key("story", "1", "primary", "a/b", "hash")


def _reserve(ledger: Ledger, key: str = KEY, cost: float = 0.25,
             budget: float | None = None) -> int:
    return ledger.reserve(key=key, story_id="story", scene="1", slot="primary", endpoint="a/b",
                          args_hash="hash", args={"prompt": "p"}, cost=cost, budget=budget)


def test_ledger_survives_a_new_instance_and_tracks_states(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    charge = _reserve(ledger)
    ledger.submitted(KEY, charge, "req-1")
    again = Ledger(tmp_path).get(KEY)
    assert again is not None and again.status == "submitted" and again.request_id == "req-1"
    ledger.completed(KEY, {"video": {"url": "u"}})
    ledger.downloaded(KEY, "/x.mp4")
    entry = Ledger(tmp_path).get(KEY)
    assert entry is not None
    assert (entry.status, entry.result, entry.video_path, entry.submits) == (
        "downloaded", {"video": {"url": "u"}}, "/x.mp4", 1)


def test_budget_refuses_past_the_cap_and_a_released_charge_frees_it(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    charge = _reserve(ledger, cost=0.25, budget=0.5)
    ledger.submitted(KEY, charge, "r1")
    second = request_key("story", "2", "primary", "a/b", "h2")
    with pytest.raises(BudgetExceeded) as info:
        _reserve(ledger, key=second, cost=0.3, budget=0.5)
    assert info.value.critical and info.value.kind == "budget"
    assert ledger.get(second) is None and ledger.spent("story") == pytest.approx(0.25)
    third = _reserve(ledger, key=second, cost=0.2, budget=0.5)
    ledger.release(second, third, "submit failed")
    assert ledger.spent("story") == pytest.approx(0.25)
    assert ledger.get(second).status == "failed"  # type: ignore[union-attr]


def test_a_reservation_without_request_id_is_replaced_not_double_charged(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _reserve(ledger)  # crash before the submit answered
    _reserve(ledger)
    assert ledger.spent("story") == pytest.approx(0.25)


def test_upload_cache_expires(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.remember_upload("abc", "host", "https://cdn/x.png")
    assert ledger.upload_url("abc", "host", 60) == "https://cdn/x.png"
    assert ledger.upload_url("abc", "other-host", 60) is None
    assert ledger.upload_url("abc", "host", -1) is None


def _http_error(status: int, body: object, headers: dict[str, str] | None = None):
    response = httpx.Response(status, json=body, headers=headers or {})
    detail = body.get("detail") if isinstance(body, dict) else body
    error_type = body.get("error_type") if isinstance(body, dict) else None
    return FalClientHTTPError(str(detail), status, dict(response.headers), response=response,
                              error_type=error_type)


@pytest.mark.parametrize(("status", "body", "kind", "critical", "field"), [
    (422, {"detail": [{"loc": ["body", "image_url"], "msg": "bad", "type": "image_load_error"}]},
     "invalid_image", True, "image_url"),
    (422, {"detail": [{"loc": ["body", "duration"], "msg": "bad", "type": "enum"}]},
     "invalid_arguments", False, "duration"),
    (429, {"detail": "slow down"}, "rate_limited", False, None),
    (500, {"detail": "boom"}, "server_error", False, None),
    (503, {"detail": "Out of GPU resources", "error_type": "resource_exhausted"},
     "gpu_unavailable", True, None),
    (500, {"detail": "CUDA out of memory"}, "gpu_unavailable", True, None),
    (504, {"detail": "gateway"}, "timeout", False, None),
    (401, {"detail": "bad key"}, "auth", False, None),
])
def test_http_errors_route_to_fallback_or_end_the_scene(status, body, kind, critical,
                                                        field) -> None:
    err = classify(_http_error(status, body), where="result")
    assert (err.kind, err.critical, err.field) == (kind, critical, field)
    assert f"HTTP {status}" in str(err)


def test_other_failures_are_non_critical() -> None:
    assert classify(FalClientTimeoutError(timeout=3.0), where="x").kind == "timeout"
    assert classify(httpx.ConnectError("refused"), where="x").kind == "connection"
    assert classify(ValueError("Unknown status: X"), where="x").kind == "protocol"
    assert not any(classify(e, where="x").critical for e in (
        FalClientTimeoutError(timeout=3.0), httpx.ConnectError("r"), ValueError("v")))


def test_secrets_are_redacted_from_messages() -> None:
    key = "abcd1234-id:secretsecret"
    err = classify(_http_error(401, {"detail": f"key {key} rejected"}), where="submit", key=key)
    assert "secretsecret" not in str(err) and "abcd1234-id" not in str(err)
    assert redact("no secret here", None) == "no secret here"


def test_missing_key_is_reported_by_generate_not_construction(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    provider = make_fal_provider("fal-ai/ltx-video/image-to-video", state_dir=tmp_path,
                                 timeout_s=10, budget_usd=None)
    request = make_request(make_still(tmp_path / "s.png"), tmp_path)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider.generate(request, lambda f, m: None))
    assert (info.value.kind, info.value.critical) == ("missing_key", False)
    assert info.value.field == "fal_key_env" and "FAL_KEY" in str(info.value)


def test_the_key_comes_from_the_variable_the_context_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", "default-key")
    monkeypatch.setenv("STUDIO_FAL_KEY", "studio-key")
    assert resolve_key() == "default-key"
    assert resolve_key("STUDIO_FAL_KEY") == "studio-key"
    monkeypatch.delenv("STUDIO_FAL_KEY")
    assert resolve_key("STUDIO_FAL_KEY") is None, "a named variable never falls back to FAL_KEY"
    monkeypatch.delenv("FAL_KEY")
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    assert resolve_key() == "id:secret"
    for bad in ("", "fal-key", "1KEY", "FAL KEY", "sk-live-123"):
        with pytest.raises(ValueError, match="fal_key_env"):
            resolve_key(bad)


def test_a_bad_variable_name_is_a_critical_error_naming_the_field(tmp_path: Path) -> None:
    provider = make_fal_provider("fal-ai/ltx-video/image-to-video", state_dir=tmp_path,
                                 key_env="not a name", timeout_s=10, budget_usd=None)
    request = make_request(make_still(tmp_path / "s.png"), tmp_path)
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider.generate(request, lambda f, m: None))
    assert (info.value.field, info.value.critical) == ("fal_key_env", True)


def _first_use(path: str, n: int) -> None:
    ledger = Ledger(Path(path))
    for i in range(n):
        ledger.remember_upload(f"sha{i}", "host", f"https://files/{i}")
        assert ledger.upload_url(f"sha{i}", "host", 3600) == f"https://files/{i}"


def test_first_use_from_many_threads_and_processes_at_once(tmp_path: Path) -> None:
    """A fresh ledger used by several scenes (threads) and processes at the same moment: every
    write is kept and readable, and nobody fails while another sets the file up."""
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(3):
        state = tmp_path / f"round{round_}"
        context = multiprocessing.get_context("spawn")
        procs = [context.Process(target=_first_use, args=(str(state), 5)) for _ in range(3)]
        for proc in procs:
            proc.start()
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(_first_use, [str(state)] * 6, [5] * 6))
        for proc in procs:
            proc.join(60)
            assert proc.exitcode == 0
