#!/usr/bin/env python3
# experiments/backforward/plot.py — draws the Backforward chapter's figures from the runs' JSONL files.
# Reads runs/lr-study-*/<method>-lr<lr>/metrics.jsonl and runs/toy/toy.jsonl; writes SVGs (matplotlib).
"""Figures for docs/book/backforward.md.

For each study folder (runs/lr-study-256, runs/lr-study-deep) and each learning rate,
one figure with three panels: train cross-entropy (log scale), test accuracy and model
norm per epoch, one line per method. For the toy, one bar chart of the loss after
the single step (median over seeds, whiskers min..max), per hidden size, batch size and method.

Needs matplotlib (Debian: python3-matplotlib).
"""

import collections
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from plot_common import plot_arguments, read_jsonl, report_written, save_figure  # noqa: E402


def lr_study_figures(plt, study_dir, out_dir):
    """One SVG per learning rate of a study: train CE, test accuracy and model norm per epoch."""
    runs = collections.defaultdict(dict)  # base lr -> label -> rows
    for path in sorted(glob.glob(os.path.join(study_dir, "*", "metrics.jsonl"))):
        rows = read_jsonl(path)
        if not rows:
            continue
        config = json.load(open(os.path.join(os.path.dirname(path), "config.json")))
        method, lr = config["method"], float(config["lr"])
        runs[lr][f"{method} (lr {lr:g})"] = rows
    written = []
    name = os.path.basename(study_dir.rstrip("/"))
    for lr in sorted(runs):
        if all(label.startswith("backprop ") for label in runs[lr]):
            continue  # only a 2x-lr control: drawn in the figure of the lr it controls
        series = dict(runs[lr])
        # The 2x-lr backprop control lives under lr*2: show it beside the lr it controls.
        control = runs.get(2 * lr, {}).get(f"backprop (lr {2 * lr:g})")
        if control is not None:
            series[f"backprop (lr {2 * lr:g}, control)"] = control
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for label, rows in sorted(series.items()):
            epochs = [r["epoch"] for r in rows]
            style = "--" if "control" in label else "-"
            axes[0].plot(epochs, [r["train_loss"] for r in rows], style, label=label)
            axes[1].plot(epochs, [r["test_acc"] for r in rows], style, label=label)
            axes[2].plot(epochs, [r["model_norm"] for r in rows], style, label=label)
        axes[0].set_yscale("log")
        for ax, title in zip(axes, ["train cross-entropy (mean over the epoch)", "test accuracy", "model norm (sum of L2 norms)"]):
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=8)
        fig.suptitle(f"{name}, lr {lr:g}")
        written.append(save_figure(plt, fig, out_dir, f"{name}-lr{lr:g}.svg"))
    return written


def toy_figure(plt, toy_path, out_dir):
    """Bar chart: median loss after one step over seeds, per (hidden, batch) and method, min..max whiskers."""
    rows = read_jsonl(toy_path)
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["hidden"], r["batch"], r["method"])].append(r["loss_after"])
    settings = sorted({(h, b) for h, b, _ in groups})
    methods = sorted({m for _, _, m in groups})
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        means, lo, hi = [], [], []
        for s in settings:
            v = sorted(groups[(s[0], s[1], m)])
            mid = len(v) // 2
            median = v[mid] if len(v) % 2 else 0.5 * (v[mid - 1] + v[mid])
            means.append(median)
            lo.append(median - v[0])
            hi.append(v[-1] - median)
        xs = [j + i * width for j in range(len(settings))]
        ax.bar(xs, means, width, yerr=[lo, hi], capsize=3, label=m)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(settings))])
    ax.set_xticklabels([f"h{h}, B={b}" for h, b in settings])
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_ylabel("loss on the batch after one step")
    ax.set_title(f"toy: one step at lr {rows[0]['lr']:g} on B real digits (median over seeds, min..max)")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return save_figure(plt, fig, out_dir, "toy.svg")


def main():
    args, plt = plot_arguments(__doc__, "lr-study-*/ and toy/")
    written = []
    for study in sorted(glob.glob(os.path.join(args.runs, "lr-study-*"))):
        written += lr_study_figures(plt, study, args.out)
    toy = os.path.join(args.runs, "toy", "toy.jsonl")
    if os.path.exists(toy):
        written.append(toy_figure(plt, toy, args.out))
    report_written(written, "plot.py", f"no runs found under {args.runs} (run experiments/backforward/lr_study.sh first)")


if __name__ == "__main__":
    main()
