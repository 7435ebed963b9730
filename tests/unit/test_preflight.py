"""Preflight: a provider that cannot work at all stops the run before any scene starts."""

from __future__ import annotations

import socket
from pathlib import Path

import fal_client.client as fal_http
import pytest

from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.context import VideoAgentContext
from video_agent.preflight import PreflightError, fallback_note, preflight


def ctx(tmp_path: Path, primary: str, fallback: str = "local:draft") -> VideoAgentContext:
    return VideoAgentContext(output_dir=str(tmp_path), primary=primary, fallback=fallback)


@pytest.fixture
def listening(monkeypatch: pytest.MonkeyPatch) -> socket.socket:
    """A real loopback listener standing in for fal's queue host."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    monkeypatch.setattr(fal_http, "QUEUE_URL_FORMAT", f"https://127.0.0.1:{sock.getsockname()[1]}/")
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield sock
    sock.close()


def test_local_providers_need_nothing(tmp_path: Path) -> None:
    preflight(ctx(tmp_path, "local", ""))
    preflight(ctx(tmp_path, "local:draft", "local"))


def test_no_key_unknown_endpoint_and_unknown_kind_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listening: socket.socket) -> None:
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PreflightError, match=r"^--primary: no fal.ai key in the environment "
                                             r"variable FAL_KEY"):
        preflight(ctx(tmp_path, f"fal:{DEFAULT_PRIMARY}"))
    with pytest.raises(PreflightError, match=r"^--fallback: no fal.ai key"):
        preflight(ctx(tmp_path, "local", f"fal:{DEFAULT_PRIMARY}"))
    monkeypatch.setenv("FAL_KEY", "k")
    preflight(ctx(tmp_path, f"fal:{DEFAULT_PRIMARY}"))  # key and a reachable host: fine
    with pytest.raises(PreflightError, match=r"^--primary: .*no-such/model"):
        preflight(ctx(tmp_path, "fal:no-such/model"))
    with pytest.raises(PreflightError, match=r"^--fallback: .*unknown kind"):
        preflight(ctx(tmp_path, "local", "teleport:x"))


def test_an_unreachable_fal_host_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            listening: socket.socket) -> None:
    monkeypatch.setenv("FAL_KEY", "k")
    port = listening.getsockname()[1]
    listening.close()  # nothing listens there any more
    with pytest.raises(PreflightError, match=rf"fal.ai is unreachable \(127.0.0.1:{port}: "):
        preflight(ctx(tmp_path, f"fal:{DEFAULT_PRIMARY}"))
    # through a proxy, it is the proxy that must answer
    monkeypatch.setattr(fal_http, "QUEUE_URL_FORMAT", "https://queue.fal.run/")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    with pytest.raises(PreflightError, match=rf"through the proxy 127.0.0.1:{port}"):
        preflight(ctx(tmp_path, f"fal:{DEFAULT_PRIMARY}"))


def test_fallback_note_names_what_was_asked_what_made_it_and_why() -> None:
    meta = {"slot": "fallback", "provider": "local", "model": "draft", "attempts": [
        {"slot": "primary", "provider": "fal", "model": DEFAULT_PRIMARY, "outcome": "error",
         "error": "HTTP 500 from submit"},
        {"slot": "fallback", "provider": "local", "model": "draft", "outcome": "ok"}]}
    assert fallback_note(meta) == (f"asked for fal:{DEFAULT_PRIMARY}, made by local:draft: "
                                   "HTTP 500 from submit")
    meta["attempts"][0].update(outcome="quality_fail", error=None)
    assert fallback_note(meta).endswith(": its clip failed the quality check")
    assert fallback_note({"slot": "primary", "provider": "local", "model": "x"}) is None


def test_the_key_variable_is_the_one_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           listening: socket.socket) -> None:
    monkeypatch.setenv("FAL_KEY", "k")  # set, but not the variable asked for
    monkeypatch.delenv("TEAM_B_FAL", raising=False)
    named = VideoAgentContext(output_dir=str(tmp_path), primary=f"fal:{DEFAULT_PRIMARY}",
                              fallback="", fal_key_env="TEAM_B_FAL")
    with pytest.raises(PreflightError, match=r"no fal\.ai key in the environment variable "
                                             r"TEAM_B_FAL"):
        preflight(named)
    monkeypatch.setenv("TEAM_B_FAL", "k2")
    preflight(named)
    bad = VideoAgentContext(output_dir=str(tmp_path), primary=f"fal:{DEFAULT_PRIMARY}",
                            fallback="", fal_key_env="1 BAD")
    with pytest.raises(PreflightError, match=r"^fal_key_env: '1 BAD' is not an environment "
                                             r"variable name"):
        preflight(bad)
