"""Quick commands import only what they need, and the closing table keeps whole what a user
copies at 80 columns."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from video_agent.cli.run import closing_table
from video_agent.models import SceneError, SceneVideo
from video_agent.runner import StoryRun

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("langgraph", "cv2", "av", "numpy", "fal_client", "starlette", "pydantic", "aiohttp")
"""(typer itself imports pydantic for a command's own help page.)"""
PROBE = """
import runpy, sys
sys.argv = ["video-agent", *sys.argv[1:]]
try:
    runpy.run_module("video_agent", run_name="__main__")
except SystemExit:
    pass
print("LOADED", sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def loaded(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={"PYTHONPATH": str(ROOT / "src"), "COLUMNS": "100"})
    line = next(x for x in result.stderr.splitlines() if x.startswith("LOADED"))
    return eval(line.removeprefix("LOADED "))


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("explain", "--help"),
                                  ("assess", "--help"), ("render", "--help"),
                                  ("status", "--out", "/nonexistent-out")])
def test_help_and_status_load_no_runtime(args: tuple[str, ...]) -> None:
    assert loaded(*args) == ([] if args == ("--help",) else ["pydantic"])


def test_models_loads_no_graph_renderer_decoder_or_network_client() -> None:
    assert not {"langgraph", "cv2", "av", "numpy", "fal_client", "aiohttp"} & set(loaded("models"))


def cells(text: str) -> list[list[str]]:
    """Each row's cells, with the lines a folded cell spans joined back together."""
    rows, current = [], None
    for line in text.splitlines():
        if line.startswith(("├", "└")):
            if current:
                rows.append(["".join(part) for part in current])
            current = None
        elif line.startswith("│"):
            parts = [p.strip() for p in line.strip("│").split("│")]
            current = current or [[] for _ in parts]
            for bucket, part in zip(current, parts, strict=True):
                bucket.append(part)
    return rows


def test_the_closing_table_folds_long_ids_and_paths_at_80_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    long_model = "fal-ai/kling-video/v2.1/standard/image-to-video"
    path = tmp_path / "generated_video" / "a_story_with_a_long_name" / "scene_12" / "video.mp4"
    meta = {"provider": "fal", "model": long_model, "duration": 6.0, "slot": "fallback",
            "quality": {"verdict": "pass"}, "attempts": [
                {"slot": "primary", "provider": "fal", "model": "fal-ai/wan-i2v",
                 "outcome": "error", "error": "no fal.ai key"}]}
    run = StoryRun(story_id="a_story_with_a_long_name", resumed=True, scenes=["12", "13"],
                   videos={"12": SceneVideo(video_url="file:///x", path=str(path), metadata=meta,
                                            version=1)},
                   errors={"13": SceneError(scene="13", stage="analyze_context",
                                            message="image_path: no such file")})
    console = Console(width=80, record=True, color_system=None)
    console.print(closing_table(run))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    rows = cells(text)
    assert rows[0][0] == "12" and rows[0][1] == f"fal:{long_model}"
    shown = "generated_video/a_story_with_a_long_name/scene_12/video.mp4"
    assert rows[0][4].startswith(shown), "the path is relative and whole"
    # (folding drops the spaces at line ends; the ids and the path themselves stay whole)
    assert re.search(r"askedforfal:fal-ai/wan-i2v,madebyfal:fal-ai/kling-video/v2.1/standard/"
                     r"image-to-video:nofal.aikey", rows[0][4].replace(" ", ""))
    assert rows[1][3] == "failed" and "image_path: no such file" in rows[1][4]


def test_models_keeps_every_endpoint_id_whole_at_80_columns() -> None:
    from typer.testing import CliRunner

    from video_agent.adapters.providers.fal.endpoints import all_endpoints
    from video_agent.cli import app

    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for endpoint in all_endpoints().values():
        assert any(line.startswith(f"fal:{endpoint.id}") for line in lines), endpoint.id
    assert max(len(line) for line in lines if not line.startswith("fal:")) <= 80
    assert sum(line.startswith(("seconds", "price")) for line in lines) == 2 * len(
        all_endpoints())
