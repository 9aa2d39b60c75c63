# experiments/bench/check_sbp_torch.py — the PyTorch SBP twin's ConvNeXt forward equals the exact model's:
# every split there (blocks and downsampling) is point-wise over positions, so only rounding may differ.
"""Usage: /usr/bin/python3 experiments/bench/check_sbp_torch.py [--model convnext-mini] [--batch 4]

Runs model_step_torch.py's ConvNeXt exact and through sbp_torch.Sbp at keep 0.5, prints the largest
difference of the outputs and the gradient norm reaching a split downsampling layer, and exits 1 if the
outputs differ by more than 1e-5 of their magnitude or that gradient is zero.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch                                     # noqa: E402
import model_step_torch as twin                  # noqa: E402
from sbp_torch import Sbp                        # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="convnext-mini", help="a ConvNeXt of model_step_torch.py (default convnext-mini)")
    p.add_argument("--batch", type=int, default=4, help="batch size (default 4)")
    args = p.parse_args()
    targs = twin.parse_args(["--model", args.model, "--batch", str(args.batch)])
    kind, _, sizes = twin.MODELS[targs.model]
    if kind != "convnext":
        p.error(f"--model {args.model}: a ConvNeXt is needed (its SBP forward is exact; a ViT's in qkv mode is not)")
    model = twin.build_model(torch, targs)
    model.train()
    x = torch.rand(args.batch, targs.in_channels, targs.image_size, targs.image_size)
    sbp = Sbp(torch, model, kind, 0.5, targs.image_size, sizes, 0)
    with torch.no_grad():
        exact, split = model(x), sbp.forward(x)
    diff, scale = (exact - split).abs().max().item(), exact.abs().max().item()
    model.zero_grad()
    sbp.forward(x).sum().backward()
    grad = model.stages[1].downsample[1].weight.grad.norm().item()
    print(f"{args.model}: max |exact - SBP| = {diff:.3g} (largest |output| {scale:.3g}); "
          f"stage 1 downsampling weight gradient norm {grad:.4g}")
    return 0 if diff <= 1e-5 * max(scale, 1.0) and grad > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
