"""``video_agent.quality`` stays light: a separate ``video-agent assess`` process must not pay
for LangGraph, langchain, fal or aiohttp, so none of them is imported by the gate."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("langgraph", "langchain_core", "fal_client", "aiohttp", "httpx", "starlette")


def test_the_gate_imports_no_graph_or_network_library() -> None:
    code = ("import json, sys, video_agent.quality, video_agent.quality.checks; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    assert not set(HEAVY) & set(loaded), set(HEAVY) & set(loaded)
