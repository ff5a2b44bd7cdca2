"""The README's page shots: the served dashboard at 1280 and 1600 px, light and dark, down to the drill-down table.

    panel serve serve.py --warm --port 5716 &        # the default warehouse
    python docs/screenshots/take.py http://127.0.0.1:5716/serve

Debian Chromium through Playwright (as the browser tests); 256 colours, dithered: half the bytes, no banding.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

HERE = Path(__file__).resolve().parent
TALL = 6200  # px: every card in sight at once, so each draws its figure


def take(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in (1280, 1600):
            for theme in ("light", "dark"):
                page = browser.new_page(viewport={"width": width, "height": TALL})
                page.goto(url + ("?theme=dark" if theme == "dark" else ""), timeout=120_000)
                page.wait_for_timeout(25_000)  # every figure drawn (a shared 2-core machine)
                table = page.locator(".detail-card").bounding_box()
                path = HERE / f"dashboard-{width}-{theme}.png"
                bottom = table["y"] + table["height"] + 12
                page.screenshot(path=path, clip={"x": 0, "y": 0, "width": width, "height": bottom})
                page.close()
                image = Image.open(path).convert("RGB")
                palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
                image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
                print(path)
        browser.close()


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5006/serve")
