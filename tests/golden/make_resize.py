# tests/golden/make_resize.py — writes PyTorch and PIL references for the image folders' resize (core/data/resize.cpp).
# Why: tests/test_image_folder.cpp checks bplab's antialiased bilinear and bicubic resize against both, case by case.
"""Write resize.safetensors: torch.nn.functional.interpolate(mode="bilinear" or "bicubic", antialias=True,
align_corners=False), the filters of PIL's Image.resize(BILINEAR / BICUBIC) and of torchvision's tensor
transforms; and, for the bicubic cases, PIL's own 8-bit result.

Run with Debian's Python (it has torch):

    /usr/bin/python3 tests/golden/make_resize.py          # writes tests/golden/resize.safetensors

The input `image` is (H=37, W=53, C=3) integer pixel values 0..255 (stored as float32), drawn with
torch.manual_seed(2525) as torch.randint(0, 256, ...). Each case crops a source window, resizes it to
(resized_h, resized_w) in float64, keeps the window (out_h, out_w) at (out_top, out_left) of the result,
mirrors it left-right when flip = 1, and stores it channels-last as float32 under `<case>.out`, with
`<case>.plan` = [top, left, height, width, resized_h, resized_w, out_top, out_left, out_h, out_w, flip, filter]
(I64; filter 0 bilinear, 1 bicubic). Bicubic overshoots: as PIL clips each pass (rows, then columns) to 8 bits,
the torch reference resizes the width, clamps to 0..255, then the height, and clamps again.
Bicubic cases also store `<case>.pil`: PIL's crop(window).resize(BICUBIC) of the 8-bit image (torchvision's
resized_crop), kept and
mirrored the same way (PIL rounds to 8 bits after each pass, so it differs from the float result by about a level).

  down      the whole image shrunk to 16 x 16 (a scale of 2.3 x 3.3: wide filters)
  up        a 5 x 7 window at (3, 4) enlarged to 16 x 16 (plain bilinear, edge weights renormalised)
  mixed     a 30 x 9 window at (2, 40): rows shrunk, columns enlarged, to 12 x 20
  eval      the whole image resized to 20 x 28 (shorter side 20), then its centre 16 x 16 kept
  flip      `down` mirrored
  *_bicubic the five above with the bicubic filter

Metadata: format, version, what, seed, made_by, torch.
"""

import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from golden_io import write_safetensors

CASES = {
    # name: (top, left, height, width, resized_h, resized_w, out_top, out_left, out_h, out_w, flip, filter)
    "down": (0, 0, 37, 53, 16, 16, 0, 0, 16, 16, 0, 0),
    "up": (3, 4, 5, 7, 16, 16, 0, 0, 16, 16, 0, 0),
    "mixed": (2, 40, 30, 9, 12, 20, 0, 0, 12, 20, 0, 0),
    "eval": (0, 0, 37, 53, 20, 28, 2, 6, 16, 16, 0, 0),
    "flip": (0, 0, 37, 53, 16, 16, 0, 0, 16, 16, 1, 0),
}
CASES.update({name + "_bicubic": plan[:11] + (1,) for name, plan in list(CASES.items())})
MODES = ("bilinear", "bicubic")


def reference(image, plan):
    top, left, h, w, rh, rw, ot, ol, oh, ow, flip, mode = plan
    window = image[top:top + h, left:left + w].permute(2, 0, 1).unsqueeze(0).double()  # (1, C, h, w)
    across = F.interpolate(window, size=(h, rw), mode=MODES[mode], align_corners=False, antialias=True).clamp(0, 255)
    resized = F.interpolate(across, size=(rh, rw), mode=MODES[mode], align_corners=False, antialias=True).clamp(0, 255)
    kept = resized[0, :, ot:ot + oh, ol:ol + ow]
    if flip:
        kept = kept.flip(-1)
    return kept.permute(1, 2, 0).float().contiguous()  # (oh, ow, C)


def pil_reference(image, plan):
    top, left, h, w, rh, rw, ot, ol, oh, ow, flip, _ = plan
    pil = Image.fromarray(image.numpy().astype(np.uint8), "RGB")
    resized = np.asarray(pil.crop((left, top, left + w, top + h)).resize((rw, rh), Image.BICUBIC))  # (rh, rw, C)
    kept = resized[ot:ot + oh, ol:ol + ow]
    if flip:
        kept = kept[:, ::-1]
    return torch.tensor(kept.astype(np.float32))


def main():
    torch.manual_seed(2525)
    image = torch.randint(0, 256, (37, 53, 3)).float()
    tensors = {"image": image}
    for name, plan in CASES.items():
        tensors[name + ".out"] = reference(image, plan)
        tensors[name + ".plan"] = torch.tensor(plan, dtype=torch.int64)
        if plan[11] == 1:
            tensors[name + ".pil"] = pil_reference(image, plan)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize.safetensors")
    write_safetensors(path, tensors, {"format": "bplab-golden", "version": "1", "what": "antialiased bilinear and bicubic resize",
                                      "seed": "2525", "made_by": "tests/golden/make_resize.py", "torch": torch.__version__, "pil": Image.__version__})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
