# experiments/bench/sbp_torch.py — SBP's training forward for model_step_torch.py's ViT and ConvNeXt, the
# same split as bplab's defaults (grid mask shared by the blocks, qkv mode, the paper's blocks), in PyTorch.
"""Stochastic Backpropagation forwards for the PyTorch twins of bplab's models.

ViT: the last 2/3 of the blocks split the tokens into kept rows (class token always kept) and dropped
rows. Kept rows run norm1, qkv, attention among themselves, and the MLP sub-block with autograd; dropped
rows run the same under torch.no_grad(); the output projection runs on all rows (bplab's qkv mode).
ConvNeXt: in stages 1-2 and the first 2/3 of stage 3, each block's depthwise convolution runs in full and
its point-wise part (LayerNorm, MLP, layer scale) is split over positions. The downsampling layer of an SBP
stage (LayerNorm + 2x2 stride-2 conv) runs as LayerNorm + space-to-depth + Linear, split over the output
positions, as bplab's. One grid mask is drawn per step at the coarsest SBP resolution and block-upsampled to
the finer stages.
"""

import random


def grid_keep(h, w, r, rng):
    """Kept positions (row-major indices) of an h x w grid mask with keep ratio r and a random phase:
    stride s = round(1/r), keep (i + j) mod s == t; for r > 0.5 drop (i + j) mod s == t, s = round(1/(1-r))."""
    if r > 0.5:
        s = round(1 / (1 - r))
        t = rng.randrange(s)
        return [i * w + j for i in range(h) for j in range(w) if (i + j) % s != t]
    s = round(1 / r)
    t = rng.randrange(s)
    return [i * w + j for i in range(h) for j in range(w) if (i + j) % s == t]


def upsample_keep(keep, w, factor):
    """The kept positions of a w-wide mask repeated factor x factor times (the next finer stage)."""
    kept = set(keep)
    wide = w * factor
    return [i * wide + j for i in range(wide) for j in range(wide) if (i // factor) * w + j // factor in kept]


def split_rows(torch, x, keep, drop, fn):
    """fn on x[:, keep] with autograd and on x[:, drop] without, merged back along dim 1 (Algorithm 1)."""
    kept = fn(x[:, keep])
    with torch.no_grad():
        dropped = fn(x[:, drop])
    out = kept.new_empty((x.shape[0], x.shape[1]) + tuple(kept.shape[2:]))
    return out.index_copy(1, keep, kept).index_copy(1, drop, dropped)


class Sbp:
    """Draws one step's masks and runs the SBP training forward of a ViT or a ConvNeXt."""

    def __init__(self, torch, model, kind, keep_ratio, image_size, sizes, seed=0):
        self.torch, self.model, self.kind, self.r = torch, model, kind, keep_ratio
        self.rng = random.Random(seed)
        if kind == "vit":
            self.grid = image_size // sizes["patch"]
            depth = sizes["depth"]
            self.first_sbp = depth - 2 * depth // 3
        else:
            depths = sizes["depths"]
            self.stage_sbp = [depths[0], depths[1], 2 * depths[2] // 3, 0]   # SBP blocks per stage
            self.res = [image_size // sizes["stem"] >> s for s in range(4)]

    def _indices(self, positions, n, shift=0, cls=False):
        device = next(self.model.parameters()).device
        keep = ([0] if cls else []) + [p + shift for p in positions]
        drop = sorted(set(range(n)) - set(keep))
        as_tensor = lambda v: self.torch.tensor(v, dtype=self.torch.long, device=device)   # noqa: E731
        return as_tensor(keep), as_tensor(drop)

    def forward(self, x):
        return self._vit(x) if self.kind == "vit" else self._convnext(x)

    def _vit(self, x):
        torch, m = self.torch, self.model
        x = m.patch_embed(x)
        x = torch.cat((m.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + m.pos_embed   # (B, N, C)
        keep, drop = self._indices(grid_keep(self.grid, self.grid, self.r, self.rng), x.shape[1], shift=1, cls=True)
        for i, block in enumerate(m.blocks):
            x = block(x) if i < self.first_sbp else self._vit_block(block, x, keep, drop)
        return m.head(m.norm(x)[:, 0])

    def _vit_block(self, block, x, keep, drop):
        torch, attn = self.torch, block.attn

        def attention(t):                                          # (B, n, C) -> (B, n, C), rows among themselves
            b, n, c = t.shape
            q, k, v = attn.qkv(block.norm1(t)).reshape(b, n, 3, attn.heads, c // attn.heads).permute(2, 0, 3, 1, 4).unbind(0)
            return attn.attend(q, k, v).transpose(1, 2).reshape(b, n, c)

        h = x + attn.proj(split_rows(torch, x, keep, drop, attention))
        return h + split_rows(torch, h, keep, drop, lambda t: block.mlp(block.norm2(t)))

    def _convnext(self, x):
        m = self.model
        coarsest = max(s for s in range(4) if self.stage_sbp[s])
        base = grid_keep(self.res[coarsest], self.res[coarsest], self.r, self.rng)
        x = m.stem(x)
        for s, stage in enumerate(m.stages):
            if self.stage_sbp[s]:
                keep = upsample_keep(base, self.res[coarsest], 1 << (coarsest - s))
                rows = self._indices(keep, self.res[s] * self.res[s])
                x = self._downsample(stage.downsample, x, *rows) if s > 0 else stage.downsample(x)
            else:
                x = stage.downsample(x)
            for j, block in enumerate(stage.blocks):
                x = self._convnext_block(block, x, *rows) if j < self.stage_sbp[s] else block(x)
        return m.head(x)

    def _downsample(self, downsample, x, keep, drop):
        """LayerNorm2d + 2x2 stride-2 conv of x (B, C, H, W) as LayerNorm + space-to-depth + Linear, split over
        the output positions (the conv's weight (O, C, 2, 2) read in the (dy, dx, c) order of the rows)."""
        norm, conv = downsample[0], downsample[1]
        b, c, h, w = x.shape
        t = x.permute(0, 2, 3, 1).reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5)
        t = t.reshape(b, (h // 2) * (w // 2), 4, c)                  # (B, H/2 * W/2, (dy, dx), C)
        weight = conv.weight.permute(0, 2, 3, 1).reshape(conv.out_channels, 4 * c)
        f = self.torch.nn.functional

        def part(rows):                                              # (B, n, 4, C) -> (B, n, O)
            normed = f.layer_norm(rows.float(), (c,), norm.weight, norm.bias, norm.eps)  # in f32, as autocast
            return f.linear(normed.reshape(b, rows.shape[1], 4 * c), weight, conv.bias)

        y = split_rows(self.torch, t, keep, drop, part)
        return y.reshape(b, h // 2, w // 2, -1).permute(0, 3, 1, 2)

    def _convnext_block(self, block, x, keep, drop):
        y = block.conv_dw(x).permute(0, 2, 3, 1)                   # (B, H, W, C), in full with autograd
        b, h, w, c = y.shape
        z = split_rows(self.torch, y.reshape(b, h * w, c), keep, drop, lambda t: block.mlp(block.norm(t)) * block.gamma)
        return z.reshape(b, h, w, c).permute(0, 3, 1, 2) + x
