# tests/golden/make_rand_augment.py — writes Pillow's results for RandAugment's operations (core/data/pil_ops.cpp,
# core/data/rand_augment.cpp). Why: tests/test_rand_augment.cpp requires bplab's pixels to equal Pillow's, byte for byte.
"""Write rand_augment.safetensors: images, and each RandAugment operation applied to them by Pillow.

Run with Debian's Python (Pillow and torch):

    /usr/bin/python3 tests/golden/make_rand_augment.py     # writes tests/golden/rand_augment.safetensors

Images `image.<k>` (H, W, 3), 8-bit values stored as float32, drawn with numpy's default_rng(2525):
  0  noise, 11 x 13, uniform 0..255 (every histogram bin scattered)
  1  smooth, 14 x 12, a diagonal gradient in 70..130 plus small noise (autocontrast and equalize stretch it)
  2  few, 12 x 12, five levels per channel, one channel constant (degenerate tables; square: quarter turns)
  3  large, 32 x 24, a gradient plus noise: equalize's step (pixels / 255) is above 1, as in real images
  4  one pixel, 1 x 1, and 5  thin, 2 x 5 (no interior: sharpness keeps every pixel)

`level.<i>` cases follow timm's RandAugment level functions (timm/data/auto_augment.py, as DeiT and ConvNeXt
use it): `level.<i>.spec` = [image, op, magnitude, negate, increasing, filter] (F64; op in timm's order
AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast, Brightness,
Sharpness, ShearX, ShearY, TranslateXRel, TranslateYRel; filter 0 bilinear, 1 bicubic), `level.<i>.out` the
result. For images 0, 1, 2, 4, 5, each op and set: magnitudes 0, 5.5 and 10 (signed ops: negated at 5.5), the
filter bilinear, bicubic, bilinear (the original set) or the reverse (increasing). Image 3: magnitude 5.5 only.
Image 0: magnitudes 15 and 25 too (beyond timm's 10: posterize and solarize arguments leave their ranges).

`pil.<i>` cases call Pillow directly at the edges of each argument: `pil.<i>.spec` = [image, kind, args...]:
  kind 0 affine (a0..a5, filter), 1 rotate (degrees, filter), 2 posterize (bits), 3 solarize (threshold),
  4 solarize_add (add, threshold), 5 enhance (0 color, 1 contrast, 2 brightness, 3 sharpness; factor).
Geometric `pil` cases fill with (10, 200, 30); `level` cases with timm's ImageNet mean colour (124, 116, 104).

Metadata: format, version, what, seed, made_by, pil.
"""

import os

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageOps

from golden_io import write_safetensors

FILTERS = (Image.BILINEAR, Image.BICUBIC)
MEAN_FILL = (124, 116, 104)
PIL_FILL = (10, 200, 30)
OPS = ("AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast",
       "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel")
SIGNED = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"}
ENHANCERS = {"Color": ImageEnhance.Color, "Contrast": ImageEnhance.Contrast, "Brightness": ImageEnhance.Brightness,
             "Sharpness": ImageEnhance.Sharpness}


def images():
    rng = np.random.default_rng(2525)
    noise = rng.integers(0, 256, (11, 13, 3))
    y, x = np.mgrid[0:14, 0:12]
    smooth = 70 + (y * 3 + x * 2)[..., None] + rng.integers(0, 12, (14, 12, 3))
    few = rng.choice(np.array([30, 90, 91, 200, 250]), (12, 12, 3))
    few[..., 1] = 77
    y, x = np.mgrid[0:32, 0:24]
    large = np.clip(20 + (y * 4 + x * 2)[..., None] + rng.integers(0, 40, (32, 24, 3)), 0, 255)
    one = rng.integers(0, 256, (1, 1, 3))
    thin = rng.integers(0, 256, (2, 5, 3))
    return [Image.fromarray(a.astype(np.uint8), "RGB") for a in (noise, smooth, few, large, one, thin)]


def level_op(img, op, m, negate, increasing, resample):
    """timm's AugmentOp at magnitude m, its random sign given."""
    level = m / 10.0
    signed = (lambda v: -v if negate else v)
    if op == "AutoContrast":
        return ImageOps.autocontrast(img)
    if op == "Equalize":
        return ImageOps.equalize(img)
    if op == "Invert":
        return ImageOps.invert(img)
    if op == "Rotate":
        return img.rotate(signed(level * 30.0), resample=resample, fillcolor=MEAN_FILL)
    if op == "Posterize":
        bits = int(level * 4)
        bits = 4 - bits if increasing else bits
        return img if bits >= 8 else ImageOps.posterize(img, bits)
    if op == "Solarize":
        threshold = int(level * 256)
        return ImageOps.solarize(img, 256 - threshold if increasing else threshold)
    if op == "SolarizeAdd":
        add = int(level * 110)
        table = [min(255, i + add) if i < 128 else i for i in range(256)]
        return img.point(table * 3)
    if op in ENHANCERS:
        factor = max(0.1, 1.0 + signed(level * 0.9)) if increasing else level * 1.8 + 0.1
        return ENHANCERS[op](img).enhance(factor)
    shear, pct = signed(level * 0.3), signed(level * 0.45)
    data = {"ShearX": (1, shear, 0, 0, 1, 0), "ShearY": (1, 0, 0, shear, 1, 0),
            "TranslateXRel": (1, 0, pct * img.size[0], 0, 1, 0), "TranslateYRel": (1, 0, 0, 0, 1, pct * img.size[1])}[op]
    return img.transform(img.size, Image.AFFINE, data, resample=resample, fillcolor=MEAN_FILL)


def pil_case(img, kind, args):
    if kind == 0:
        return img.transform(img.size, Image.AFFINE, tuple(args[:6]), resample=FILTERS[int(args[6])], fillcolor=PIL_FILL)
    if kind == 1:
        return img.rotate(args[0], resample=FILTERS[int(args[1])], fillcolor=PIL_FILL)
    if kind == 2:
        return ImageOps.posterize(img, int(args[0]))
    if kind == 3:
        return ImageOps.solarize(img, int(args[0]))
    if kind == 4:
        add, threshold = int(args[0]), int(args[1])
        return img.point([min(255, i + add) if i < threshold else i for i in range(256)] * 3)
    enhancer = (ImageEnhance.Color, ImageEnhance.Contrast, ImageEnhance.Brightness, ImageEnhance.Sharpness)[int(args[0])]
    return enhancer(img).enhance(args[1])


PIL_CASES = [
    # (image, kind, args)
    (0, 0, (0.9, 0.2, 1.5, -0.3, 1.1, 2.25, 0)),    # a general affine map, bilinear
    (1, 0, (0.9, 0.2, 1.5, -0.3, 1.1, 2.25, 1)),    # the same, bicubic
    (1, 0, (1.0, 0.0, -3.5, 0.0, 1.0, 0.0, 1)),     # translate by half pixels
    (1, 0, (1.7, 0.0, -4.0, 0.0, 0.6, 3.0, 1)),     # stretched: bicubic overshoot clamped
    (0, 1, (27.0, 1)), (0, 1, (-27.0, 0)), (1, 1, (333.0, 1)),
    (0, 1, (90.0, 1)),  # not square: the general path
    (2, 1, (90.0, 1)), (2, 1, (270.0, 1)), (2, 1, (-90.0, 0)), (1, 1, (180.0, 1)), (1, 1, (720.0, 1)),
    (0, 1, (1e-12, 1)), (0, 1, (-1e-12, 1)),  # -1e-12 % 360 is 360.0: the general path
    (1, 2, (0,)), (1, 2, (3,)), (1, 2, (8,)),
    (0, 3, (0,)), (0, 3, (128,)), (0, 3, (256,)),
    (0, 4, (110, 128)), (1, 4, (40, 200)),
    (0, 5, (0, 0.0)), (0, 5, (0, 1.0)), (0, 5, (0, 0.37)), (1, 5, (0, 1.9)), (0, 5, (0, -0.5)),
    (1, 5, (1, 0.1)), (1, 5, (1, 1.81)), (2, 5, (1, 1.5)),
    (0, 5, (2, 0.19)), (0, 5, (2, 1.9)),
    (0, 5, (3, 0.1)), (1, 5, (3, 1.9)), (2, 5, (3, 2.5)),
]


def as_tensor(img):
    return torch.tensor(np.asarray(img).astype(np.float32))


def main():
    imgs = images()
    tensors = {f"image.{k}": as_tensor(img) for k, img in enumerate(imgs)}
    magnitudes = {0: (0.0, 5.5, 10.0, 15.0, 25.0), 1: (0.0, 5.5, 10.0), 2: (0.0, 5.5, 10.0), 3: (5.5,), 4: (0.0, 5.5, 10.0),
                  5: (0.0, 5.5, 10.0)}
    i = 0
    for k, ms in magnitudes.items():
        for op_index, op in enumerate(OPS):
            for increasing in (0, 1):
                for j, m in enumerate(ms):
                    negate = int(m == 5.5 and (op in SIGNED or (increasing and op in ENHANCERS)))
                    filt = (j + increasing) % 2
                    out = level_op(imgs[k], op, m, negate, increasing, FILTERS[filt])
                    tensors[f"level.{i}.spec"] = torch.tensor([k, op_index, m, negate, increasing, filt], dtype=torch.float64)
                    tensors[f"level.{i}.out"] = as_tensor(out)
                    i += 1
    for i, (k, kind, args) in enumerate(PIL_CASES):
        tensors[f"pil.{i}.spec"] = torch.tensor([k, kind, *args], dtype=torch.float64)
        tensors[f"pil.{i}.out"] = as_tensor(pil_case(imgs[k], kind, args))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rand_augment.safetensors")
    write_safetensors(path, tensors, {"format": "bplab-golden", "version": "1", "what": "RandAugment's Pillow operations",
                                      "seed": "2525", "made_by": "tests/golden/make_rand_augment.py", "pil": Image.__version__})
    print(f"wrote {path}: {len(imgs)} images, {sum(1 for n in tensors if n.startswith('level.')) // 2} level cases, "
          f"{len(PIL_CASES)} Pillow cases")


if __name__ == "__main__":
    main()
