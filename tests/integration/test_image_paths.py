"""Local stills stay inside the allowed folders: real files, real symlinks, nothing copied out."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from video_agent.adapters.images import ImageError, ImageSource


def jpeg(path: Path, color: tuple[int, int, int] = (90, 140, 60)) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), color).save(buffer, "JPEG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """``stories/`` (the story folder, with a still), ``elsewhere/secret.jpg`` (a real image
    outside it) and ``shared/`` (another folder of stills)."""
    story = tmp_path / "stories"
    jpeg(story / "images" / "still.jpg")
    jpeg(tmp_path / "elsewhere" / "secret.jpg", (10, 10, 10))
    jpeg(tmp_path / "shared" / "common.jpg", (200, 10, 10))
    return {"root": tmp_path, "story": story, "cache": tmp_path / "out" / ".state" / "images"}


def source(tree: dict[str, Path], *roots: Path) -> ImageSource:
    return ImageSource(tree["cache"], base_dir=tree["story"], roots=roots)


async def test_relative_paths_inside_the_story_folder_are_read(tree: dict[str, Path]) -> None:
    image = await source(tree).resolve("images/still.jpg", field="image_path")
    assert image.width == 640 and Path(image.path).parent == tree["cache"]
    same = await source(tree).resolve("images/../images/./still.jpg", field="image_path")
    assert same.sha256 == image.sha256


@pytest.mark.parametrize("ref", ["../elsewhere/secret.jpg", "images/../../elsewhere/secret.jpg",
                                 "../../../../../../../../etc/passwd"])
async def test_dot_dot_cannot_escape(tree: dict[str, Path], ref: str) -> None:
    with pytest.raises(ImageError) as info:
        await source(tree).resolve(ref, field="image_path")
    assert info.value.field == "image_path"
    assert str(info.value).startswith(f"image_path: {ref} resolves to ")
    assert f"outside the allowed image roots ({tree['story']})" in str(info.value)
    assert not tree["cache"].exists(), "nothing copied into .state/images"


async def test_story_file_paths_joined_to_the_folder_are_still_confined(
        tree: dict[str, Path]) -> None:
    joined = str(tree["story"] / ".." / "elsewhere" / "secret.jpg")  # what story.py hands on
    with pytest.raises(ImageError, match="outside the allowed image roots"):
        await source(tree).resolve(joined, field="image_path")


async def test_absolute_paths_and_file_urls_need_an_allowed_root(tree: dict[str, Path]) -> None:
    secret = tree["root"] / "elsewhere" / "secret.jpg"
    for ref in (str(secret), secret.as_uri(), "/etc/passwd", "file:///etc/passwd",
                "file://localhost/etc/passwd"):
        with pytest.raises(ImageError, match="outside the allowed image roots") as info:
            await source(tree).resolve(ref, field="image_url")
        assert info.value.field == "image_url"
    allowed = source(tree, tree["root"] / "elsewhere")
    assert (await allowed.resolve(str(secret))).sha256 == \
        (await allowed.resolve(secret.as_uri())).sha256
    inside = tree["story"] / "images" / "still.jpg"
    assert (await source(tree).resolve(inside.as_uri())).width == 640


async def test_file_urls_naming_another_host_are_refused(tree: dict[str, Path]) -> None:
    with pytest.raises(ImageError, match="file:// URLs may only name local files"):
        await source(tree).resolve("file://fileserver/share/a.jpg")


async def test_symlinks_are_resolved_before_the_check(tree: dict[str, Path]) -> None:
    images = tree["story"] / "images"
    (images / "innocent.jpg").symlink_to(tree["root"] / "elsewhere" / "secret.jpg")
    (images / "linked_dir").symlink_to(tree["root"] / "elsewhere", target_is_directory=True)
    (images / "alias.jpg").symlink_to(images / "still.jpg")
    for ref in ("images/innocent.jpg", "images/linked_dir/secret.jpg"):
        with pytest.raises(ImageError, match=f"resolves to {tree['root'] / 'elsewhere'}"):
            await source(tree).resolve(ref, field="image_path")
    assert not tree["cache"].exists()
    assert (await source(tree).resolve("images/alias.jpg", field="image_path")).width == 640


async def test_image_roots_add_folders_without_opening_the_rest(tree: dict[str, Path]) -> None:
    shared = tree["root"] / "shared"
    both = source(tree, shared)
    assert (await both.resolve(str(shared / "common.jpg"), field="image_path")).width == 640
    assert (await both.resolve("../shared/common.jpg", field="image_path")).width == 640
    with pytest.raises(ImageError, match=f"roots \\({tree['story']}, {shared}\\)"):
        await both.resolve("../elsewhere/secret.jpg", field="image_path")


@pytest.mark.parametrize(("ref", "reason"), [
    ("images/still.jpg\x00.png", "image_path: contains a NUL byte"),
    ("file:///tmp/a%00.jpg", "image_path: contains a NUL byte"),
    ("images/" + "x" * 5000 + ".jpg", "cannot be resolved (File name too long)"),
    ("images", "image_path: images is not a regular file"),
    ("images/missing.jpg", "image_path: no such file"),
])
async def test_unusable_paths_are_clean_field_errors(tree: dict[str, Path], ref: str,
                                                     reason: str) -> None:
    with pytest.raises(ImageError) as info:
        await source(tree).resolve(ref, field="image_path")
    assert reason in str(info.value)
    assert not tree["cache"].exists()


async def test_a_symlink_loop_is_a_clean_error(tree: dict[str, Path]) -> None:
    loop = tree["story"] / "images" / "loop.jpg"
    os.symlink(loop, loop)
    with pytest.raises(ImageError,
                       match=re.escape("image_path: images/loop.jpg cannot be resolved")):
        await source(tree).resolve("images/loop.jpg", field="image_path")


async def test_without_any_allowed_folder_local_stills_are_refused(tmp_path: Path) -> None:
    still = jpeg(tmp_path / "a.jpg")
    bare = ImageSource(tmp_path / "cache")
    with pytest.raises(ImageError, match="no image folder is allowed"):
        await bare.resolve(str(still), field="image_path")
    with pytest.raises(ImageError, match="no story folder to resolve it against"):
        await bare.resolve("a.jpg", field="image_path")
    assert (await ImageSource(tmp_path / "cache", roots=[tmp_path]).resolve(str(still))).width
