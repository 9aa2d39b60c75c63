#!/usr/bin/env python3
# experiments/plot_common.py — what every chapter's plot script shares: JSONL reading and a headless pyplot.
# Imported by experiments/backforward/plot.py and experiments/sbp/plot.py.
"""Shared helpers of the book's plot scripts."""

import json
import sys


def read_jsonl(path):
    """Returns the list of JSON objects in a JSONL file."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


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
