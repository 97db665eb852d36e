#!/usr/bin/env python3
"""Writes the bundled sample reference lists (run from anywhere; output is
deterministic). PDQ hashes come from the golden manifest, i.e. from Meta's
reference implementation, never from hashmatch itself, so the demo's matches
are an interoperability check too.

known-pdq.csv: some sample images and transformed copies of them (rotated,
cropped, EXIF-rotated; copies that are not among the samples), plus random
hashes so that the list is not trivially small.
known-md5.txt: the MD5 of two sample files (one of them is not a decodable
image: digest lists still match it) plus random digests.
"""
import csv
import hashlib
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MANIFEST = os.path.join(ROOT, "tests", "data", "pdq-golden", "manifest.tsv")
SAMPLES = os.path.join(ROOT, "samples", "images")

# (golden file, id, category): sample images and copies of them.
PDQ_REFS = [
    ("skimage_astronaut__orig.jpg", "ref-0001", "sample"),
    ("skimage_camera__rot90.jpg", "ref-0002", "rotated copy"),
    ("skimage_chelsea__exif6.jpg", "ref-0003", "exif-rotated copy"),
    ("skimage_coins__crop_5pct.jpg", "ref-0004", "cropped copy"),
    ("skimage_moon__orig.jpg", "ref-0005", "sample"),
]
MD5_REFS = [("fail_text_as_jpeg__orig.jpg", "md5-0001"), ("skimage_ihc__orig.jpg", "md5-0002")]
RANDOM_PDQ = 5000
RANDOM_MD5 = 1000


def main():
    with open(MANIFEST, newline="") as f:
        golden = {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}
    rng = random.Random(2026)
    rows = [(golden[name]["pdq_hex"], ref_id, category, "golden:" + name)
            for name, ref_id, category in PDQ_REFS]
    rows += [("%064x" % rng.getrandbits(256), "rnd-%05d" % i, "random", "generated")
             for i in range(RANDOM_PDQ)]
    rng.shuffle(rows)
    with open(os.path.join(HERE, "known-pdq.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["id", "pdq", "category", "source"])
        for hash_hex, ref_id, category, source in rows:
            out.writerow([ref_id, hash_hex, category, source])

    lines = []
    for name, ref_id in MD5_REFS:
        with open(os.path.join(SAMPLES, name), "rb") as f:
            lines.append("%s %s" % (hashlib.md5(f.read()).hexdigest(), ref_id))
    lines += ["%032x rnd-md5-%04d" % (rng.getrandbits(128), i) for i in range(RANDOM_MD5)]
    rng.shuffle(lines)
    with open(os.path.join(HERE, "known-md5.txt"), "w") as f:
        f.write("# MD5 of known files: hash, then id\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
