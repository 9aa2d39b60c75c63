#!/usr/bin/env bash
# experiments/sbp/design_study.sh — the SBP design study at small scale: the small ViT and ConvNeXt on a
# Fashion-MNIST subset, one factor changed at a time from the default (SBP 0.5, grid, shared mask, qkv);
# three more seeds of the no-SBP and SBP 0.5 runs give the seed-to-seed spread.
# Usage: bash experiments/sbp/design_study.sh [EPOCHS] [TRAIN_SIZE]   (defaults 3 and 30000, as in the book)
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-3}
train_size=${2:-30000}
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "design_study.sh: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
out=runs/sbp-design

# name | model | SBP flags (empty: plain backprop)
runs=(
  "vit-r1.00|vit-mini|--sbp-keep 1"
  "vit-r0.75|vit-mini|--sbp-keep 0.75"
  "vit-r0.50|vit-mini|--sbp-keep 0.5"
  "vit-r0.25|vit-mini|--sbp-keep 0.25"
  "vit-blocks-last2|vit-mini|--sbp-keep 0.5 --sbp-blocks last:2"
  "vit-blocks-all|vit-mini|--sbp-keep 0.5 --sbp-blocks all"
  "vit-blocks-first4|vit-mini|--sbp-keep 0.5 --sbp-blocks first:4"
  "vit-mask-random|vit-mini|--sbp-keep 0.5 --sbp-mask random"
  "vit-mask-fixed|vit-mini|--sbp-keep 0.5 --sbp-mask fixed"
  "vit-mask-independent|vit-mini|--sbp-keep 0.5 --sbp-independent"
  "vit-sched-increasing|vit-mini|--sbp-keep 0.5 --sbp-schedule increasing"
  "vit-sched-decreasing|vit-mini|--sbp-keep 0.5 --sbp-schedule decreasing"
  "vit-attn-qkv-exact|vit-mini|--sbp-keep 0.5 --sbp-attn qkv-exact"
  "vit-attn-query|vit-mini|--sbp-keep 0.5 --sbp-attn query"
  "vit-attn-head|vit-mini|--sbp-keep 0.5 --sbp-attn head"
  "vit-split-proj|vit-mini|--sbp-keep 0.5 --sbp-split-proj"
  "convnext-r1.00|convnext-mini|--sbp-keep 1"
  "convnext-r0.50|convnext-mini|--sbp-keep 0.5"
  "convnext-r0.25|convnext-mini|--sbp-keep 0.25"
  "convnext-mask-random|convnext-mini|--sbp-keep 0.5 --sbp-mask random"
  "convnext-mask-fixed|convnext-mini|--sbp-keep 0.5 --sbp-mask fixed"
  "convnext-mask-independent|convnext-mini|--sbp-keep 0.5 --sbp-independent"
  "convnext-sched-increasing|convnext-mini|--sbp-keep 0.5 --sbp-schedule increasing"
  "convnext-sched-decreasing|convnext-mini|--sbp-keep 0.5 --sbp-schedule decreasing"
  "vit-r1.00-seed2|vit-mini|--sbp-keep 1 --seed 2526"
  "vit-r0.50-seed2|vit-mini|--sbp-keep 0.5 --seed 2526"
  "convnext-r1.00-seed2|convnext-mini|--sbp-keep 1 --seed 2526"
  "convnext-r0.50-seed2|convnext-mini|--sbp-keep 0.5 --seed 2526"
  "vit-r1.00-seed3|vit-mini|--sbp-keep 1 --seed 2527"
  "vit-r0.50-seed3|vit-mini|--sbp-keep 0.5 --seed 2527"
  "convnext-r1.00-seed3|convnext-mini|--sbp-keep 1 --seed 2527"
  "convnext-r0.50-seed3|convnext-mini|--sbp-keep 0.5 --seed 2527"
  "vit-r1.00-seed4|vit-mini|--sbp-keep 1 --seed 2528"
  "vit-r0.50-seed4|vit-mini|--sbp-keep 0.5 --seed 2528"
  "convnext-r1.00-seed4|convnext-mini|--sbp-keep 1 --seed 2528"
  "convnext-r0.50-seed4|convnext-mini|--sbp-keep 0.5 --seed 2528"
)
for entry in "${runs[@]}"; do
  IFS='|' read -r name model sbp <<< "$entry"
  if [ -f "$out/$name/metrics.jsonl" ] && [ "$(wc -l < "$out/$name/metrics.jsonl")" -ge "$epochs" ]; then
    echo "design_study: $name already done"
    continue
  fi
  echo "design_study: $name"
  # A run of these epochs cut off part-way continues from its checkpoint; one made for other epochs starts again
  # (its cosine schedule spanned those).
  resume=()
  if [ -f "$out/$name/checkpoint.safetensors" ]; then
    if grep -q "\"epochs\":$epochs[,}]" "$out/$name/config.json" 2>/dev/null; then resume=(--resume); else resume=(--overwrite); fi
  fi
  # shellcheck disable=SC2086  # $sbp is a list of flags
  "$bplab" train "${resume[@]}" --model "$model" --data fashion-mnist --train-size "$train_size" --optimizer adamw --lr 1e-3 \
    --weight-decay 0.05 --schedule cosine --warmup 0.5 --epochs "$epochs" --batch 128 --augment --label-smoothing 0.1 \
    --grad-norms-every 5 --no-progress $sbp --out "$out/$name"
done
