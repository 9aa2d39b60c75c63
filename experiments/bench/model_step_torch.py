# experiments/bench/model_step_torch.py — times one PyTorch CPU training step of bplab's image models (ViT, ConvNeXt).
# Why: the baseline that bench_model_step.cpp is compared with (same architectures, sizes, batch, threads).
"""Time one float32 training step of a ViT or ConvNeXt with PyTorch on the CPU.

The models are written here in plain torch (timm is not installed), with the same
architecture, sizes and parameter names as bplab's models/registry.cpp:

    vit-mini       28x28 input, patch 4, dim 96, depth 6, heads 3, mlp ratio 4
    vit-tiny/small/base      224x224, patch 16 (timm's sizes)
    convnext-mini  32x32 input, 2x2 stride-2 stem, depths (2,2,4,2), dims (32,64,128,256)
    convnext-atto/tiny/base  224x224, 4x4 stem (timm's sizes)

ViT: class token, learned position embedding, pre-norm blocks (LayerNorm eps 1e-6,
qkv/proj attention with an explicit softmax(q k^T * scale) v, since torch 1.13 has no
F.scaled_dot_product_attention; MLP with exact GELU), final LayerNorm, head on the
class token. ConvNeXt: timm's idioms — NCHW convs, channels-first LayerNorm through
permutes (LayerNorm2d), blocks dwconv7x7 -> permute -> LN -> Linear 4x -> GELU ->
Linear -> permute -> gamma (1e-6) -> residual; downsampling LN + 2x2 s2 conv; head
global average pool -> LN -> Linear. The script prints the parameter count; it must
equal bench_model_step's.

One step = model.zero_grad(set_to_none=True) (bplab also drops gradients), forward,
cross-entropy (mean), backward, torch.optim.AdamW (lr 1e-4, betas (0.9, 0.999), eps
1e-8, weight decay 0.05 except on 1-D tensors, cls_token and pos_embed: timm's groups,
bplab's weight_decay_mask), on one fixed random batch (B, C_in, S, S) and labels.

Threads and BLAS are handled as in mlp_step_torch.py (whose helpers this imports):
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set before torch loads, openblas_set_num_threads,
OMP_WAIT_POLICY=PASSIVE by default, a warning for the reference BLAS or a busy machine.

Peak memory. bplab reports its allocator's count of live tensor bytes. The honest
PyTorch counterpart is the same count from c10's CPU allocator: after the timed steps
the script runs one more step under torch.profiler(profile_memory=True), whose
allocation events carry the allocator's running total of bytes allocated since
profiling began (total_allocated); its maximum is the step's peak above what was
already live. Adding the persistent tensors (parameters, AdamW state, batch) gives the
peak total, comparable with bplab's peak_bytes. Not counted on either side: OpenBLAS's
and oneDNN's private buffers, the C++/Python heaps. The process's max RSS is printed
too, for context only (it includes Python, the libraries and freed-but-kept heap pages).

    /usr/bin/python3 experiments/bench/model_step_torch.py --model vit-mini --threads 1

The last line is machine-readable:

    RESULT framework=pytorch model=M threads=N ms_median=X ms_mean=Y peak_mb=P peak_above_mb=Q params=K
"""

import argparse
import math
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_step_torch import busy_fraction, describe_blas, openblas_threads   # noqa: E402  (no torch import)
from sbp_torch import Sbp                                                    # noqa: E402

MIB = 1024.0 * 1024.0

# name: (kind, image size, sizes) — the table of models/registry.cpp.
MODELS = {
    "vit-tiny": ("vit", 224, dict(patch=16, dim=192, depth=12, heads=3)),
    "vit-small": ("vit", 224, dict(patch=16, dim=384, depth=12, heads=6)),
    "vit-base": ("vit", 224, dict(patch=16, dim=768, depth=12, heads=12)),
    "vit-mini": ("vit", 28, dict(patch=4, dim=96, depth=6, heads=3)),
    "convnext-atto": ("convnext", 224, dict(stem=4, depths=(2, 2, 6, 2), dims=(40, 80, 160, 320))),
    "convnext-tiny": ("convnext", 224, dict(stem=4, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768))),
    "convnext-base": ("convnext", 224, dict(stem=4, depths=(3, 3, 27, 3), dims=(128, 256, 512, 1024))),
    "convnext-mini": ("convnext", 32, dict(stem=2, depths=(2, 2, 4, 2), dims=(32, 64, 128, 256))),
}


def parse_args(argv=None):
    """Parse the command line (the flags of bench_model_step)."""
    p = argparse.ArgumentParser(
        description="Time one PyTorch CPU training step (forward, cross-entropy, backward, AdamW) of a "
                    "ViT or ConvNeXt built like bplab's, float32.")
    p.add_argument("--model", default="vit-mini", choices=sorted(MODELS), help="model (default vit-mini)")
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--image-size", type=int, default=0, help="input side S (default: the model's)")
    p.add_argument("--classes", type=int, default=10, help="classes (default 10)")
    p.add_argument("--in-channels", type=int, default=1, help="input channels (default 1)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before timing (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help=f"threads for torch and OpenBLAS (default: os.cpu_count() = {os.cpu_count()})")
    p.add_argument("--omp-wait-policy", choices=("passive", "active", "inherit"), default="passive",
                   help="OMP_WAIT_POLICY for libgomp (default passive; see mlp_step_torch.py)")
    p.add_argument("--seed", type=int, default=2525, help="torch.manual_seed value (default 2525)")
    p.add_argument("--sbp-keep", type=float, default=1.0, help="SBP keep ratio (default 1: no SBP; see sbp_torch.py)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu); on cuda, peak memory is "
                                                   "torch.cuda.max_memory_allocated over one extra step")
    p.add_argument("--tf32", action="store_true",
                   help="cuda: f32 matrix products and convolutions on TF32 tensor cores (allow_tf32), as bplab's --tf32")
    p.add_argument("--amp", choices=("bf16",), default=None,
                   help="bf16 mixed precision: forward and loss under torch.autocast(dtype=bfloat16), as timm's --amp "
                        "--amp-dtype bfloat16 (bplab's --amp bf16 rounds the operands of the linear layers, convolutions, attention "
                        "and GELU, and keeps f32 outputs)")
    p.add_argument("--sdpa", action="store_true",
                   help="ViT attention through F.scaled_dot_product_attention (torch >= 2.0) instead of the explicit "
                        "softmax(q k^T * scale) v that bplab's CPU comparisons use")
    p.add_argument("--profile", type=int, default=0,
                   help="N more steps under torch.profiler, its table of kernels/ops printed (default 0: off)")
    args = p.parse_args(argv)
    for name in ("batch", "in_channels", "steps", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} {getattr(args, name)}: must be at least 1")
    if not 0 < args.sbp_keep <= 1:
        p.error(f"--sbp-keep {args.sbp_keep}: expected 0 < r <= 1")
    if args.classes < 2:
        p.error(f"--classes {args.classes}: must be at least 2")
    if args.warmup < 0:
        p.error(f"--warmup {args.warmup}: must be at least 0")
    if args.profile < 0:
        p.error(f"--profile {args.profile}: must be at least 0")
    if args.image_size == 0:
        args.image_size = MODELS[args.model][1]
    return args


def define_models(torch):
    """The model classes (defined once torch is imported, after the thread variables are set)."""
    nn, F = torch.nn, torch.nn.functional

    def trunc_normal_(t, std):
        nn.init.trunc_normal_(t, std=std, a=-2 * std, b=2 * std)

    def init_weights(module):
        """timm's: trunc-normal(0.02) weights of linears and convs, zero biases; LayerNorm (1, 0)."""
        for m in module.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                trunc_normal_(m.weight, 0.02)
                nn.init.zeros_(m.bias)

    class LayerNorm(nn.LayerNorm):
        """nn.LayerNorm computed in f32, as CUDA's autocast runs layer_norm (on its f32 list; torch 1.13's CPU
        autocast leaves it out and then fails on a bf16 input with f32 weights); a no-op cast without --amp."""
        def forward(self, x):
            return F.layer_norm(x.float(), self.normalized_shape, self.weight, self.bias, self.eps)

    class Mlp(nn.Module):
        def __init__(self, dim, hidden):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))                  # exact (erf) GELU, as bplab

    class Attention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads, self.scale = heads, (dim // heads) ** -0.5
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

        sdpa = False    # --sdpa: F.scaled_dot_product_attention (fused kernels, no map kept) instead of explicit

        def attend(self, q, k, v):                                      # (B, h, N, d) each -> (B, h, N, d)
            if self.sdpa:
                return F.scaled_dot_product_attention(q, k, v)          # its default scale is d^-0.5 too
            attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)   # (B, h, N, N)
            return attn @ v

        def forward(self, x):
            b, n, c = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
            return self.proj(self.attend(q, k, v).transpose(1, 2).reshape(b, n, c))

    class VitBlock(nn.Module):
        def __init__(self, dim, heads, mlp_ratio):
            super().__init__()
            self.norm1, self.attn = LayerNorm(dim, eps=1e-6), Attention(dim, heads)
            self.norm2, self.mlp = LayerNorm(dim, eps=1e-6), Mlp(dim, int(dim * mlp_ratio))

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self, in_channels, dim, patch):
            super().__init__()
            self.proj = nn.Conv2d(in_channels, dim, patch, stride=patch)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)         # (B, N-1, C)

    class Vit(nn.Module):
        def __init__(self, image, in_channels, classes, patch, dim, depth, heads, mlp_ratio=4.0):
            super().__init__()
            tokens = (image // patch) ** 2 + 1
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
            self.patch_embed = PatchEmbed(in_channels, dim, patch)
            self.blocks = nn.Sequential(*[VitBlock(dim, heads, mlp_ratio) for _ in range(depth)])
            self.norm, self.head = LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)
            init_weights(self)
            trunc_normal_(self.cls_token, 1e-6)
            trunc_normal_(self.pos_embed, 0.02)

        def forward(self, x):                                      # (B, C_in, S, S)
            x = self.patch_embed(x)
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed  # (B, N, C)
            x = self.norm(self.blocks(x))
            return self.head(x[:, 0])

    class LayerNorm2d(LayerNorm):
        """timm's LayerNorm2d: LayerNorm over channels of an NCHW map, through permutes."""
        def forward(self, x):
            return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    class ConvNeXtBlock(nn.Module):
        def __init__(self, dim, layer_scale=1e-6, mlp_ratio=4):
            super().__init__()
            self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
            self.norm, self.mlp = LayerNorm(dim, eps=1e-6), Mlp(dim, mlp_ratio * dim)
            self.gamma = nn.Parameter(layer_scale * torch.ones(dim))

        def forward(self, x):                                      # timm's ConvNeXtBlock (conv_mlp=False)
            shortcut = x
            x = self.conv_dw(x).permute(0, 2, 3, 1)                # (B, H, W, C)
            x = self.mlp(self.norm(x)).permute(0, 3, 1, 2)         # (B, C, H, W)
            return x.mul(self.gamma.reshape(1, -1, 1, 1)) + shortcut

    class Stage(nn.Module):
        def __init__(self, in_dim, dim, depth, first):
            super().__init__()
            self.downsample = nn.Identity() if first else \
                nn.Sequential(LayerNorm2d(in_dim, eps=1e-6), nn.Conv2d(in_dim, dim, 2, stride=2))
            self.blocks = nn.Sequential(*[ConvNeXtBlock(dim) for _ in range(depth)])

        def forward(self, x):
            return self.blocks(self.downsample(x))

    class Head(nn.Module):
        def __init__(self, dim, classes):
            super().__init__()
            self.norm, self.fc = LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)

        def forward(self, x):                                      # global average pool, norm, linear
            return self.fc(self.norm(x.mean((2, 3))))

    class ConvNeXt(nn.Module):
        def __init__(self, image, in_channels, classes, stem, depths, dims):
            super().__init__()
            if image % (stem * 8):
                raise ValueError(f"convnext: image size {image} is not a multiple of {stem * 8}")
            self.stem = nn.Sequential(nn.Conv2d(in_channels, dims[0], stem, stride=stem), LayerNorm2d(dims[0], eps=1e-6))
            self.stages = nn.Sequential(*[Stage(dims[max(s - 1, 0)], dims[s], depths[s], s == 0) for s in range(4)])
            self.head = Head(dims[3], classes)
            init_weights(self)

        def forward(self, x):                                      # (B, C_in, S, S)
            return self.head(self.stages(self.stem(x)))

    return {"vit": Vit, "convnext": ConvNeXt, "attention": Attention}


def build_model(torch, args):
    """The model named by --model, seeded."""
    torch.manual_seed(args.seed)
    kind, _, sizes = MODELS[args.model]
    if kind == "vit" and args.image_size % sizes["patch"]:
        raise ValueError(f"vit: image size {args.image_size} is not a multiple of patch {sizes['patch']}")
    models = define_models(torch)
    if args.sdpa:
        if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
            raise ValueError(f"--sdpa: torch {torch.__version__} has no F.scaled_dot_product_attention (2.0 or later)")
        models["attention"].sdpa = True
    return models[kind](args.image_size, args.in_channels, args.classes, **sizes)


def make_optimizer(torch, model):
    """AdamW with timm's groups: no decay for 1-D tensors, cls_token and pos_embed (bplab's weight_decay_mask)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() > 1 and name not in ("cls_token", "pos_embed") else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.999), eps=1e-8)


def train_step(torch, model, optimizer, x, y, forward=None, amp=None):
    """One step (with `forward` instead of the model's own, e.g. SBP's; under bf16 autocast with amp="bf16");
    returns the loss as a float."""
    model.zero_grad(set_to_none=True)
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=amp == "bf16"):
        loss = torch.nn.functional.cross_entropy((forward or model)(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def persistent_bytes(model, optimizer, tensors):
    """Bytes of the tensors that live across steps: parameters, optimizer state, the batch."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    for state in optimizer.state.values():
        total += sum(t.numel() * t.element_size() for t in state.values() if hasattr(t, "numel"))
    return total + sum(t.numel() * t.element_size() for t in tensors)


def peak_above_persistent(torch, model, optimizer, x, y, forward=None, amp=None):
    """Peak bytes of the allocator during one step, above what was live before it: on the CPU from the profiler's
    memory events, on a GPU from torch.cuda's peak statistics."""
    if x.is_cuda:
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        train_step(torch, model, optimizer, x, y, forward, amp)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    from torch.profiler import ProfilerActivity, profile

    model.zero_grad(set_to_none=True)       # drop the gradients before profiling: the step's own drop is then a no-op
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        train_step(torch, model, optimizer, x, y, forward, amp)
    allocation = torch._C._profiler._ExtraFields_Allocation
    peak, stack = 0, list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if isinstance(event.extra_fields, allocation) and event.extra_fields.device.type == "cpu":
            peak = max(peak, event.extra_fields.total_allocated)
    return peak


def print_profile(torch, model, optimizer, x, y, forward, steps, amp=None):
    """`steps` more steps under torch.profiler; prints the ops (CPU) or kernels (GPU) that take the most time."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if x.is_cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            train_step(torch, model, optimizer, x, y, forward, amp)
        if x.is_cuda:
            torch.cuda.synchronize()
    averages = prof.key_averages()
    keys = ("self_device_time_total", "self_cuda_time_total") if x.is_cuda else ("self_cpu_time_total",)
    for key in keys:    # torch >= 2.4 names GPU time "device", older ones "cuda"
        try:
            table = averages.table(sort_by=key, row_limit=30)
            break
        except (AttributeError, KeyError):
            continue
    else:
        raise RuntimeError(f"--profile: this torch's profiler sorts by none of {keys}")
    print(f"profile over {steps} steps (totals for all of them, sorted by {key}):")
    print(table)


def main(argv=None):
    """Set threads, check the BLAS, build the model, time the steps, measure memory, print the RESULT line."""
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):   # before torch (OpenBLAS, libgomp) loads
        os.environ.setdefault(var, str(args.threads))
    if args.omp_wait_policy != "inherit":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    os.environ.setdefault("GLOG_minloglevel", "2")            # c10's glog notes from the memory profiler
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}, os.cpu_count() {os.cpu_count()}, "
          f"oneDNN (mkldnn) {'on' if torch.backends.mkldnn.is_available() else 'off'}")
    if not args.device.startswith("cuda"):   # the CPU's BLAS matters only to a CPU run
        blas, openblas_path, is_reference = describe_blas(torch)
        blas_threads = openblas_threads(openblas_path, args.threads)
        print(f"BLAS: {blas}")
        if blas_threads is not None:
            print(f"OpenBLAS threads: {blas_threads[0]}  config: {blas_threads[1]}")
        if is_reference:
            print("WARNING: torch is using the REFERENCE (netlib) BLAS: timings are meaningless "
                  "(install libopenblas0-pthread; see mlp_step_torch.py)", file=sys.stderr)
    print(f"torch threads: {torch.get_num_threads()} (intra-op), {torch.get_num_interop_threads()} (inter-op); "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    busy = busy_fraction()
    print(f"CPU busy before timing (other processes): {100 * busy:.0f}%")
    if busy > 0.10:
        print(f"warning: the CPUs were {100 * busy:.0f}% busy before timing; "
              "timings will be slower and noisier than on a quiet machine", file=sys.stderr)

    if args.tf32 and not args.device.startswith("cuda"):
        raise SystemExit("--tf32: for --device cuda")
    if args.device.startswith("cuda"):    # fp32 means fp32 unless --tf32, in cuBLAS and cuDNN alike (as bplab)
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        print(f"cuda: {torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()}, "
              f"TF32 {'on' if args.tf32 else 'off'}, cudnn.benchmark {torch.backends.cudnn.benchmark}")
    model = build_model(torch, args)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    print(f"pytorch {args.model}: {params} parameters ({params * 4 / MIB:.2f} MiB f32; AdamW moments 2x that)")
    model.to(args.device)
    optimizer = make_optimizer(torch, model)
    x = torch.rand(args.batch, args.in_channels, args.image_size, args.image_size, device=args.device)  # (B, C_in, S, S)
    y = torch.randint(0, args.classes, (args.batch,), device=args.device)                              # (B,) int64
    on_gpu = x.is_cuda
    forward = None
    if args.sbp_keep < 1:
        kind, _, sizes = MODELS[args.model]
        forward = Sbp(torch, model, kind, args.sbp_keep, args.image_size, sizes, args.seed).forward
        print(f"SBP keep {args.sbp_keep}: grid mask, the paper's blocks, qkv mode, SBP stages' downsampling split")

    times_ms, loss = [], 0.0
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = train_step(torch, model, optimizer, x, y, forward, args.amp)
        if on_gpu:
            torch.cuda.synchronize()
        if i >= args.warmup:
            times_ms.append((time.perf_counter() - start) * 1e3)
    if not math.isfinite(loss):
        raise RuntimeError(f"loss became {loss} during the benchmark")

    persistent = persistent_bytes(model, optimizer, (x, y))
    above = peak_above_persistent(torch, model, optimizer, x, y, forward, args.amp)
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024      # Linux: KiB
    median, mean = statistics.median(times_ms), statistics.fmean(times_ms)
    print(f"pytorch {args.model}, batch {args.batch}, {args.image_size}x{args.image_size}x{args.in_channels}, "
          f"{args.classes} classes, {args.threads} threads: median {median:.3f} ms/step, mean {mean:.3f} ms/step, "
          f"min {min(times_ms):.3f}, max {max(times_ms):.3f} over {args.steps} steps (after {args.warmup} warm-up)")
    print(f"pytorch memory (c10 CPU allocator: bytes of live tensors, from torch.profiler profile_memory over one "
          f"extra step): persistent {persistent / MIB:.1f} MiB (parameters, AdamW state, batch), "
          f"peak total {(persistent + above) / MIB:.1f} MiB, peak above persistent {above / MIB:.1f} MiB; "
          f"process max RSS {max_rss / MIB:.0f} MiB (context only: Python, libraries, heap)")
    print(f"RESULT framework=pytorch{'-sdpa' if args.sdpa else ''} model={args.model} device={args.device} "
          f"sbp_keep={args.sbp_keep:g} tf32={int(args.tf32)} amp={args.amp or 'none'} "
          f"threads={args.threads} ms_median={median:.4f} "
          f"ms_mean={mean:.4f} peak_mb={(persistent + above) / MIB:.2f} peak_above_mb={above / MIB:.2f} params={params}")
    if args.profile:
        print_profile(torch, model, optimizer, x, y, forward, args.profile, args.amp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
