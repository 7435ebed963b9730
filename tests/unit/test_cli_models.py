"""``video-agent models`` lists every registered endpoint, including a user's own."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from video_agent.adapters.providers.fal.endpoints import DEFAULT_FALLBACK, DEFAULT_PRIMARY
from video_agent.cli import app


def test_models_lists_defaults_and_user_endpoints(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps([{"id": "acme/cam-v1/image-to-video", "title": "Acme",
                                 "price": {"per_second": 0.01}}]))
    monkeypatch.setenv("VIDEO_AGENT_FAL_ENDPOINTS", str(mine))
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["provider"]: row for row in json.loads(result.output)}
    assert rows[f"fal:{DEFAULT_PRIMARY}"]["role"] == "default primary"
    assert rows[f"fal:{DEFAULT_FALLBACK}"]["role"] == "default fallback"
    assert rows["fal:acme/cam-v1/image-to-video"]["usd_per_second"] == 0.01
    assert len(rows) >= 6
    table = CliRunner().invoke(app, ["models"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and DEFAULT_PRIMARY in table.output
