#!/usr/bin/env bash
# experiments/backforward/lr_study.sh — the Backforward chapter's runs: lr study on MNIST for the
# 784-256-10 MLP and the deeper 784-100-100-100-10 MLP, then the toy, then the figures.
# Usage: bash experiments/backforward/lr_study.sh [EPOCHS]   (default 50; the book used 50)
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-50}
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "lr_study: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
python3 experiments/data/make_mnist_idx.py --out data/mnist

"$bplab" compare --hidden 256 --epochs "$epochs" --lrs 0.1,0.05,0.01 \
  --methods backprop,backforward,backforward-as-released --double-lr-control --no-progress --out runs/lr-study-256
"$bplab" compare --hidden 100,100,100 --epochs "$epochs" --lrs 0.1,0.05,0.01 \
  --methods backprop,backforward,backforward-incremental,backforward-as-released --double-lr-control --no-progress \
  --out runs/lr-study-deep
"$bplab" toy --hidden 256,1024 --batches 2,4,8 --seeds 5 --lr 1.0 --out runs/toy
/usr/bin/python3 experiments/backforward/plot.py --runs runs --out docs/book/figures
