#!/usr/bin/env bash
# experiments/baselines.sh — the baselines chapter's runs: the small ViT and ConvNeXt on Fashion-MNIST
# with a fixed short schedule (AdamW, cosine, augmentation), then the step benchmark against PyTorch.
# Usage: bash experiments/baselines.sh [EPOCHS]   (default 2, as in docs/book/baselines.md)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "baselines: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
for model in vit-mini convnext-mini; do
  "$bplab" train --model "$model" --data fashion-mnist --optimizer adamw --lr 1e-3 --weight-decay 0.05 \
    --schedule cosine --warmup 0.5 --epochs "$epochs" --batch 128 --augment --label-smoothing 0.1 \
    --no-progress --overwrite --out "runs/fmnist-$model"
done
