# tests/golden/make_resize.py — writes PyTorch references for the image folders' resize (core/data/resize.cpp).
# Why: tests/test_image_folder.cpp checks bplab's antialiased bilinear resize against torch's, case by case.
"""Write resize.safetensors: torch.nn.functional.interpolate(mode="bilinear", antialias=True,
align_corners=False), the filter of PIL's Image.resize(BILINEAR) and of torchvision's tensor transforms.

Run with Debian's Python (it has torch):

    /usr/bin/python3 tests/golden/make_resize.py          # writes tests/golden/resize.safetensors

The input `image` is (H=37, W=53, C=3) integer pixel values 0..255 (stored as float32), drawn with
torch.manual_seed(2525) as torch.randint(0, 256, ...). Each case crops a source window, resizes it to
(resized_h, resized_w) in float64, keeps the window (out_h, out_w) at (out_top, out_left) of the result,
mirrors it left-right when flip = 1, and stores it channels-last as float32 under `<case>.out`, with
`<case>.plan` = [top, left, height, width, resized_h, resized_w, out_top, out_left, out_h, out_w, flip] (I64):

  down      the whole image shrunk to 16 x 16 (a scale of 2.3 x 3.3: wide filters)
  up        a 5 x 7 window at (3, 4) enlarged to 16 x 16 (plain bilinear, edge weights renormalised)
  mixed     a 30 x 9 window at (2, 40): rows shrunk, columns enlarged, to 12 x 20
  eval      the whole image resized to 20 x 28 (shorter side 20), then its centre 16 x 16 kept
  flip      `down` mirrored

Metadata: format, version, what, seed, made_by, torch.
"""

import os

import torch
import torch.nn.functional as F

from golden_io import write_safetensors

CASES = {
    # name: (top, left, height, width, resized_h, resized_w, out_top, out_left, out_h, out_w, flip)
    "down": (0, 0, 37, 53, 16, 16, 0, 0, 16, 16, 0),
    "up": (3, 4, 5, 7, 16, 16, 0, 0, 16, 16, 0),
    "mixed": (2, 40, 30, 9, 12, 20, 0, 0, 12, 20, 0),
    "eval": (0, 0, 37, 53, 20, 28, 2, 6, 16, 16, 0),
    "flip": (0, 0, 37, 53, 16, 16, 0, 0, 16, 16, 1),
}


def reference(image, plan):
    top, left, h, w, rh, rw, ot, ol, oh, ow, flip = plan
    window = image[top:top + h, left:left + w].permute(2, 0, 1).unsqueeze(0).double()  # (1, C, h, w)
    resized = F.interpolate(window, size=(rh, rw), mode="bilinear", align_corners=False, antialias=True)
    kept = resized[0, :, ot:ot + oh, ol:ol + ow]
    if flip:
        kept = kept.flip(-1)
    return kept.permute(1, 2, 0).float().contiguous()  # (oh, ow, C)


def main():
    torch.manual_seed(2525)
    image = torch.randint(0, 256, (37, 53, 3)).float()
    tensors = {"image": image}
    for name, plan in CASES.items():
        tensors[name + ".out"] = reference(image, plan)
        tensors[name + ".plan"] = torch.tensor(plan, dtype=torch.int64)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize.safetensors")
    write_safetensors(path, tensors, {"format": "bplab-golden", "version": "1", "what": "antialiased bilinear resize",
                                      "seed": "2525", "made_by": "tests/golden/make_resize.py", "torch": torch.__version__})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
