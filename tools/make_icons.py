"""Draw the field app's PNG icons: the 双 mark on the blue disc, as in static/icons/favicon.svg.

Run once (``.venv/bin/python tools/make_icons.py``) and commit the PNGs in static/icons/; the
app never runs this. Needs Pillow and a bold CJK font (Debian: fonts-noto-cjk).

* ``icon-192.png``, ``icon-512.png``: purpose "any", a disc on a transparent ground;
* ``icon-maskable-512.png``: purpose "maskable", full-bleed blue with the mark inside the
  central 80% safe zone (launchers cut any shape out of it);
* ``apple-touch-icon.png`` (180): opaque, iOS rounds the corners itself.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BLUE = (11, 74, 139, 255)     # #0b4a8b, the theme colour
WHITE = (255, 255, 255, 255)
MARK = "双"
FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
SUPER = 4  # draw 4x larger, then downsample: smooth edges without an anti-aliasing pass


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONTS:
        if not Path(path).exists():
            continue
        for index in range(10):  # the collection holds JP, KR, SC, TC ...: take SC
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if font.getname()[0] == "Noto Sans CJK SC":
                return font
    sys.exit("no Noto Sans CJK SC font found (apt install fonts-noto-cjk)")


def _mark(draw: ImageDraw.ImageDraw, centre: float, glyph_size: int) -> None:
    draw.text((centre, centre), MARK, font=_font(glyph_size), fill=WHITE, anchor="mm")


def icon(size: int, *, full_bleed: bool, mark_scale: float) -> Image.Image:
    big = size * SUPER
    image = Image.new("RGBA", (big, big), BLUE if full_bleed else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not full_bleed:
        draw.ellipse((0, 0, big - 1, big - 1), fill=BLUE)
    _mark(draw, big / 2, int(big * mark_scale))
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    if full_bleed:
        image = image.convert("RGB")
    # Two colours and their blends: a 32-colour palette looks the same at a third of the size.
    return image.quantize(colors=32, method=Image.Quantize.FASTOCTREE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        "icon-192.png": icon(192, full_bleed=False, mark_scale=0.56),
        "icon-512.png": icon(512, full_bleed=False, mark_scale=0.56),
        # the safe zone is a circle of 40% radius: keep the glyph well inside it
        "icon-maskable-512.png": icon(512, full_bleed=True, mark_scale=0.46),
        "apple-touch-icon.png": icon(180, full_bleed=True, mark_scale=0.56),
    }
    for name, image in outputs.items():
        image.save(OUT / name, optimize=True)
        print(f"{OUT / name}: {image.size[0]}x{image.size[1]}, {(OUT / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
