"""The development tools live apart from the runtime package: importing the runtime loads none
of them, and ``video-agent fake-fal`` serves from ``video_agent_dev`` or names the extra it
needs."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def test_runtime_imports_no_development_tool() -> None:
    code = ("import sys, video_agent, video_agent.graph, video_agent.cli, video_agent.studio\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('video_agent_dev', 'trustme')])")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_fake_fal_command_serves_over_https(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "video_agent", "fake-fal", "--port", "0", "--proxy-port", "-1",
         "--cert-dir", str(tmp_path), "-s", "latency_s=0"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("# counts:"):
                break
        exports = dict(line.removeprefix("export ").strip().split("=", 1)
                       for line in lines if line.startswith("export "))
        host = exports["FAL_RUN_HOST"]
        context = ssl.create_default_context(cafile=exports["SSL_CERT_FILE"])
        with urllib.request.urlopen(f"https://{host}/_fake/counts", context=context,
                                    timeout=30) as answer:
            assert answer.status == 200
            json.loads(answer.read())
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_fake_fal_without_the_dev_extra_names_it() -> None:
    # ``sys.modules[name] = None`` makes ``import name`` fail as if the package were missing.
    code = ("import sys; sys.modules['trustme'] = None\n"
            "from video_agent.cli import main\n"
            "sys.argv = ['video-agent', 'fake-fal', '--port', '0']\n"
            "main()")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "pip install -e '.[dev]'" in out.stderr
    assert "trustme" in out.stderr
    assert "Traceback" not in out.stderr
