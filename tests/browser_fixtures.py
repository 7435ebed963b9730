"""Fixtures the browser tests share: the example stills in a folder of their own, a `serve`
app on loopback that may read them, and Debian's chromium driven by Playwright.

Each test module binds them at module level (``images = browser_fixtures.images``), so every
module gets its own server and browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import EXAMPLE_IMAGES
from serve_fixtures import FAST, serving

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    for still in EXAMPLE_IMAGES.glob("*.jpg"):
        shutil.copy(still, root / still.name)
    return root


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, images: Path) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("out"), images_root=images, max_concurrency=2,
                 **FAST) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab per test (1280x900), failing a wait after 20 s."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    yield page
    page.close()
