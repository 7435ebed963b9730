"""Probe a clip with PyAV: container, codec, size, rates, frame count, bitrate, audio, moov.

Thread safety: each call opens and closes its own container; nothing is kept between calls.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av

from video_agent.models import ProbeInfo
from video_agent.quality.settings import QualityError

_MP4_BRANDS = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"moof"}


def mp4_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """Top-level ISO-BMFF boxes as ``(type, offset, size)``; empty if the file is not MP4/MOV.

    Raises:
        QualityError: a box claims more bytes than the file holds (a truncated file).
    """
    file_size = path.stat().st_size
    boxes: list[tuple[bytes, int, int]] = []
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= file_size:
            fh.seek(offset)
            header = fh.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if not boxes and kind not in _MP4_BRANDS:
                return []
            if size == 1 and len(header) >= 16:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = file_size - offset
            if size < 8:
                raise QualityError(f"container: box '{kind.decode('latin-1')}' at {offset} "
                                   f"has impossible size {size}")
            if offset + size > file_size:
                raise QualityError(
                    f"truncated file: box '{kind.decode('latin-1')}' needs {size} bytes at "
                    f"offset {offset}, file ends after {file_size - offset}"
                )
            boxes.append((kind, offset, size))
            offset += size
    return boxes


def _moov_front(boxes: list[tuple[bytes, int, int]]) -> bool | None:
    kinds = [kind for kind, _, _ in boxes]
    if b"moov" not in kinds:
        return None
    if b"mdat" not in kinds:
        return True
    return kinds.index(b"moov") < kinds.index(b"mdat")


def _rate(value: Fraction | None) -> float:
    return round(float(value), 3) if value else 0.0


def probe(path: str | Path) -> ProbeInfo:
    """Describe a clip from its container and packets (no decoding).

    Raises:
        QualityError: the file is missing, not a video, has no video stream, or is truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise QualityError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise QualityError(f"empty file: {path}")
    boxes = mp4_boxes(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise QualityError(f"not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise QualityError("no video stream in the file")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise QualityError("video stream has no picture size")
        time_base = stream.time_base or Fraction(1, 90000)
        count, total_bytes = 0, 0
        first_pts: int | None = None
        end_pts: int | None = None
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                count += 1
                total_bytes += packet.size
                first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
                packet_end = packet.pts + (packet.duration or 0)
                end_pts = packet_end if end_pts is None else max(end_pts, packet_end)
        except av.error.FFmpegError as exc:
            raise QualityError(f"corrupt stream after {count} packets: {exc}") from exc
        if count == 0:
            raise QualityError("video stream holds no frames")
        duration = (float((end_pts - first_pts) * time_base)
                    if end_pts is not None and first_pts is not None else 0.0)
        if duration <= 0 and container.duration:
            duration = container.duration / av.time_base
        sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
        return ProbeInfo(
            container=container.format.name,
            codec=ctx.name,
            profile=ctx.profile or None,
            pix_fmt=ctx.pix_fmt,
            width=ctx.width,
            height=ctx.height,
            sample_aspect=f"{sar.numerator}:{sar.denominator}" if sar else None,
            fps=_rate(stream.average_rate),
            real_fps=_rate(stream.base_rate or stream.guessed_rate),
            frame_count=count,
            duration=round(duration, 4),
            bitrate=int(total_bytes * 8 / duration) if duration > 0 else 0,
            audio_streams=len(container.streams.audio),
            moov_front=_moov_front(boxes),
        )
