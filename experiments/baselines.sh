#!/usr/bin/env bash
# experiments/baselines.sh — the baselines chapter's runs: the small ViT and ConvNeXt on Fashion-MNIST
# with a fixed short schedule (AdamW, cosine, augmentation), then the step benchmark against PyTorch.
# Usage: bash experiments/baselines.sh [EPOCHS [train flags...]]   (default 2, as in docs/book/baselines.md; further
#        flags go to every run, whose folder then says so: `2 --amp bf16` writes runs/fmnist-<model>-amp-bf16)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
shift $(( $# > 0 ? 1 : 0 ))
suffix=""
[ $# -eq 0 ] || suffix=$(printf -- '-%s' "$@" | sed 's/--*/-/g; s/[^A-Za-z0-9.-]//g')
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "baselines: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
for model in vit-mini convnext-mini; do
  "$bplab" train --model "$model" --data fashion-mnist --optimizer adamw --lr 1e-3 --weight-decay 0.05 \
    --schedule cosine --warmup 0.5 --epochs "$epochs" --batch 128 --augment --label-smoothing 0.1 \
    --no-progress --overwrite "$@" --out "runs/fmnist-$model$suffix"
done
