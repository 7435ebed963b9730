"""Colour conversion for the encoder: BT.709 matrix, full range in, limited range out."""

from __future__ import annotations

import numpy as np
import pytest

from video_agent.adapters.render.encode import pack_i420, rgb_to_i420, rgb_to_yuv444


@pytest.mark.parametrize(("rgb", "yuv"), [
    ((0, 0, 0), (16, 128, 128)),
    ((255, 255, 255), (235, 128, 128)),
    ((255, 0, 0), (63, 102, 240)),  # BT.709 red (BT.601 would give Y 81)
    ((0, 255, 0), (173, 42, 26)),
    ((0, 0, 255), (32, 240, 118)),
    ((128, 128, 128), (126, 128, 128)),
])
def test_bt709_limited_range_values(rgb: tuple[int, int, int],
                                    yuv: tuple[int, int, int]) -> None:
    pixel = np.array([[rgb]], dtype=np.uint8)
    assert tuple(int(v) for v in rgb_to_yuv444(pixel)[0, 0]) == pytest.approx(yuv, abs=1)


def test_i420_layout_and_chroma_averaging() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, :3] = (255, 0, 0)
    img[:, 3:] = (0, 0, 255)
    block = rgb_to_i420(img)
    assert block.shape == (6, 6) and block.dtype == np.uint8
    y, u, v = block[:4], block[4:].reshape(-1)[:6].reshape(2, 3), block[4:].reshape(-1)[6:]
    assert (y[:, :3] == 63).all() and (y[:, 3:] == 32).all()
    # the middle chroma sample straddles red and blue: averaged, not picked
    assert u[0, 0] == 102 and u[0, 2] == 240 and 102 < u[0, 1] < 240
    assert v.shape == (6,)


def test_pack_i420_puts_u_before_v() -> None:
    luma = np.full((2, 4), 50, np.uint8)
    chroma = np.dstack([np.full((1, 2), 1, np.uint8), np.full((1, 2), 2, np.uint8)])
    block = pack_i420(luma, chroma)
    assert block[2].tolist() == [1, 1, 2, 2]
