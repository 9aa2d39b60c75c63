#!/usr/bin/env python3
# experiments/plot_common.py — what every chapter's plot script shares: JSONL reading and a headless pyplot.
# Imported by experiments/backforward/plot.py and experiments/sbp/plot.py.
"""Shared helpers of the book's plot scripts."""

import json
import os
import sys


def read_jsonl(path):
    """Returns the list of JSON objects in a JSONL file."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def save_figure(plt, fig, out_dir, name):
    """Lays the figure out, writes <out_dir>/<name>, closes it, and returns the path."""
    fig.tight_layout()
    path = os.path.join(out_dir, name)
    fig.savefig(path)
    plt.close(fig)
    return path


def pyplot(script):
    """matplotlib.pyplot on the Agg backend with stable SVG ids (same data, same file); exits if missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit(f"{script}: matplotlib is missing (Debian: apt-get install python3-matplotlib)")
    matplotlib.rcParams["svg.hashsalt"] = "bplab"
    return plt


def plot_arguments(doc, runs_help):
    """Parses a plot script's --runs and --out, makes --out, and returns (args, pyplot)."""
    import argparse
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="runs", help=f"folder holding {runs_help} (default: runs)")
    parser.add_argument("--out", default="docs/book/figures", help="folder for the SVG files")
    args = parser.parse_args()
    plt = pyplot("plot.py")
    os.makedirs(args.out, exist_ok=True)
    return args, plt


def report_written(paths, script, hint):
    """Prints the files a plot script wrote, or exits with `hint` when it found nothing to plot."""
    paths = [p for p in paths if p]
    if not paths:
        sys.exit(f"{script}: {hint}")
    for path in paths:
        print("wrote", path)
