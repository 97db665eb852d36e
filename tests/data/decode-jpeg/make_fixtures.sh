#!/usr/bin/env bash
# Regenerates the JPEG decoder fixtures in this folder and expected.tsv, the pixels the reference
# would hash for each of them. Needs ImageMagick 6.9.11-60 Q16 (`convert`, the reference's own
# loader, which decodes JPEG with libjpeg-turbo's defaults), libjpeg-turbo-progs (cjpeg), a C
# compiler with the libjpeg headers (one helper writes plain Adobe CMYK, which ImageMagick cannot)
# and python3 (standard library only). The tests only read the results; they never run this.
#
# expected.tsv columns:
#   file     the fixture
#   type     ImageMagick's PNM type for `convert FILE pnm:-`: P5 (grey) or P6 (RGB); "error" when
#            ImageMagick cannot read the file at all
#   width, height
#   fnv1a64  FNV-1a 64 (hex) of the PNM's samples: 1 byte per pixel for P5, 3 for P6 ("-" for errors)
#   warning  1 when ImageMagick warned while reading (corrupt or truncated data), else 0
set -euo pipefail
cd "$(dirname "$0")"
SRC=../pdq-golden/images
CAT=$SRC/skimage_chelsea__orig.jpg
ASTRO=$SRC/skimage_astronaut__orig.jpg
CAMERA=$SRC/skimage_camera__orig.jpg

rm -f ./*.jpg expected.tsv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Sources are resized from the golden photos; every fixture is small.
convert "$CAT" -resize 97x65! "ppm:$TMP/cat.ppm"
convert "$ASTRO" -resize 80x80! "ppm:$TMP/astro.ppm"
convert "$CAMERA" -resize 64x48! "pgm:$TMP/camera.pgm"

# --- Chroma subsampling (baseline Huffman, written by ImageMagick) ---------------------------
convert "$TMP/cat.ppm" -quality 85 -sampling-factor 2x2 jpeg_420.jpg
convert "$TMP/cat.ppm" -quality 85 -sampling-factor 2x1 jpeg_422.jpg
convert "$TMP/cat.ppm" -quality 85 -sampling-factor 1x1 jpeg_444.jpg
convert "$TMP/cat.ppm" -quality 85 -sampling-factor 1x2 jpeg_440.jpg
convert "$TMP/cat.ppm" -quality 85 -sampling-factor 4x1 jpeg_411.jpg

# --- Coding modes -----------------------------------------------------------------------------
convert "$TMP/astro.ppm" -quality 85 -interlace JPEG jpeg_progressive.jpg
cjpeg -quality 85 -arithmetic -outfile jpeg_arith.jpg "$TMP/cat.ppm"
cjpeg -quality 85 -arithmetic -progressive -outfile jpeg_arith_progressive.jpg "$TMP/astro.ppm"
# Restart markers every MCU row, and every 3 MCUs (not a whole row).
cjpeg -quality 85 -restart 1 -outfile jpeg_restart_rows.jpg "$TMP/cat.ppm"
cjpeg -quality 85 -restart 3B -outfile jpeg_restart_blocks.jpg "$TMP/cat.ppm"
cjpeg -quality 85 -restart 2B -progressive -outfile jpeg_restart_progressive.jpg "$TMP/astro.ppm"
# Sequential but not interleaved: one scan per component (Huffman and arithmetic).
printf '0;\n1;\n2;\n' > "$TMP/noninterleaved.txt"
cjpeg -quality 85 -scans "$TMP/noninterleaved.txt" -outfile jpeg_noninterleaved.jpg "$TMP/cat.ppm"
cjpeg -quality 85 -arithmetic -scans "$TMP/noninterleaved.txt" \
  -outfile jpeg_noninterleaved_arith.jpg "$TMP/cat.ppm"
# Colour stored as RGB (no YCbCr transform; Adobe marker, transform 0).
cjpeg -quality 90 -rgb -outfile jpeg_rgb.jpg "$TMP/cat.ppm"

# --- Colour spaces ------------------------------------------------------------------------------
convert "$TMP/camera.pgm" -quality 85 jpeg_grey.jpg
convert "$TMP/camera.pgm" -quality 85 -interlace JPEG jpeg_grey_progressive.jpg
# Three YCbCr components whose pixels are all grey: ImageMagick writes P5 for it.
convert "$TMP/camera.pgm" -quality 85 -type TrueColor jpeg_allgrey_ycbcr.jpg
# ImageMagick writes CMYK as YCCK (Adobe transform 2), its values inverted (Adobe style).
convert "$TMP/cat.ppm" -colorspace CMYK -quality 90 jpeg_ycck.jpg
convert "$TMP/astro.ppm" -colorspace CMYK -quality 90 -sampling-factor 1x1 jpeg_ycck_444.jpg
# Plain CMYK (Adobe transform 0, and with no Adobe marker at all), from ImageMagick's own CMYK
# samples inverted as ImageMagick itself stores them.
cat > "$TMP/cmyk.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
/* cmyk W H ADOBE < raw 8-bit CMYK > out.jpg: stores 255 - v (Adobe inverted). */
int main(int argc, char** argv) {
  int w = atoi(argv[1]), h = atoi(argv[2]), adobe = atoi(argv[3]);
  unsigned char* px = malloc((size_t)w * h * 4);
  if (fread(px, 4, (size_t)w * h, stdin) != (size_t)w * h) return 1;
  for (size_t i = 0; i < (size_t)w * h * 4; ++i) px[i] = 255 - px[i];
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, stdout);
  c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, JCS_CMYK);
  c.write_Adobe_marker = adobe;
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_start_compress(&c, TRUE);
  for (int y = 0; y < h; ++y) {
    JSAMPROW row = px + (size_t)y * w * 4;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return 0;
}
C
cc -O1 -o "$TMP/cmyk" "$TMP/cmyk.c" -ljpeg
convert "$TMP/cat.ppm" -colorspace CMYK -depth 8 cmyk:- | "$TMP/cmyk" 97 65 1 > jpeg_cmyk_adobe.jpg
convert "$TMP/cat.ppm" -colorspace CMYK -depth 8 cmyk:- | "$TMP/cmyk" 97 65 0 > jpeg_cmyk_no_adobe.jpg

# --- Odd sizes (partial MCUs, edge upsampling) --------------------------------------------------
convert "$CAT" -resize 1x1! -quality 90 jpeg_1x1.jpg
convert "$CAT" -resize 7x3! -quality 90 jpeg_7x3.jpg
convert "$CAT" -resize 17x9! -quality 90 -sampling-factor 2x2 jpeg_17x9_420.jpg
convert "$CAT" -resize 17x9! -quality 90 -sampling-factor 2x1 jpeg_17x9_422.jpg
convert "$CAT" -resize 17x9! -quality 90 -interlace JPEG jpeg_17x9_progressive.jpg
convert "$CAMERA" -resize 17x9! -quality 90 jpeg_17x9_grey.jpg

# --- Byte surgery -------------------------------------------------------------------------------
cat > "$TMP/surgery.py" <<'PY'
import struct

def segments(d):
    """(marker, start, end) of each marker segment before the first SOS, then the SOS."""
    out, i = [], 2
    while True:
        assert d[i] == 0xff
        m = d[i + 1]
        n = struct.unpack('>H', d[i + 2:i + 4])[0]
        out.append((m, i, i + 2 + n))
        if m == 0xda:
            return out
        i += 2 + n

base = open('jpeg_420.jpg', 'rb').read()
prog = open('jpeg_progressive.jpg', 'rb').read()

# EXIF Orientation = 6 in an APP1 right after SOI: the stored pixels must not be rotated.
tiff = b'II*\x00' + struct.pack('<I', 8) + struct.pack('<H', 1) + \
       struct.pack('<HHII', 0x0112, 3, 1, 6) + struct.pack('<I', 0)
app1 = b'Exif\x00\x00' + tiff
open('jpeg_exif6.jpg', 'wb').write(base[:2] + b'\xff\xe1' + struct.pack('>H', 2 + len(app1)) + app1 + base[2:])

# Truncated: the first 60 % of the bytes (libjpeg pads the rest: grey for baseline).
open('jpeg_truncated_60pct.jpg', 'wb').write(base[:len(base) * 6 // 10])
open('jpeg_truncated_progressive.jpg', 'wb').write(prog[:len(prog) * 6 // 10])

# Three stray bytes before the first DHT marker: "extraneous bytes before marker".
dht = next(s for (m, s, e) in segments(base) if m == 0xc4)
open('jpeg_extraneous.jpg', 'wb').write(base[:dht] + b'\x01\x02\x03' + base[dht:])

# A 12-bit precision SOF (extended sequential, SOF1) over 8-bit data: an 8-bit libjpeg build
# (ImageMagick's and ours) rejects it from the header.
m, s, e = next(t for t in segments(base) if t[0] == 0xc0)
d = bytearray(base)
d[s + 1] = 0xc1
d[s + 4] = 12
open('jpeg_precision12.jpg', 'wb').write(bytes(d))
PY
python3 "$TMP/surgery.py"

# --- Expectations from ImageMagick's PNM output -------------------------------------------------
cat > "$TMP/expect.py" <<'PY'
import glob, subprocess, sys

sys.path.insert(0, '..')  # tests/data: the PNM parser and digest shared with ../decode
from pnm_fnv1a64 import first_pnm, fnv1a64

rows = []
for name in sorted(glob.glob('*.jpg')):
    r = subprocess.run(['convert', name, 'pnm:-'], capture_output=True)
    warned = int(bool(r.stderr.strip()))
    image = first_pnm(r.stdout, only_8bit=True) if r.stdout else None
    if image is None:
        rows.append(f'{name}\terror\t0\t0\t-\t{warned}')
        continue
    kind, w, h, px, _ = image
    rows.append(f'{name}\t{kind}\t{w}\t{h}\t{fnv1a64(px)}\t{warned}')
with open('expected.tsv', 'w') as f:
    f.write('file\ttype\twidth\theight\tfnv1a64\twarning\n')
    f.write('\n'.join(rows) + '\n')
PY
python3 "$TMP/expect.py"
echo "wrote $(($(wc -l < expected.tsv) - 1)) fixtures, $(du -sh . | cut -f1)"
