# experiments/bench/image_folder_torch.py — images per second of torchvision's and timm's ImageNet transforms, written
# out in PIL + torch (Debian has no torchvision or timm here): twin of bench_image_folder.cpp on the same folder.
"""Times batches of: PIL open + convert("RGB"), RandomResizedCrop(size) via PIL's crop + resize and a flip, then
with --rand-augment timm's RandAugment on the PIL image (or Resize(size / 0.875) + CenterCrop(size) with --eval),
to a float tensor normalised with ImageNet's mean and std, as torchvision.transforms does for PIL images.
--threads 1 decodes in this process; N > 1 in a torch DataLoader with N worker processes (its usual setting),
timed from the first batch to the last. RandAugment's operations are those of tests/golden/make_rand_augment.py.

    /usr/bin/python3 experiments/bench/image_folder_torch.py --dir DIR [--threads N] [--eval]
        [--interpolation bilinear|bicubic] [--rand-augment rand-m9-mstd0.5-inc1]
"""

import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden"))
from make_rand_augment import ENHANCERS, OPS, SIGNED, level_op  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def random_resized_crop_box(w, h, rng):
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            top, left = rng.randint(0, h - ch), rng.randint(0, w - cw)
            return left, top, left + cw, top + ch
    cw, ch = w, h  # the whole image, cut to the nearest allowed aspect ratio, centred
    if w / h < 3 / 4:
        ch = int(round(w / (3 / 4)))
    elif w / h > 4 / 3:
        cw = int(round(h * (4 / 3)))
    left, top = (w - cw) // 2, (h - ch) // 2
    return left, top, left + cw, top + ch


def parse_rand_augment(spec):
    """timm's spec keys m, n, p, mstd and inc, e.g. rand-m9-mstd0.5-inc1."""
    policy = {"m": 10.0, "n": 2, "p": 0.5, "mstd": 0.0, "inc": 0}
    for part in spec.split("-")[1:]:
        key = part[:len(part) - len(part.lstrip("abcdefghijklmnopqrstuvwxyz"))]
        policy[key] = type(policy[key])(float(part[len(key):]))
    return policy


def rand_augment(img, policy, resample, rng):
    """timm's RandAugment: n ops with replacement, each with probability p at N(m, mstd) clipped to 0..10."""
    for op in [OPS[rng.randrange(len(OPS))] for _ in range(policy["n"])]:
        if rng.random() > policy["p"]:
            continue
        m = min(10.0, max(0.0, rng.gauss(policy["m"], policy["mstd"]) if policy["mstd"] > 0 else policy["m"]))
        signed = op in SIGNED or (policy["inc"] and op in ENHANCERS)
        img = level_op(img, op, m, signed and rng.random() > 0.5, policy["inc"], resample)
    return img


def load(path, size, train, seed, resample, policy):
    rng = random.Random(seed)
    img = Image.open(path).convert("RGB")
    if train:
        left, top, right, bottom = random_resized_crop_box(img.width, img.height, rng)
        img = img.crop((left, top, right, bottom)).resize((size, size), resample)  # torchvision's resized_crop
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        if policy:
            img = rand_augment(img, policy, resample, rng)
    else:
        short = int(size / 0.875)
        w, h = img.size
        rw, rh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
        img = img.resize((rw, rh), resample)
        left, top = int(round((rw - size) / 2)), int(round((rh - size) / 2))
        img = img.crop((left, top, left + size, top + size))
    x = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x)


class Folder(torch.utils.data.Dataset):
    def __init__(self, files, size, train, resample, policy):
        self.files, self.size, self.train, self.resample, self.policy = files, size, train, resample, policy

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return load(self.files[i], self.size, self.train, i, self.resample, self.policy)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval", action="store_true")
    p.add_argument("--interpolation", choices=("bilinear", "bicubic"), default="bilinear")
    p.add_argument("--rand-augment", default="")
    a = p.parse_args()
    resample = Image.BILINEAR if a.interpolation == "bilinear" else Image.BICUBIC
    policy = parse_rand_augment(a.rand_augment) if a.rand_augment else None
    torch.set_num_threads(1)
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(a.dir) for f in fs if f.lower().endswith((".jpg", ".jpeg", ".png")))
    random.Random(1).shuffle(files)
    files = [files[i % len(files)] for i in range((a.batches + 1) * a.batch)]
    loader = torch.utils.data.DataLoader(Folder(files, a.size, not a.eval, resample, policy), batch_size=a.batch,
                                         num_workers=a.threads if a.threads > 1 else 0)
    times, start = [], None
    for b, _ in enumerate(loader):
        now = time.perf_counter()
        if b > 0:
            times.append((now - start) * 1000)
        start = now
    times.sort()
    median = times[len(times) // 2]
    print(f"RESULT framework=pytorch transform={'eval' if a.eval else 'train'} interpolation={a.interpolation} "
          f"rand_augment={a.rand_augment or 'off'} threads={a.threads} batch={a.batch} "
          f"ms_median={median:.2f} images_per_s={1000 * a.batch / median:.1f}")


if __name__ == "__main__":
    main()
