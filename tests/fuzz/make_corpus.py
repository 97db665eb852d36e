#!/usr/bin/env python3
"""Regenerates the fuzzers' seed corpus, tests/fuzz/corpus/<target>/, from the
decoder fixtures in tests/data (nothing else): per format, its small fixtures,
plus for each a truncated copy and one with a few bytes flipped, so that
the fuzzers start from both the success and the error paths. hm_fuzz_decode
gets a few of every format; hm_fuzz_pdq gets small synthetic images in its own
input layout (see fuzz_pdq.cpp). Deterministic (fixed seed)."""
import pathlib
import random
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
OUT = ROOT / "tests" / "fuzz" / "corpus"
MAX_SEED = 9000  # bytes: small seeds keep each fuzz iteration fast

FORMATS = {
    "jpeg": sorted((DATA / "decode-jpeg").glob("*.jpg")),
    "png": sorted((DATA / "decode").glob("*.png")),
    "webp": sorted((DATA / "decode").glob("*.webp")),
    "gif": sorted((DATA / "decode").glob("*.gif")),
    "bmp": sorted((DATA / "decode").glob("*.bmp")),
}


def variants(rng, path):
    body = path.read_bytes()
    yield path.name, body
    yield "trunc_" + path.name, body[: max(1, len(body) * rng.randint(20, 90) // 100)]
    flipped = bytearray(body)
    for _ in range(3):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    yield "flip_" + path.name, bytes(flipped)


def main():
    rng = random.Random(20240601)
    if OUT.exists():
        shutil.rmtree(OUT)
    for fmt, files in FORMATS.items():
        small = [f for f in files if f.stat().st_size <= MAX_SEED]
        for target, picks in (("hm_fuzz_" + fmt, small), ("hm_fuzz_decode", small[:3])):
            d = OUT / target
            d.mkdir(parents=True, exist_ok=True)
            for f in picks:
                for name, body in variants(rng, f):
                    (d / name).write_bytes(body)
    (OUT / "hm_fuzz_decode" / "empty").write_bytes(b"")
    pdq = OUT / "hm_fuzz_pdq"
    pdq.mkdir(parents=True, exist_ok=True)
    # width-1, height-1 (little-endian), flags (channels, cmyk, grey, dihedral), samples.
    for i, (w, h, flags) in enumerate([(1, 1, 0), (4, 7, 1), (64, 64, 17), (37, 5, 2),
                                       (16, 16, 6), (600, 9, 1), (20, 520, 24), (3, 3, 33)]):
        head = bytes([(w - 1) & 255, (w - 1) >> 8, (h - 1) & 255, (h - 1) >> 8, flags])
        (pdq / f"img_{i}").write_bytes(head + bytes(rng.randrange(256) for _ in range(97)))


if __name__ == "__main__":
    main()
