#!/usr/bin/env python3
# experiments/sbp/plot.py — the SBP chapter's figures and tables from the runs' JSONL files.
# Reads runs/sbp-design/<run>/{config.json,metrics.jsonl,grad_norms.jsonl} and runs/sbp-grad-sim/*.jsonl.
"""Figures and tables for docs/book/sbp.md.

design study:  markdown tables (per run: final test accuracy, its change against the same model and seed
               without SBP, the last epoch's train loss; per setting run with several seeds: mean and spread)
               and one figure of test accuracy per epoch for each factor studied (keep ratio, blocks, mask,
               schedule, attention mode; ConvNeXt).
grad norms:    per model, the L2 norm of every weight gradient during training without SBP and with SBP 0.5
               (the paper's Figs. 9-10), one line per weight, coloured by depth, and the ratio of their means.
grad-sim:      per model, the cosine similarity of SBP and exact weight gradients per layer, one panel per
               factor (the paper's Figs. 2, 3, 5, 6).

Needs matplotlib (Debian: python3-matplotlib).
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from plot_common import plot_arguments, read_jsonl, report_written, save_figure  # noqa: E402

# Panels of the design-study figure: title -> run names (runs/sbp-design/<name>), the reference first.
DESIGN_PANELS = {
    "ViT: keep ratio": ["vit-r1.00", "vit-r0.75", "vit-r0.50", "vit-r0.25"],
    "ViT: SBP blocks (r 0.5)": ["vit-r0.50", "vit-blocks-last2", "vit-blocks-all", "vit-blocks-first4"],
    "ViT: mask (r 0.5)": ["vit-r0.50", "vit-mask-random", "vit-mask-fixed", "vit-mask-independent"],
    "ViT: keep-ratio schedule (mean 0.5)": ["vit-r0.50", "vit-sched-increasing", "vit-sched-decreasing"],
    "ViT: attention mode (r 0.5)": ["vit-r0.50", "vit-attn-qkv-exact", "vit-attn-query", "vit-attn-head", "vit-split-proj"],
    "ConvNeXt: keep ratio": ["convnext-r1.00", "convnext-r0.50", "convnext-r0.25"],
    "ConvNeXt: mask (r 0.5)": ["convnext-r0.50", "convnext-mask-random", "convnext-mask-fixed", "convnext-mask-independent"],
    "ConvNeXt: keep-ratio schedule (mean 0.5)": ["convnext-r0.50", "convnext-sched-increasing", "convnext-sched-decreasing"],
}
# Panels of the grad-sim figure: title -> file-name stems after "<model>-" (runs/sbp-grad-sim/<model>-<stem>.jsonl).
GRAD_SIM_PANELS = {
    "keep ratio": ["r0.75", "r0.50", "r0.25"],
    "keep-ratio schedule (mean 0.5)": ["r0.50", "sched-increasing", "sched-decreasing"],
    "mask (r 0.5)": ["r0.50", "mask-random", "mask-fixed", "mask-independent"],
    "attention mode (r 0.5)": ["r0.50", "attn-qkv-exact", "attn-query", "attn-head"],
}


def load_runs(design_dir):
    """name -> (config, metrics rows) for every finished run of the design study."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(design_dir, "*", "metrics.jsonl"))):
        rows = read_jsonl(path)
        if rows:
            folder = os.path.dirname(path)
            runs[os.path.basename(folder)] = (json.load(open(os.path.join(folder, "config.json"))), rows)
    return runs


def design_table(runs):
    """Markdown: one row per run, compared with the same model's run without SBP."""
    lines = ["| run | SBP | test acc (last epoch) | Δ vs no SBP | train loss (last epoch) |",
             "|---|---|---:|---:|---:|"]
    order = list(dict.fromkeys(n for names in DESIGN_PANELS.values() for n in names))
    for name in sorted(runs, key=lambda n: (order.index(n) if n in order else len(order), n)):
        config, rows = runs[name]
        seed = name[name.rindex("-seed"):] if "-seed" in name else ""
        reference = runs.get(name.split("-")[0] + "-r1.00" + seed)  # the same model and seed without SBP
        acc = rows[-1]["test_acc"]
        sbp = "none" if config["sbp_keep"] >= 1 else (
            f"r {config['sbp_keep']:g} {config['sbp_schedule']}, {config['sbp_mask']}"
            f"{' independent' if config['sbp_independent'] else ''}, blocks {config['sbp_blocks'] or 'default'}, "
            f"attn {config['sbp_attn']}{' + proj' if config.get('sbp_split_proj') else ''}")  # key added after the first runs
        delta = "—"
        if reference is not None and reference[1] is not rows:
            delta = f"{100 * (acc - reference[1][-1]['test_acc']):+.2f}"
        lines.append(f"| {name} | {sbp} | {100 * acc:.2f} | {delta} | {rows[-1]['train_loss']:.4f} |")
    return "\n".join(lines)


def seed_table(runs):
    """Markdown: the runs repeated with other seeds (<name>-seedK), their mean and spread of final test accuracy."""
    groups = {}
    for name, (_, rows) in runs.items():
        groups.setdefault(name.split("-seed")[0], []).append(100 * rows[-1]["test_acc"])
    lines = ["| run | seeds | test acc: each | mean | max − min |", "|---|---:|---|---:|---:|"]
    for base, accs in groups.items():
        if len(accs) > 1:
            each = ", ".join(f"{a:.2f}" for a in accs)
            lines.append(f"| {base} | {len(accs)} | {each} | {sum(accs) / len(accs):.2f} | {max(accs) - min(accs):.2f} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def design_figure(plt, runs, out_dir):
    """Test accuracy per epoch, one panel per factor."""
    fig, axes = plt.subplots(2, 4, figsize=(20, 8))
    for ax, (title, names) in zip(axes.flat, DESIGN_PANELS.items()):
        for name in names:
            if name in runs:
                rows = runs[name][1]
                ax.plot([r["epoch"] for r in rows], [100 * r["test_acc"] for r in rows], "o-", label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(plt, fig, out_dir, "sbp-design.svg")


def grad_norm_figure(plt, design_dir, model, out_dir):
    """Figs. 9-10: every weight's gradient norm during training, without SBP and with SBP 0.5, and per weight the
    ratio of their means over the run (SBP / exact): below 1 where SBP's gradients are smaller."""
    panels = [(f"{model}-r1.00", "without SBP"), (f"{model}-r0.50", "SBP 0.5")]
    series = [(os.path.join(design_dir, run, "grad_norms.jsonl"), title) for run, title in panels]
    if not all(os.path.exists(path) for path, _ in series):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
    means = []
    for ax, (path, title) in zip(axes, series):
        rows = read_jsonl(path)
        names = list(rows[0]["grad_norms"])
        cmap = plt.get_cmap("viridis")
        for i, name in enumerate(names):
            ax.plot([r["step"] for r in rows], [r["grad_norms"][name] for r in rows], lw=0.7,
                    color=cmap(i / max(1, len(names) - 1)))
        means.append({n: sum(r["grad_norms"][n] for r in rows) / len(rows) for n in names})
        ax.set_yscale("log")
        ax.set_title(f"{model}, {title}: {len(names)} weights (dark: first, light: last)")
        ax.set_xlabel("step")
        ax.set_ylabel("L2 norm of the weight gradient")
        ax.grid(alpha=0.3)
    names = list(means[0])
    axes[2].bar(range(len(names)), [means[1][n] / means[0][n] for n in names])
    axes[2].axhline(1.0, color="black", lw=0.8)
    axes[2].set_title(f"{model}: mean gradient norm over the run, SBP 0.5 / exact")
    axes[2].set_xlabel("weight tensor (input to output)")
    axes[2].grid(alpha=0.3, axis="y")
    return save_figure(plt, fig, out_dir, f"sbp-grad-norms-{model}.svg")


def grad_sim_figure(plt, sim_dir, model, out_dir):
    """Cosine of SBP vs exact weight gradients per layer, one panel per factor."""
    stems = {os.path.basename(p)[len(model) + 1:-len(".jsonl")]: p
             for p in glob.glob(os.path.join(sim_dir, f"{model}-*.jsonl"))}
    panels = [(t, [s for s in names if s in stems]) for t, names in GRAD_SIM_PANELS.items()]
    panels = [(t, names) for t, names in panels if len(names) > 1]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2), squeeze=False)
    for ax, (title, names) in zip(axes[0], panels):
        for stem in names:
            rows = read_jsonl(stems[stem])
            ax.plot(range(len(rows)), [r["cosine"] for r in rows], ".-", label=stem)
        ax.set_title(f"{model}: {title}")
        ax.set_xlabel("weight tensor (input to output)")
        ax.set_ylabel("cosine(dW SBP, dW exact)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(plt, fig, out_dir, f"sbp-grad-sim-{model}.svg")


def main():
    args, plt = plot_arguments(__doc__, "sbp-design/ and sbp-grad-sim/")
    design_dir, sim_dir = os.path.join(args.runs, "sbp-design"), os.path.join(args.runs, "sbp-grad-sim")
    runs = load_runs(design_dir)
    written = []
    if runs:
        print(design_table(runs), end="\n\n")
        seeds = seed_table(runs)
        if seeds:
            print(seeds, end="\n\n")
        written.append(design_figure(plt, runs, args.out))
    for model in ("vit", "convnext"):
        written.append(grad_norm_figure(plt, design_dir, model, args.out))
        written.append(grad_sim_figure(plt, sim_dir, model, args.out))
    report_written(written, "plot.py", f"no runs under {args.runs} (run experiments/sbp/design_study.sh and grad_sim.sh first)")


if __name__ == "__main__":
    main()
