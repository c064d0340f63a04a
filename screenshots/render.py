#!/usr/bin/env python3
"""Renders a terminal screen captured with `tmux capture-pane -e -p` to a PNG.

Usage: render.py CAPTURE.ansi OUT.png [COLUMNS]

Only what tmux emits is understood: SGR sequences (bold, dim, italic, underline, reverse,
16/256/truecolour foreground and background). Wide characters (CJK) take two cells, as in the
terminal. Glyphs missing from DejaVu Sans Mono come from WenQuanYi Zen Hei (CJK) when present.
Needs Pillow (`pip install pillow`) and fonts-dejavu-core; fonts-wqy-zenhei for CJK text.
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_SIZE = 16
PAD = 12
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONO_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
CJK = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

# A dark theme close to common terminal defaults (xterm's 16 colours, softened).
BG = (24, 26, 33)
FG = (220, 223, 228)
PALETTE16 = [
    (40, 42, 54), (224, 108, 117), (152, 195, 121), (229, 192, 123),
    (97, 175, 239), (198, 120, 221), (86, 182, 194), (200, 204, 212),
    (92, 99, 112), (255, 123, 134), (180, 225, 150), (255, 214, 140),
    (130, 196, 255), (220, 150, 240), (120, 210, 220), (255, 255, 255),
]


def palette256(n):
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        i = 0
        while i < len(params):
            p = params[i]
            if p == 0:
                self.reset()
            elif p == 1:
                self.bold = True
            elif p == 2:
                self.dim = True
            elif p == 3:
                self.italic = True
            elif p == 4:
                self.underline = True
            elif p == 7:
                self.reverse = True
            elif p == 22:
                self.bold = self.dim = False
            elif p == 23:
                self.italic = False
            elif p == 24:
                self.underline = False
            elif p == 27:
                self.reverse = False
            elif 30 <= p <= 37:
                self.fg = PALETTE16[p - 30]
            elif 90 <= p <= 97:
                self.fg = PALETTE16[p - 90 + 8]
            elif 40 <= p <= 47:
                self.bg = PALETTE16[p - 40]
            elif 100 <= p <= 107:
                self.bg = PALETTE16[p - 100 + 8]
            elif p == 39:
                self.fg = None
            elif p == 49:
                self.bg = None
            elif p in (38, 48) and i + 1 < len(params):
                if params[i + 1] == 5 and i + 2 < len(params):
                    colour = palette256(params[i + 2])
                    i += 2
                elif params[i + 1] == 2 and i + 4 < len(params):
                    colour = tuple(params[i + 2:i + 5])
                    i += 4
                else:
                    colour = None
                if p == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1


# Box drawing: which arms of the cell a light, heavy or double line character has
# (left, right, up, down), drawn as lines so borders join across rows whatever the font's
# line spacing.
BOX = {
    "─": "lr", "━": "lr", "═": "lr", "│": "ud", "┃": "ud", "║": "ud",
    "┌": "rd", "┐": "ld", "└": "ru", "┘": "lu", "╭": "rd", "╮": "ld", "╰": "ru", "╯": "lu",
    "├": "rud", "┤": "lud", "┬": "lrd", "┴": "lru", "┼": "lrud",
    "╴": "l", "╶": "r", "╵": "u", "╷": "d",
}


def draw_box(draw, char, px, py, cw, ch, fg):
    cx, cy = px + cw // 2, py + ch // 2
    for arm in BOX[char]:
        if arm == "l":
            draw.line([px, cy, cx, cy], fill=fg)
        elif arm == "r":
            draw.line([cx, cy, px + cw, cy], fill=fg)
        elif arm == "u":
            draw.line([cx, py, cx, cy], fill=fg)
        elif arm == "d":
            draw.line([cx, cy, cx, py + ch], fill=fg)


def width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(text):
    """Lines of (char, style, cells) from tmux's escaped capture."""
    rows = []
    style = Style()
    for line in text.split("\n"):
        row = []
        pos = 0
        for m in re.finditer(r"\x1b\[([0-9;]*)m|\x1b\][^\x07]*\x07|(.)", line, re.S):
            if m.group(1) is not None:
                params = [int(x) if x else 0 for x in m.group(1).split(";")] or [0]
                style.apply(params)
            elif m.group(2) is not None:
                ch = m.group(2)
                row.append((ch, style.copy(), width(ch)))
            pos = m.end()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def main():
    src, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 120
    rows = parse(open(src, encoding="utf-8", errors="replace").read())
    mono = ImageFont.truetype(MONO, FONT_SIZE)
    bold = ImageFont.truetype(MONO_BOLD, FONT_SIZE)
    try:
        cjk = ImageFont.truetype(CJK, FONT_SIZE)
    except OSError:
        cjk = mono
    cw = round(mono.getlength("M"))
    ch = round(FONT_SIZE * 1.35)
    img = Image.new("RGB", (PAD * 2 + cols * cw, PAD * 2 + len(rows) * ch), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        x = 0
        for char, st, w in row:
            fg = st.fg or FG
            bg = st.bg
            if st.reverse:
                fg, bg = (bg or BG), (st.fg or FG)
            if st.dim:
                fg = tuple((c + b) // 2 for c, b in zip(fg, BG))
            px, py = PAD + x * cw, PAD + y * ch
            if bg is not None:
                draw.rectangle([px, py, px + max(w, 1) * cw - 1, py + ch - 1], fill=bg)
            if char in BOX:
                draw_box(draw, char, px, py, cw, ch, fg)
            elif char != " " and w > 0:
                font = cjk if w == 2 else (bold if st.bold else mono)
                draw.text((px, py + (ch - FONT_SIZE) // 2 - 1), char, font=font, fill=fg)
            if st.underline:
                draw.line([px, py + ch - 2, px + w * cw, py + ch - 2], fill=fg)
            x += w
    img.save(out, optimize=True)


if __name__ == "__main__":
    main()
