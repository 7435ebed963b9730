"""A process killed while waiting on fal resumes the same request in a new process.

The children are fresh interpreters configured only by ``FakeFalServer.env()``: fal-client reads
``FAL_QUEUE_RUN_HOST`` at import and uploads through ``HTTPS_PROXY`` to its fixed storage hosts,
exactly as a user's run would against the fake (or any fal-compatible) server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fakefal_fixtures
from fakefal_fixtures import make_request, make_still
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.ledger import Ledger
from video_agent_dev.fakefal import DUMMY_KEY

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

CHILD = """
import asyncio, sys
from pathlib import Path
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.models import GenerationRequest

request = GenerationRequest.model_validate_json(Path(sys.argv[1]).read_text())
provider = make_fal_provider(sys.argv[2], state_dir=Path(sys.argv[3]), timeout_s=60,
                             budget_usd=None)
result = asyncio.run(provider.generate(request, lambda f, m: print(f"{f:.2f} {m}", flush=True)))
print("RESULT " + result.model_dump_json(), flush=True)
"""


def _child(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killed_process_resumes_without_a_second_submit(fake_fal, tmp_path: Path) -> None:
    server = fake_fal
    server.call(lambda: server.fake.set_scenario("*", latency_s=6.0, width=320, height=180))
    image = make_still(tmp_path / "still.png")
    request_file = tmp_path / "request.json"
    request_file.write_text(make_request(image, tmp_path / "out" / "temp").model_dump_json())
    state = tmp_path / "out" / ".state"
    env = {**os.environ, **server.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home")}
    args = (str(request_file), DEFAULT_PRIMARY, str(state))

    first = _child(env, *args)
    ledger = Ledger(state)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = ledger.entries() if ledger.path.exists() else []
        if entries and entries[0].request_id:
            break
        assert first.poll() is None, first.communicate()[0]
        time.sleep(0.05)
    request_id = entries[0].request_id
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert server.fake.submits == {DEFAULT_PRIMARY: 1}
    assert server.fake.requests[request_id].state != "COMPLETED"  # killed mid-wait

    second = _child(env, *args)
    output, _ = second.communicate(timeout=90)
    assert second.returncode == 0, output
    result = json.loads(output.split("RESULT ", 1)[1])
    assert result["request_id"] == request_id and result["details"]["resumed"] is True
    assert f"resuming request {request_id}" in output
    assert server.fake.submits == {DEFAULT_PRIMARY: 1}
    assert Path(result["path"]).is_file()
    # The still went to fal's fixed storage hosts through the proxy, once.
    assert server.proxied["rest.fal.ai"] >= 1 and server.proxied["v3.fal.media"] >= 1
    assert server.fake.counts["uploads"] == 1
    secret = DUMMY_KEY.split(":")[1].encode()
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
