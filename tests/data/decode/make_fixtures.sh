#!/usr/bin/env bash
# Regenerates the decoder fixtures in this folder and expected.tsv, the pixels the reference
# would hash for each of them. Needs ImageMagick 6.9.11-60 Q16 (`convert`, the reference's own
# loader) and python3 (standard library only). The tests only read the results; they never
# run this script.
#
# expected.tsv columns:
#   file    the fixture
#   type    ImageMagick's PNM type for `convert FILE pnm:-`: P4 (black/white), P5 (grey), P6 (RGB)
#   width, height
#   low     FNV-1a 64 (hex) of the 8-bit samples the reference hashes: 1 byte per pixel for P4/P5
#           (P4 bits as 0/255), 3 for P6; for 16-bit samples the low byte (what CImg's cast keeps)
#   scale   the same with 16-bit samples scaled as (v + 128) / 257 (equal to `low` for 8-bit data)
#
# BMP: the reference reads uncompressed BMPs with CImg, which always gives RGB, so their row says
# P6 even when ImageMagick would print P5/P4 (the grey samples are repeated three times). CImg
# passes compressed BMPs (RLE, bit fields) to ImageMagick, so those keep ImageMagick's type. BMP
# pixels are read with `-depth 8`: ImageMagick writes 1- and 4-bit BMPs with maxval 1 or 15,
# which is not what CImg reads from the file (see decode_bmp.cpp for the deviations).
set -euo pipefail
cd "$(dirname "$0")"
SRC=../pdq-golden/images
CAT=$SRC/skimage_chelsea__orig.jpg
ASTRO=$SRC/skimage_astronaut__orig.jpg
CAMERA=$SRC/skimage_camera__orig.jpg

rm -f ./*.png ./*.gif ./*.webp ./*.bmp expected.tsv

# --- PNG -------------------------------------------------------------------------------------
convert "$CAT" -resize 97x65! PNG24:png_rgb8.png
convert "$ASTRO" -resize 80x80! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 40,40 34,30 0,360" -blur 0x4 \) -alpha off -compose copy_opacity -composite \
  PNG32:png_rgba8.png
convert "$CAMERA" -resize 64x64! -define png:color-type=0 -define png:bit-depth=8 png_grey8.png
convert "$CAMERA" -resize 61x43! -monochrome -define png:color-type=0 -define png:bit-depth=1 png_grey1.png
convert "$CAMERA" -resize 61x43! -depth 2 -define png:color-type=0 -define png:bit-depth=2 png_grey2.png
convert "$CAMERA" -resize 61x43! -depth 4 -define png:color-type=0 -define png:bit-depth=4 png_grey4.png
# Resizing in Q16 gives true 16-bit values (not multiples of 257).
convert "$CAMERA" -resize 53x41! -depth 16 -define png:color-type=0 -define png:bit-depth=16 png_grey16.png
convert "$CAMERA" -resize 50x40! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 25,20 22,16 0,360" -blur 0x3 \) -alpha off -compose copy_opacity -composite \
  -define png:color-type=4 -define png:bit-depth=8 png_greyalpha8.png
convert "$CAMERA" -resize 50x40! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 25,20 22,16 0,360" -blur 0x3 \) -alpha off -compose copy_opacity -composite \
  -depth 16 -define png:color-type=4 -define png:bit-depth=16 png_greyalpha16.png
convert "$CAT" -resize 67x45! -depth 16 PNG48:png_rgb16.png
convert "$CAT" -resize 67x45! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 33,22 30,20 0,360" -blur 0x3 \) -alpha off -compose copy_opacity -composite \
  -depth 16 PNG64:png_rgba16.png
# PNG from 8-bit data stored as 16 bits (v * 257): both modes give the 8-bit values.
convert "$CAT" -resize 40x30! -depth 8 -depth 16 PNG48:png_rgb16_exact.png
convert "$ASTRO" -resize 90x70! -colors 256 PNG8:png_palette8.png
# ImageMagick picks the palette bit depth itself: 12 colours give 4 bits, 3 colours 2 bits.
convert "$ASTRO" -resize 90x70! -colors 12 -type Palette png_palette4.png
convert "$ASTRO" -resize 90x70! -colors 3 -type Palette png_palette2.png
convert "$ASTRO" -resize 90x70! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 45,35 40,30 0,360" \) -alpha off -compose copy_opacity -composite \
  -colors 64 PNG8:png_palette_trns.png
convert "$CAT" -resize 83x59! -interlace PNG PNG24:png_interlaced.png
convert "$CAMERA" -resize 29x19! -depth 16 -interlace PNG -define png:color-type=0 \
  -define png:bit-depth=16 png_interlaced_grey16.png
convert "$CAT" -resize 7x3! -interlace PNG PNG24:png_interlaced_7x3.png
convert "$CAMERA" -resize 70x50! -define png:color-type=2 png_greyrgb.png
convert "$CAT" -resize 1x1! PNG24:png_1x1.png
convert "$CAT" -resize 7x3! PNG24:png_7x3.png

# --- WebP ------------------------------------------------------------------------------------
convert "$CAT" -resize 90x60! -quality 80 webp_lossy.webp
convert "$CAT" -resize 90x60! -define webp:lossless=true webp_lossless.webp
convert "$CAT" -resize 90x60! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 45,30 40,25 0,360" -blur 0x3 \) -alpha off -compose copy_opacity -composite \
  -quality 80 webp_lossy_alpha.webp
# webp:exact keeps the colours under fully transparent pixels, which we must not lose.
convert "$CAT" -resize 90x60! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 45,30 40,25 0,360" \) -alpha off -compose copy_opacity -composite \
  -define webp:lossless=true -define webp:exact=true webp_lossless_alpha.webp
convert "$CAMERA" -resize 64x48! -define webp:lossless=true webp_grey_lossless.webp
convert "$CAT" -resize 7x3! -quality 90 webp_7x3.webp
convert "$CAT" -resize 1x1! -define webp:lossless=true webp_1x1.webp
convert -delay 10 \( "$CAT" -resize 90x60! \) \( "$CAT" -resize 90x60! -negate \) -loop 0 webp_anim.webp

# --- GIF -------------------------------------------------------------------------------------
convert "$ASTRO" -resize 101x77! gif_basic.gif
convert "$ASTRO" -resize 101x77! -interlace GIF gif_interlaced.gif
convert -delay 10 \( "$CAT" -resize 80x60! \) \( "$CAT" -resize 80x60! -negate \) \
  \( "$CAT" -resize 80x60! -flop \) -loop 0 gif_anim.gif
convert "$CAT" -resize 7x3! gif_7x3.gif

# --- Hand-built files (exact control over the container) --------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
convert "$CAT" -resize 90x60! -quality 80 "$TMP/still_lossy.webp"
convert "$ASTRO" -resize 60x40! \( +clone -fill black -colorize 100 -fill white \
  -draw "ellipse 30,20 26,16 0,360" \) -alpha off -compose copy_opacity -composite \
  -define webp:lossless=true -define webp:exact=true "$TMP/still_alpha.webp"
cat > "$TMP/synth.py" <<'PY'
import struct, subprocess, sys
TMP, CAT, ASTRO = sys.argv[1:4]

def rgb_of(src, w, h):
    return subprocess.run(['convert', src, '-resize', f'{w}x{h}!', '-depth', '8', 'rgb:-'],
                          check=True, capture_output=True).stdout

def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)

# 3-3-2 palette quantisation: 256 fixed colours.
PAL332 = [((r * 255) // 7, (g * 255) // 7, (b * 255) // 3)
          for r in range(8) for g in range(8) for b in range(4)]
def idx332(rgb):
    return bytes(((rgb[i] >> 5) << 5) | ((rgb[i + 1] >> 5) << 2) | (rgb[i + 2] >> 6)
                 for i in range(0, len(rgb), 3))

# ---- GIF: literal-only LZW (a clear code before the code table would grow past 9 bits).
def lzw(indices, m=8):
    clear, eoi, width = 1 << m, (1 << m) + 1, m + 1
    codes, n = [clear], 0
    for p in indices:
        if n == (1 << m) - 3:
            codes.append(clear); n = 0
        codes.append(p); n += 1
    codes.append(eoi)
    out, acc, bits = bytearray(), 0, 0
    for c in codes:
        acc |= c << bits; bits += width
        while bits >= 8:
            out.append(acc & 255); acc >>= 8; bits -= 8
    if bits:
        out.append(acc & 255)
    blocks = bytearray([m])
    for i in range(0, len(out), 255):
        chunk = out[i:i + 255]; blocks.append(len(chunk)); blocks += chunk
    blocks.append(0)
    return bytes(blocks)

def table(pal):
    n = 2
    while n < len(pal):
        n *= 2
    pal = list(pal) + [(0, 0, 0)] * (n - len(pal))
    return bytes(c for p in pal for c in p), n.bit_length() - 2

def gif(sw, sh, gpal, frames, bg=0):
    out = bytearray(b'GIF89a')
    flags = 0
    if gpal is not None:
        gt, gs = table(gpal); flags = 0x80 | (7 << 4) | gs
    out += struct.pack('<HHBBB', sw, sh, flags, bg, 0)
    if gpal is not None:
        out += gt
    for f in frames:
        if f.get('trans') is not None:
            out += b'\x21\xf9\x04' + struct.pack('<BHB', 1, 10, f['trans']) + b'\x00'
        fl = 0
        lp = f.get('lpal')
        if lp is not None:
            lt, ls = table(lp); fl |= 0x80 | ls
        if f.get('interlace'):
            fl |= 0x40
        out += b'\x2c' + struct.pack('<HHHHB', f['x'], f['y'], f['w'], f['h'], fl)
        if lp is not None:
            out += lt
        idx, w, h = f['idx'], f['w'], f['h']
        if f.get('interlace'):
            rows = [idx[y * w:(y + 1) * w] for y in range(h)]
            order = (list(range(0, h, 8)) + list(range(4, h, 8)) + list(range(2, h, 4)) +
                     list(range(1, h, 2)))
            idx = b''.join(rows[y] for y in order)
        out += lzw(idx)
    out += b'\x3b'
    return bytes(out)

rgb = rgb_of(CAT, 30, 20)
idx = idx332(rgb)
big = idx332(rgb_of(CAT, 64, 48))
# First frame smaller than the screen, offset, with a transparent index; a full second frame.
write('gif_offset_trans.gif', gif(64, 48, PAL332, [
    dict(x=10, y=5, w=30, h=20, idx=idx, trans=idx[0]),
    dict(x=0, y=0, w=64, h=48, idx=big)], bg=3))
# Local colour map only (no global one), interlaced.
write('gif_local_interlaced.gif', gif(30, 20, None, [dict(x=0, y=0, w=30, h=20, idx=idx,
                                                          lpal=PAL332, interlace=True)]))
# Indices beyond a 4-entry colour map (ImageMagick takes entry 0).
write('gif_index_range.gif', gif(8, 2, [(10, 20, 30), (40, 50, 60), (70, 80, 90)], [
    dict(x=0, y=0, w=8, h=2, idx=bytes([0, 1, 2, 3, 200, 1, 0, 5] * 2))]))
write('gif_1x1.gif', gif(1, 1, [(200, 100, 50), (0, 0, 0)], [dict(x=0, y=0, w=1, h=1,
                                                                   idx=b'\x00')]))

# ---- Animated WebP with a first frame offset inside a larger canvas.
def riff_chunks(b):
    i, out = 12, []
    while i + 8 <= len(b):
        tag = b[i:i + 4]; n = struct.unpack('<I', b[i + 4:i + 8])[0]
        out.append((tag, b[i + 8:i + 8 + n])); i += 8 + n + (n & 1)
    return out
def chunk(tag, payload):
    return tag + struct.pack('<I', len(payload)) + payload + (b'\0' if len(payload) & 1 else b'')
def u24(v):
    return struct.pack('<I', v)[:3]
def anim_webp(cw, ch, frames, alpha):
    vp8x = bytes([0x02 | (0x10 if alpha else 0), 0, 0, 0]) + u24(cw - 1) + u24(ch - 1)
    body = chunk(b'VP8X', vp8x) + chunk(b'ANIM', bytes([255, 255, 255, 255, 0, 0]))
    for (x, y, w, h, still, blend) in frames:
        sub = b''.join(chunk(t, p) for t, p in riff_chunks(still)
                       if t in (b'ALPH', b'VP8 ', b'VP8L'))
        body += chunk(b'ANMF', u24(x // 2) + u24(y // 2) + u24(w - 1) + u24(h - 1) + u24(100) +
                      bytes([0 if blend else 2]) + sub)
    return b'RIFF' + struct.pack('<I', 4 + len(body)) + b'WEBP' + body
lossy = open(f'{TMP}/still_lossy.webp', 'rb').read()
alpha = open(f'{TMP}/still_alpha.webp', 'rb').read()
write('webp_anim_offset.webp', anim_webp(100, 80, [(4, 6, 90, 60, lossy, True),
                                                   (0, 0, 60, 40, alpha, True)], False))
write('webp_anim_offset_alpha.webp', anim_webp(100, 80, [(10, 8, 60, 40, alpha, True),
                                                         (0, 0, 90, 60, lossy, True)], True))

# ---- BMP in every layout we read.
def bmp(w, h, bpp, rows=None, palette=None, hdr=40, comp=0, masks=None, topdown=False,
        clr_used=None, raw=None, amask=0):
    """rows: unpadded rows, top to bottom; raw: the stored pixel data as is (RLE)."""
    if raw is None:
        stride = (w * bpp + 31) // 32 * 4
        order = rows if topdown else rows[::-1]
        raw = b''.join(r + b'\0' * (stride - len(r)) for r in order)
    entry = 3 if hdr == 12 else 4
    pal = b''.join(bytes([b, g, r]) + b'\0' * (entry - 3) for (r, g, b) in (palette or []))
    extra = b''
    if hdr == 12:
        info = struct.pack('<IHHHH', 12, w, h, 1, bpp)
    else:
        info = struct.pack('<IiiHHIIiiII', hdr, w, -h if topdown else h, 1, bpp, comp, len(raw),
                           2835, 2835, len(palette or []) if clr_used is None else clr_used, 0)
        if masks and hdr == 40:
            extra = struct.pack('<III', *masks)
        elif hdr >= 52:
            info += struct.pack('<III', *(masks or (0, 0, 0))) + struct.pack('<I', amask)
        if hdr >= 108:
            info += b'BGRs' + b'\0' * 48
        info = info[:hdr] + b'\0' * (hdr - len(info))
    off = 14 + len(info) + len(extra) + len(pal)
    return b'BM' + struct.pack('<IHHI', off + len(raw), 0, 0, off) + info + extra + pal + raw

def pack(r, bits):
    out, per = bytearray(), 8 // bits
    for j in range(0, len(r), per):
        b = 0
        for k in range(per):
            b |= (r[j + k] if j + k < len(r) else 0) << (8 - bits * (k + 1))
        out.append(b)
    return bytes(out)

def rle(irows, bits):
    """RLE8/RLE4 with runs and absolute (literal) sequences, bottom row first."""
    out = bytearray()
    for r in irows[::-1]:
        x = 0
        while x < len(r):
            n = 1
            while x + n < len(r) and r[x + n] == r[x] and n < 255:
                n += 1
            if n >= 2:
                out += bytes([n, r[x] if bits == 8 else (r[x] << 4) | r[x]]); x += n
                continue
            m = min(9 if bits == 8 else 7, len(r) - x)
            if m >= 3:
                lit = r[x:x + m] if bits == 8 else pack(r[x:x + m], 4)
                out += bytes([0, m]) + lit + (b'\0' if len(lit) & 1 else b''); x += m
            else:
                out += bytes([1, r[x] if bits == 8 else r[x] << 4]); x += 1
        out += b'\0\0'
    out += b'\0\1'
    return bytes(out)

def bgr_rows(rgb, w, h):
    return [b''.join(bytes([rgb[i + 2], rgb[i + 1], rgb[i]]) for i in range(y * w * 3, (y + 1) * w * 3, 3))
            for y in range(h)]

w, h = 37, 23
rgb = rgb_of(CAT, w, h)
rows = [rgb[y * w * 3:(y + 1) * w * 3] for y in range(h)]
bgr = bgr_rows(rgb, w, h)
write('bmp24.bmp', bmp(w, h, 24, bgr))
write('bmp24_topdown.bmp', bmp(w, h, 24, bgr, topdown=True))
write('bmp24_v4.bmp', bmp(w, h, 24, bgr, hdr=108))
write('bmp24_v5.bmp', bmp(w, h, 24, bgr, hdr=124))
write('bmp24_7x3.bmp', bmp(7, 3, 24, bgr_rows(rgb_of(CAT, 7, 3), 7, 3)))
write('bmp24_1x1.bmp', bmp(1, 1, 24, bgr_rows(rgb_of(CAT, 1, 1), 1, 1)))
def px32(r, shifts):
    return b''.join(struct.pack('<I', (r[i] << shifts[0]) | (r[i + 1] << shifts[1]) |
                                (r[i + 2] << shifts[2]) | (0x5a << shifts[3]))
                    for i in range(0, len(r), 3))
write('bmp32.bmp', bmp(w, h, 32, [px32(r, (16, 8, 0, 24)) for r in rows]))
write('bmp32_bitfields.bmp', bmp(w, h, 32, [px32(r, (8, 16, 24, 0)) for r in rows], comp=3,
                                 masks=(0xff00, 0xff0000, 0xff000000)))
write('bmp32_bitfields_v5.bmp', bmp(w, h, 32, [px32(r, (16, 8, 0, 24)) for r in rows], hdr=124,
                                    comp=3, masks=(0xff0000, 0xff00, 0xff), amask=0xff000000))
def px16(r, kind):
    out = b''
    for i in range(0, len(r), 3):
        R, G, B = r[i], r[i + 1], r[i + 2]
        v = ((R >> 3) << 10 | (G >> 3) << 5 | B >> 3) if kind == 555 else \
            ((R >> 3) << 11 | (G >> 2) << 5 | B >> 3)
        out += struct.pack('<H', v)
    return out
write('bmp16_555.bmp', bmp(w, h, 16, [px16(r, 555) for r in rows]))
write('bmp16_565.bmp', bmp(w, h, 16, [px16(r, 565) for r in rows], comp=3,
                           masks=(0xf800, 0x7e0, 0x1f)))
write('bmp16_565_v4.bmp', bmp(w, h, 16, [px16(r, 565) for r in rows], hdr=108, comp=3,
                              masks=(0xf800, 0x7e0, 0x1f)))
idx = idx332(rgb)
irows = [idx[y * w:(y + 1) * w] for y in range(h)]
write('bmp8.bmp', bmp(w, h, 8, irows, palette=PAL332))
write('bmp8_topdown.bmp', bmp(w, h, 8, irows, palette=PAL332, topdown=True))
write('bmp8_core.bmp', bmp(w, h, 8, irows, palette=PAL332, hdr=12))
write('bmp8_pal100.bmp', bmp(w, h, 8, [bytes(v % 100 for v in r) for r in irows],
                             palette=PAL332[:100]))
write('bmp8_grey.bmp', bmp(w, h, 8, [bytes(r[1::3]) for r in rows],
                           palette=[(i, i, i) for i in range(256)]))
write('bmp8_rle.bmp', bmp(w, h, 8, palette=PAL332, comp=1,
                          raw=rle([bytes(v // 16 * 16 for v in r) for r in irows], 8)))
# RLE8 with a delta, an early end of line and a run past the end of the image.
write('bmp8_rle_delta.bmp', bmp(20, 5, 8, palette=PAL332, comp=1,
                                raw=bytes([5, 3, 0, 2, 3, 1, 4, 7, 0, 0, 200, 9, 0, 1])))
PAL16 = [(i * 17, (i * 17 + 40) % 256, 255 - i * 17) for i in range(16)]
i4 = [bytes(v >> 4 for v in r[1::3]) for r in rows]
write('bmp4.bmp', bmp(w, h, 4, [pack(r, 4) for r in i4], palette=PAL16))
write('bmp4_core.bmp', bmp(w, h, 4, [pack(r, 4) for r in i4], palette=PAL16, hdr=12))
write('bmp4_rle.bmp', bmp(w, h, 4, palette=PAL16, comp=2,
                          raw=rle([bytes(v // 4 * 4 for v in r) for r in i4], 4)))
i1 = [bytes(1 if v > 120 else 0 for v in r[1::3]) for r in rows]
write('bmp1.bmp', bmp(w, h, 1, [pack(r, 1) for r in i1], palette=[(20, 40, 60), (250, 200, 100)]))
write('bmp1_bw.bmp', bmp(w, h, 1, [pack(r, 1) for r in i1], palette=[(0, 0, 0), (255, 255, 255)]))
PY
python3 "$TMP/synth.py" "$TMP" "$CAT" "$ASTRO"

# --- Expectations from ImageMagick's PNM output -------------------------------------------------
cat > "$TMP/expect.py" <<'PY'
import glob, os, subprocess, sys

sys.path.insert(0, '..')  # tests/data: the PNM parser and digest shared with ../decode-jpeg
from pnm_fnv1a64 import as_rgb, first_pnm, fnv1a64

rows = []
for name in sorted(glob.glob('*.png') + glob.glob('*.gif') + glob.glob('*.webp') + glob.glob('*.bmp')):
    is_bmp = name.endswith('.bmp')
    args = ['convert', name] + (['-depth', '8'] if is_bmp else []) + ['pnm:-']
    # The reference reads convert's output whatever its exit status (it exits 1 after warnings
    # such as "invalid colormap index"), so we do too.
    out = subprocess.run(args, capture_output=True).stdout
    assert out, f'convert wrote nothing for {name}'
    image = first_pnm(out)
    assert image is not None, f'convert wrote an empty image for {name}'
    if is_bmp:
        data = open(name, 'rb').read()
        compression = int.from_bytes(data[30:34], 'little') if data[14] != 12 else 0
        if compression == 0:  # CImg: always RGB
            image = as_rgb(image)
    kind, w, h, low, scale = image
    rows.append(f'{name}\t{kind}\t{w}\t{h}\t{fnv1a64(low)}\t{fnv1a64(scale)}')
with open('expected.tsv', 'w') as f:
    f.write('file\ttype\twidth\theight\tlow\tscale\n')
    f.write('\n'.join(rows) + '\n')
PY
python3 "$TMP/expect.py"
echo "wrote $(($(wc -l < expected.tsv) - 1)) fixtures, $(du -sh . | cut -f1)"
