#!/usr/bin/env python3
"""FNV-1a 64 of the samples in ImageMagick's PNM output, for the decoder fixtures' expected.tsv.

Shared by tests/data/decode/make_fixtures.sh and tests/data/decode-jpeg/make_fixtures.sh, which
import it; tests/decode_test_support.hpp's fnv1a64 computes the same digest of the decoded pixels.

As a command it reads one PNM stream (`convert FILE pnm:-`) on stdin and prints, tab-separated:
    type width height low scale
where low/scale are the digests of the 8-bit samples (1 byte per pixel for P4/P5, P4 bits as
0/255, 3 for P6; for 16-bit samples the low byte, resp. (v + 128) // 257; equal for 8-bit data).
An empty stream or a 0x0 image (what convert writes after a fatal read error) prints
"error 0 0 - -". Options:
    --rgb      repeat grey samples three times and report P6 (CImg reads BMPs as RGB)
    --8bit     accept only P5/P6 with maxval 255 (the JPEG fixtures)
"""
import sys


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return f'{h:016x}'


def first_pnm(b, only_8bit=False):
    """The first image of a PNM stream: (type, width, height, low bytes, scaled bytes), or None
    for a 0x0 image. With only_8bit, anything but P5/P6 with maxval 255 is an error."""
    i = 0

    def token():
        nonlocal i
        while True:
            while b[i:i + 1].isspace():
                i += 1
            if b[i:i + 1] == b'#':
                while b[i:i + 1] not in (b'\n', b''):
                    i += 1
                continue
            break
        start = i
        while i < len(b) and not b[i:i + 1].isspace():
            i += 1
        return b[start:i]

    kind = token().decode(); w = int(token()); h = int(token())
    if w == 0 or h == 0:  # what convert writes after a fatal read error
        return None
    if kind == 'P4':
        assert not only_8bit, (kind,)
        i += 1
        rb = (w + 7) // 8
        assert len(b) >= i + rb * h
        px = bytes(0 if (b[i + y * rb + x // 8] >> (7 - x % 8)) & 1 else 255
                   for y in range(h) for x in range(w))
        return kind, w, h, px, px
    maxval = int(token()); i += 1
    assert kind in ('P5', 'P6'), kind
    assert not only_8bit or maxval == 255, (kind, maxval)
    n = w * h * (1 if kind == 'P5' else 3)
    if maxval < 256:
        assert maxval == 255, f'maxval {maxval}'
        assert len(b) >= i + n
        px = b[i:i + n]
        return kind, w, h, px, px
    assert len(b) >= i + 2 * n
    vals = [b[i + 2 * k] << 8 | b[i + 2 * k + 1] for k in range(n)]
    return kind, w, h, bytes(v & 255 for v in vals), bytes((v + 128) // 257 for v in vals)


def as_rgb(image):
    """The same image as P6, grey samples repeated three times (CImg always reads RGB)."""
    kind, w, h, low, scale = image
    if kind == 'P6':
        return image
    return ('P6', w, h, bytes(v for v in low for _ in range(3)),
            bytes(v for v in scale for _ in range(3)))


def main(argv):
    unknown = [a for a in argv if a not in ('--rgb', '--8bit')]
    if unknown:
        sys.exit(f'usage: convert FILE pnm:- | {sys.argv[0]} [--rgb] [--8bit]')
    data = sys.stdin.buffer.read()
    image = first_pnm(data, only_8bit='--8bit' in argv) if data else None
    if image is None:
        print('error\t0\t0\t-\t-')
        return
    if '--rgb' in argv:
        image = as_rgb(image)
    kind, w, h, low, scale = image
    print(f'{kind}\t{w}\t{h}\t{fnv1a64(low)}\t{fnv1a64(scale)}')


if __name__ == '__main__':
    main(sys.argv[1:])
