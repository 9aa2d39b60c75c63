# tests/golden/make_blocks.py — writes PyTorch references for one ViT block and one ConvNeXt block (forward + backward).
# Why: tests/test_golden_blocks.cpp checks bplab's VitBlock and ConvNeXtBlock, names and numbers, against timm's semantics.
"""Write golden fixtures for timm's ViT `Block` and `ConvNeXtBlock`: y, dx and every parameter gradient.

Run with Debian's Python (it has torch; timm is not needed, the blocks are written out below
in plain torch with timm's semantics and parameter names):

    /usr/bin/python3 tests/golden/make_blocks.py          # writes vit_block.safetensors, convnext_block.safetensors

The blocks (no dropout, no drop path):
  ViT (timm Block, pre-norm), x (B=2, N=5, C=16), 4 heads, mlp_ratio 4:
      h = x + ls1.gamma * attn(norm1(x));  y = h + ls2.gamma * mlp(norm2(h))
      attn: qkv = x W_qkv^T + b, reshaped (B, N, 3, heads, d), permuted (3, B, heads, N, d);
            softmax(q k^T * d^-0.5) v, heads joined back to (B, N, C), then proj.
      mlp:  fc2(GELU(fc1(.))) with exact (erf) GELU; LayerNorm eps 1e-6.
  ConvNeXt (timm ConvNeXtBlock), x channels-last (B=2, H=6, W=5, C=8), mlp_ratio 4:
      y = x + gamma * mlp(norm(conv_dw(x)))
      conv_dw: depthwise 7x7, padding 3, weight (C, 1, 7, 7) in PyTorch's layout, done in NCHW.

How the values are made (after torch.manual_seed(2525), in this order; ViT first, then ConvNeXt):
  every parameter in the order of PARAMS below: weights and biases 0.2 * N(0, 1); LayerNorm weights
  and layer-scale gammas 1 + 0.2 * N(0, 1); then x ~ N(0, 1); then dy ~ N(0, 1) (the shape of y).
  All are rounded to float32; the reference is computed in float64 from those float32 values and
  stored as float32.

Metadata: format, version, what, heads (ViT), parameters (the names, comma-separated, in the order of
timm's named_parameters()), seed, made_by, torch.

Tensors in each file (float32):
  x, every parameter under its timm name, y, dy,
  grad.x and grad.<name>: the gradients of sum(y * dy) with respect to x and each parameter.

The safetensors writer and reader below follow the format description (u64 little-endian header
length, JSON header padded to 8 bytes, raw little-endian data); no safetensors package is needed.
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

from golden_io import max_abs_diff, read_safetensors, write_safetensors

SEED = 2525
EPS = 1e-6          # LayerNorm eps of both blocks (timm's ViT and ConvNeXt)
VIT_B, VIT_N, VIT_C, VIT_HEADS = 2, 5, 16, 4
CNX_B, CNX_H, CNX_W, CNX_C = 2, 6, 5, 8
MLP_RATIO = 4
KERNEL = 7

# name -> shape, in creation order (the order of timm's named_parameters())
VIT_PARAMS = {
    "norm1.weight": (VIT_C,), "norm1.bias": (VIT_C,),
    "attn.qkv.weight": (3 * VIT_C, VIT_C), "attn.qkv.bias": (3 * VIT_C,),
    "attn.proj.weight": (VIT_C, VIT_C), "attn.proj.bias": (VIT_C,),
    "ls1.gamma": (VIT_C,),
    "norm2.weight": (VIT_C,), "norm2.bias": (VIT_C,),
    "mlp.fc1.weight": (MLP_RATIO * VIT_C, VIT_C), "mlp.fc1.bias": (MLP_RATIO * VIT_C,),
    "mlp.fc2.weight": (VIT_C, MLP_RATIO * VIT_C), "mlp.fc2.bias": (VIT_C,),
    "ls2.gamma": (VIT_C,),
}
CNX_PARAMS = {
    "gamma": (CNX_C,),
    "conv_dw.weight": (CNX_C, 1, KERNEL, KERNEL), "conv_dw.bias": (CNX_C,),
    "norm.weight": (CNX_C,), "norm.bias": (CNX_C,),
    "mlp.fc1.weight": (MLP_RATIO * CNX_C, CNX_C), "mlp.fc1.bias": (MLP_RATIO * CNX_C,),
    "mlp.fc2.weight": (CNX_C, MLP_RATIO * CNX_C), "mlp.fc2.bias": (CNX_C,),
}



# ----------------------------------------------------------------------------- the two blocks

def layer_norm(x, p, prefix):
    """LayerNorm over the last dim with `prefix`.weight and `prefix`.bias (eps 1e-6)."""
    return F.layer_norm(x, x.shape[-1:], p[prefix + ".weight"], p[prefix + ".bias"], EPS)


def mlp(x, p, prefix):
    """timm's Mlp: fc2(GELU(fc1(x))), exact GELU."""
    h = F.gelu(F.linear(x, p[prefix + ".fc1.weight"], p[prefix + ".fc1.bias"]))
    return F.linear(h, p[prefix + ".fc2.weight"], p[prefix + ".fc2.bias"])


def vit_attention(x, p, heads):
    """timm's Attention: qkv (B, N, 3C) -> (3, B, heads, N, d); softmax(q k^T d^-0.5) v; proj."""
    b, n, c = x.shape
    d = c // heads
    qkv = F.linear(x, p["attn.qkv.weight"], p["attn.qkv.bias"])
    qkv = qkv.reshape(b, n, 3, heads, d).permute(2, 0, 3, 1, 4)          # (3, B, h, N, d)
    q, k, v = qkv.unbind(0)
    a = (q @ k.transpose(-2, -1) * d ** -0.5).softmax(dim=-1)            # (B, h, N, N)
    o = (a @ v).transpose(1, 2).reshape(b, n, c)                          # (B, N, C)
    return F.linear(o, p["attn.proj.weight"], p["attn.proj.bias"])


def vit_block(x, p, heads=VIT_HEADS):
    """timm's Block (pre-norm, LayerScale, no dropout / drop path) on tokens (B, N, C)."""
    x = x + p["ls1.gamma"] * vit_attention(layer_norm(x, p, "norm1"), p, heads)
    return x + p["ls2.gamma"] * mlp(layer_norm(x, p, "norm2"), p, "mlp")


def convnext_block(x, p):
    """timm's ConvNeXtBlock on channels-last x (B, H, W, C); the depthwise conv runs in NCHW."""
    c = x.shape[-1]
    h = F.conv2d(x.permute(0, 3, 1, 2), p["conv_dw.weight"], p["conv_dw.bias"], padding=KERNEL // 2, groups=c)
    h = h.permute(0, 2, 3, 1)                                             # (B, H, W, C)
    return x + p["gamma"] * mlp(layer_norm(h, p, "norm"), p, "mlp")


def vit_block_via_torch_mha(x, p, heads=VIT_HEADS):
    """The same ViT block through nn.functional.multi_head_attention_forward: an independent check of
    the qkv split order (timm's (3, heads, d) row order is PyTorch's in_proj layout)."""
    c = x.shape[-1]
    t = layer_norm(x, p, "norm1").transpose(0, 1)                         # (N, B, C)
    a, _ = F.multi_head_attention_forward(
        t, t, t, c, heads, p["attn.qkv.weight"], p["attn.qkv.bias"], None, None, False, 0.0,
        p["attn.proj.weight"], p["attn.proj.bias"], training=False, need_weights=False)
    x = x + p["ls1.gamma"] * a.transpose(0, 1)
    return x + p["ls2.gamma"] * mlp(layer_norm(x, p, "norm2"), p, "mlp")


# ----------------------------------------------------------------------------- values, reference, checks

def make_values(shapes, x_shape, y_shape):
    """Parameters (0.2 N, or 1 + 0.2 N for norm weights and gammas), x ~ N, dy ~ N; float32."""
    values = {}
    for name, shape in shapes.items():
        z = torch.randn(shape, dtype=torch.float64)
        scaled = 1 + 0.2 * z if name.endswith("gamma") or name.startswith("norm") and name.endswith(".weight") else 0.2 * z
        values[name] = scaled.float()
    values["x"] = torch.randn(x_shape, dtype=torch.float64).float()
    values["dy"] = torch.randn(y_shape, dtype=torch.float64).float()
    return values


def reference(fn, values, names, dtype):
    """y = fn(x, params) and the gradients of sum(y * dy), computed in `dtype` from the float32 values."""
    leaves = {n: values[n].to(dtype).clone().requires_grad_(True) for n in ["x", *names]}
    params = {n: leaves[n] for n in names}
    y = fn(leaves["x"], params)
    grads = torch.autograd.grad((y * values["dy"].to(dtype)).sum(), [leaves[n] for n in ["x", *names]])
    return y.detach(), {"grad." + n: g for n, g in zip(["x", *names], grads)}


def directional_check(fn, values, names, grads, trials=4, eps=1e-6):
    """Central differences of sum(fn * dy) along random directions vs <grad, direction>, in float64.
    Returns the largest relative error (a check that the autograd reference is the derivative)."""
    gen = torch.Generator().manual_seed(7)
    base = {n: values[n].double() for n in ["x", *names]}
    dy = values["dy"].double()

    def loss(v):
        return (fn(v["x"], {n: v[n] for n in names}) * dy).sum().item()

    errors = []
    for _ in range(trials):
        direction = {n: torch.randn(base[n].shape, generator=gen, dtype=torch.float64) for n in base}
        plus = {n: base[n] + eps * direction[n] for n in base}
        minus = {n: base[n] - eps * direction[n] for n in base}
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        analytic = sum((grads["grad." + n].double() * direction[n]).sum().item() for n in base)
        errors.append(abs(numeric - analytic) / max(1.0, abs(numeric)))
    return float("nan") if any(e != e for e in errors) else max(errors)  # a NaN error is the result



def write_fixture(path, fn, shapes, x_shape, y_shape, what, extra_metadata):
    """Make the values, the float64 reference and its checks; write `path` and read it back."""
    values = make_values(shapes, x_shape, y_shape)
    names = list(shapes)
    y, grads = reference(fn, values, names, torch.float64)
    y32, grads32 = reference(fn, values, names, torch.float32)
    fd = directional_check(fn, values, names, grads)
    drift = max([max_abs_diff(y, y32)] + [max_abs_diff(grads[k], grads32[k]) for k in grads])
    print(f"{os.path.basename(path)}: |y|max {y.abs().max().item():.3f}, "
          f"|grad|max {max(g.abs().max().item() for g in grads.values()):.3f}, "
          f"finite-difference rel. error {fd:.1e}, torch f32 vs f64 {drift:.1e}")
    if not fd <= 1e-6:  # a NaN fails too
        raise RuntimeError(f"{path}: the reference gradient disagrees with finite differences ({fd:.1e})")

    tensors = dict(values)
    tensors["y"] = y.float()
    tensors.update({k: g.float() for k, g in grads.items()})
    metadata = {"format": "bplab-golden", "version": "1", "what": what, **extra_metadata,
                "parameters": ",".join(names), "seed": str(SEED), "made_by": "tests/golden/make_blocks.py", "torch": torch.__version__}
    write_safetensors(path, tensors, metadata)
    back, back_metadata = read_safetensors(path)
    if back_metadata != metadata or sorted(back) != sorted(tensors) or \
            any(not torch.equal(back[n], tensors[n]) for n in tensors):
        raise RuntimeError(f"{path}: read-back does not match what was written")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(tensors)} tensors)")
    return values


def main(argv=None):
    """Write vit_block.safetensors and convnext_block.safetensors (next to this script by default)."""
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Write golden fixtures for one ViT block and one ConvNeXt block.")
    parser.add_argument("--out-dir", default=here, help="output directory (default: next to this script)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)            # one thread: the same summation order on every run
    torch.manual_seed(SEED)

    vit_shape = (VIT_B, VIT_N, VIT_C)
    vit = write_fixture(os.path.join(args.out_dir, "vit_block.safetensors"), vit_block, VIT_PARAMS, vit_shape, vit_shape,
                        f"timm ViT Block, x (B, N, C) = {vit_shape}, heads {VIT_HEADS}, mlp_ratio {MLP_RATIO}, "
                        f"LayerNorm eps 1e-6, LayerScale, exact GELU; grads of sum(y * dy)",
                        {"heads": str(VIT_HEADS)})
    p64 = {n: vit[n].double() for n in VIT_PARAMS}
    mha = max_abs_diff(vit_block(vit["x"].double(), p64), vit_block_via_torch_mha(vit["x"].double(), p64))
    print(f"vit block vs the same block through torch's multi_head_attention_forward: {mha:.1e}")
    if not mha <= 1e-12:
        raise RuntimeError(f"the ViT attention disagrees with torch's multi-head attention ({mha:.1e})")

    cnx_shape = (CNX_B, CNX_H, CNX_W, CNX_C)
    write_fixture(os.path.join(args.out_dir, "convnext_block.safetensors"), convnext_block, CNX_PARAMS, cnx_shape,
                  cnx_shape, f"timm ConvNeXtBlock, channels-last x (B, H, W, C) = {cnx_shape}, depthwise 7x7 pad 3, "
                  f"mlp_ratio {MLP_RATIO}, LayerNorm eps 1e-6, gamma; grads of sum(y * dy)", {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
