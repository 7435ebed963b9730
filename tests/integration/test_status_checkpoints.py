"""``video-agent status`` on checkpointed stories: a run that reached its end is read from the
checkpoint store without loading the story graph (nor LangGraph's runtime); an interrupted one
still asks the graph where it stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, still, write_story

pytestmark = pytest.mark.slow
PROBE = """
import runpy, sys
sys.argv = ["video-agent", *sys.argv[1:]]
try:
    runpy.run_module("video_agent", run_name="__main__")
except SystemExit:
    pass
print("LOADED", sorted(m for m in ("video_agent.graph", "langgraph.graph", "langgraph.pregel")
                       if m in sys.modules), file=sys.stderr)
"""


def status(*args: str) -> tuple[str, list[str]]:
    """``status ARGS``' output and which of the graph modules it loaded."""
    result = subprocess.run([sys.executable, "-c", PROBE, "status", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"})
    line = next(x for x in result.stderr.splitlines() if x.startswith("LOADED"))
    return result.stdout, eval(line.removeprefix("LOADED "))


def test_status_reads_a_finished_run_without_the_graph(tmp_path: Path) -> None:
    story = write_story(tmp_path / "story.json", "quiet", [
        {"scene_number": 1, "scene_content": "A slow pan across the hills.",
         "image_path": str(still(tmp_path / "a.jpg")), "layer1_analysis": "4 seconds."},
        {"scene_number": 2, "scene_content": "A missing still.",
         "image_path": str(tmp_path / "missing.jpg")}])
    out = tmp_path / "out"
    args = ("--out", str(out), "--primary", "local:draft", "--fallback", "")
    assert run_cli("run", str(story), *args).returncode == 1  # scene 2 fails
    shown, modules = status("quiet", "--out", str(out))
    assert "story quiet: finished" in shown and "no such file" in shown, shown
    assert "done" in shown
    assert modules == [], "a finished run is read from the checkpoint alone"

    interrupted = write_story(tmp_path / "cut.json", "cut", [
        {"scene_number": 1, "scene_content": "A slow pan across the hills.",
         "image_path": str(still(tmp_path / "b.jpg", seed=2)), "layer1_analysis": "4 s."}])
    killed = run_cli("run", str(interrupted), *args, env={"VIDEO_AGENT_KILL_AT": "store_staged"})
    assert killed.returncode == -9
    shown, modules = status("cut", "--out", str(out))
    assert "story cut: interrupted" in shown and "pending" in shown, shown
    assert "video_agent.graph" in modules
    assert run_cli("run", str(interrupted), *args).returncode == 0
    shown, modules = status("cut", "--out", str(out))
    assert "story cut: finished" in shown and modules == [], shown
