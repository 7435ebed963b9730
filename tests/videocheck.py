"""Independent checks of stored clips, by decoding them (PyAV) and, where present, ffprobe."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av


def assert_spec_clip(path: Path, *, duration: float | None = None,
                     size: tuple[int, int] = (1024, 576)) -> dict[str, float]:
    """Decode every frame of ``path`` and check it against the output spec."""
    with av.open(str(path)) as container:
        assert container.format.name.startswith("mov"), container.format.name
        assert not container.streams.audio, "the clip must carry no audio stream"
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert stream.average_rate == 24, stream.average_rate
        frames = sum(1 for _ in container.decode(video=0))
    seconds = frames / 24
    assert 4.0 <= seconds <= 10.0, seconds
    if duration is not None:
        assert frames == round(duration * 24), (frames, duration)
    bitrate = path.stat().st_size * 8 / seconds
    assert 2_000_000 <= bitrate <= 5_000_000, f"bitrate {bitrate / 1e6:.2f} Mbps"
    head = path.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1
                                         or head.find(b"moov") < head.find(b"mdat")), \
        "moov must come before mdat"
    if shutil.which("ffprobe"):
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
            check=True, capture_output=True, text=True).stdout)
        kinds = [s["codec_type"] for s in probe["streams"]]
        assert kinds == ["video"], kinds
        assert probe["streams"][0]["codec_name"] == "h264"
        assert probe["streams"][0]["r_frame_rate"] == "24/1"
    return {"frames": frames, "seconds": seconds, "bitrate": bitrate}
