# tests/golden/make_mlp_step.py — writes a PyTorch reference for one plain-SGD step of an MLP (784-H-10, ReLU).
# Why: bplab's C++ tests compare their forward, gradients and update against this fixture (mlp_step.safetensors).
"""Write a golden fixture: one plain-SGD backprop step of MLP 784-H-10 (ReLU, cross-entropy mean), float32.

Run with Debian's Python (it has torch):

    /usr/bin/python3 tests/golden/make_mlp_step.py                     # the committed fixture
    /usr/bin/python3 tests/golden/make_mlp_step.py --hidden 256 --batch 4 --out /tmp/mlp_step_h256_b4.safetensors

How the inputs are made (in this order, after torch.manual_seed(seed)):
  1. fc1 = nn.Linear(784, H), fc2 = nn.Linear(H, 10)   (PyTorch default init: uniform biases)
  2. kaiming_normal_(fc1.weight), kaiming_normal_(fc2.weight)   (mode fan_in, nonlinearity relu)
  3. x = torch.rand(B, 784)                            (float32, uniform [0, 1))
  4. y = torch.randint(0, 10, (B,))                    (int64)

Tensors in the file (PyTorch layout: Linear weights are (out, in), y = x W^T + b):
  inputs   fc1.weight (H,784) fc1.bias (H) fc2.weight (10,H) fc2.bias (10) x (B,784) y (B) [I64]
  results  loss_before (1)          mean cross-entropy at the initial weights
           grad.<param>             gradient of loss_before w.r.t. each parameter
           updated.<param>          <param> - lr * grad.<param>
           loss_after (1)           mean cross-entropy on the same batch with the updated weights

The safetensors writer and reader below are written from the format description
(8-byte little-endian header length, JSON header, raw little-endian data); no
safetensors package is needed.
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

from golden_io import max_abs_diff, read_safetensors, write_safetensors

IN_FEATURES = 784
CLASSES = 10
PARAM_NAMES = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")

# dtype names used in safetensors headers, and their sizes in bytes


# ----------------------------------------------------------------------------- the reference step

def make_inputs(hidden, batch, seed):
    """Create parameters, x and y exactly as described in the module docstring; return a dict of tensors."""
    torch.manual_seed(seed)
    fc1 = torch.nn.Linear(IN_FEATURES, hidden)
    fc2 = torch.nn.Linear(hidden, CLASSES)
    torch.nn.init.kaiming_normal_(fc1.weight, mode="fan_in", nonlinearity="relu")
    torch.nn.init.kaiming_normal_(fc2.weight, mode="fan_in", nonlinearity="relu")
    x = torch.rand(batch, IN_FEATURES)
    y = torch.randint(0, CLASSES, (batch,))
    params = {"fc1.weight": fc1.weight, "fc1.bias": fc1.bias,
              "fc2.weight": fc2.weight, "fc2.bias": fc2.bias}
    inputs = {name: p.detach().clone() for name, p in params.items()}
    inputs["x"] = x
    inputs["y"] = y
    return inputs


def mlp_loss(p, x, y):
    """Mean cross-entropy of the MLP with parameters `p` (name -> tensor) on batch (x, y)."""
    h = F.relu(F.linear(x, p["fc1.weight"], p["fc1.bias"]))     # (B, H)
    logits = F.linear(h, p["fc2.weight"], p["fc2.bias"])        # (B, 10)
    return F.cross_entropy(logits, y, reduction="mean")


def sgd_step(inputs, lr, dtype):
    """One plain-SGD step in `dtype`; return (loss_before, grads, updated, loss_after)."""
    p = {name: inputs[name].to(dtype).clone().requires_grad_(True) for name in PARAM_NAMES}
    x, y = inputs["x"].to(dtype), inputs["y"]
    loss_before = mlp_loss(p, x, y)
    grads = dict(zip(PARAM_NAMES, torch.autograd.grad(loss_before, [p[n] for n in PARAM_NAMES])))
    with torch.no_grad():
        updated = {name: p[name] - lr * grads[name] for name in PARAM_NAMES}
        loss_after = mlp_loss(updated, x, y)
    return loss_before.detach(), grads, updated, loss_after



def parse_args(argv=None):
    """Parse the command line."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(
        description="Write a safetensors fixture: one plain-SGD step of MLP 784-H-10 (ReLU, cross-entropy mean), float32.")
    p.add_argument("--hidden", type=int, default=32, help="hidden units H (default 32)")
    p.add_argument("--batch", type=int, default=16, help="batch size B (default 16)")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (default 0.5)")
    p.add_argument("--seed", type=int, default=2525, help="torch.manual_seed value (default 2525)")
    p.add_argument("--out", default=os.path.join(here, "mlp_step.safetensors"),
                   help="output file (default: mlp_step.safetensors next to this script)")
    return p.parse_args(argv)


def main(argv=None):
    """Build the inputs, run the float32 step, cross-check it in float64, write and re-read the file."""
    args = parse_args(argv)
    torch.set_num_threads(1)            # one thread: the same summation order on every run
    inputs = make_inputs(args.hidden, args.batch, args.seed)
    loss_before, grads, updated, loss_after = sgd_step(inputs, args.lr, torch.float32)

    # Not stored: the same step in float64 from the same float32 inputs, to show how
    # far float32 rounding moves the results (a guide for C++ test tolerances).
    ref_before, ref_grads, ref_updated, ref_after = sgd_step(inputs, args.lr, torch.float64)
    print(f"f32 vs f64: loss_before {max_abs_diff(loss_before, ref_before):.2e}, "
          f"loss_after {max_abs_diff(loss_after, ref_after):.2e}, "
          f"grads {max(max_abs_diff(grads[n], ref_grads[n]) for n in PARAM_NAMES):.2e}, "
          f"updated {max(max_abs_diff(updated[n], ref_updated[n]) for n in PARAM_NAMES):.2e}")

    tensors = dict(inputs)
    tensors["loss_before"] = loss_before.reshape(1)
    tensors["loss_after"] = loss_after.reshape(1)
    for name in PARAM_NAMES:
        tensors["grad." + name] = grads[name]
        tensors["updated." + name] = updated[name]
    metadata = {
        "format": "bplab-golden",
        "version": "1",
        "what": f"one SGD step, MLP {IN_FEATURES}-{args.hidden}-{CLASSES} ReLU, cross-entropy mean",
        "lr": repr(args.lr),
        "hidden": str(args.hidden),
        "batch": str(args.batch),
        "seed": str(args.seed),
        "made_by": "tests/golden/make_mlp_step.py",
        "torch": torch.__version__,
    }
    write_safetensors(args.out, tensors, metadata)

    back, back_meta = read_safetensors(args.out)
    if back_meta != metadata or sorted(back) != sorted(tensors) or \
            any(not torch.equal(back[n], tensors[n].detach()) for n in tensors):
        print(f"make_mlp_step: {args.out}: read-back does not match what was written", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {len(tensors)} tensors)")
    print(f"loss_before {loss_before.item():.7f}  loss_after {loss_after.item():.7f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
