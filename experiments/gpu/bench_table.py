#!/usr/bin/env python3
# experiments/gpu/bench_table.py — the RESULT lines of bench_model_step and model_step_torch.py as issue 6's table:
# ms/step and peak MiB per model and SBP keep, bplab against PyTorch eager (and its fused attention), with ratios.
# Usage: python3 experiments/gpu/bench_table.py < bench.txt   (check.sh's bench stage prints it after its runs)
import sys


def parse(lines):
    """{(model, keep): {variant: (ms, peak)}}, variant one of bplab, bplab-recompute, pytorch, pytorch-sdpa, each
    with -tf32 after it when run with --tf32 and -bf16 when run with --amp bf16."""
    rows = {}
    for line in lines:
        if not line.startswith("RESULT "):
            continue
        f = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
        variant = (f["framework"] + ("-recompute" if f.get("recompute") == "1" else "") +
                   ("-tf32" if f.get("tf32") == "1" else "") + ("-bf16" if f.get("amp") == "bf16" else ""))
        key = (f["model"], float(f.get("sbp_keep", "1")))
        rows.setdefault(key, {})[variant] = (float(f["ms_median"]), float(f["peak_mb"]))
    return rows


def table(rows):
    def cell(run, i, fmt="{:.1f}"):
        return fmt.format(run[i]) if run else "—"

    def ratio(a, b, i):
        return f"**{a[i] / b[i]:.2f}×**" if a and b else "—"

    out = ["| model | SBP keep | PyTorch ms | PyTorch SDPA ms | bplab ms | bplab / PyTorch | bplab / SDPA "
           "| bplab --recompute ms | PyTorch peak MiB | bplab peak MiB | bplab / PyTorch | --recompute peak MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (model, keep), runs in sorted(rows.items()):
        b, rc = runs.get("bplab"), runs.get("bplab-recompute")
        p, s = runs.get("pytorch"), runs.get("pytorch-sdpa")
        out.append(f"| {model} | {keep:g} | {cell(p, 0)} | {cell(s, 0)} | {cell(b, 0)} | {ratio(b, p, 0)} "
                   f"| {ratio(b, s, 0)} | {cell(rc, 0)} | {cell(p, 1)} | {cell(b, 1)} | {ratio(b, p, 1)} "
                   f"| {cell(rc, 1)} |")
    return "\n".join(out)


MODES = {"-tf32": "With TF32 tensor cores (bplab --tf32, PyTorch allow_tf32)",
         "-bf16": "With bf16 mixed precision (bplab --amp bf16: linear layers, convolutions, attention, GELU; PyTorch autocast)"}


def mode_table(rows, suffix):
    """bplab against PyTorch where both ran with the mode of `suffix` (a key of MODES)."""
    out = ["| model | SBP keep | PyTorch ms | bplab ms | bplab / PyTorch | PyTorch peak MiB | bplab peak MiB | bplab / PyTorch |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (model, keep), runs in sorted(rows.items()):
        b, p = runs.get("bplab" + suffix), runs.get("pytorch" + suffix)
        if b and p:
            out.append(f"| {model} | {keep:g} | {p[0]:.1f} | {b[0]:.1f} | **{b[0] / p[0]:.2f}×** | {p[1]:.1f} "
                       f"| {b[1]:.1f} | **{b[1] / p[1]:.2f}×** |")
    return "\n".join(out) if len(out) > 2 else ""


if __name__ == "__main__":
    found = parse(sys.stdin)
    if not found:
        sys.exit("bench_table: no RESULT lines on stdin (expected bench_model_step / model_step_torch.py output)")
    if any(not v.endswith(tuple(MODES)) for runs in found.values() for v in runs):
        print(table(found))
    for suffix, title in MODES.items():
        if t := mode_table(found, suffix):
            print(f"\n{title}:\n{t}")
    print("\nissue 6's first target: bplab / PyTorch at most 1.3× in ms and at most 1× in peak memory.")
