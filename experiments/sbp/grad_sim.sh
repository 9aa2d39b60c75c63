#!/usr/bin/env bash
# experiments/sbp/grad_sim.sh — cosine similarity of SBP and exact weight gradients (the paper's Figs. 2, 3,
# 5, 6) on the design study's trained no-SBP checkpoints, over the same Fashion-MNIST batches for every config.
# Usage: bash experiments/sbp/grad_sim.sh [BATCHES]   (default 50 batches of 128; run design_study.sh first)
set -euo pipefail
cd "$(dirname "$0")/../.."
batches=${1:-50}
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "grad_sim.sh: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
out=runs/sbp-grad-sim
mkdir -p "$out"

# stem | SBP flags
configs=(
  "r0.75|--sbp-keep 0.75"
  "r0.50|--sbp-keep 0.5"
  "r0.25|--sbp-keep 0.25"
  "sched-increasing|--sbp-keep 0.5 --sbp-schedule increasing"
  "sched-decreasing|--sbp-keep 0.5 --sbp-schedule decreasing"
  "mask-random|--sbp-keep 0.5 --sbp-mask random"
  "mask-fixed|--sbp-keep 0.5 --sbp-mask fixed"
  "mask-independent|--sbp-keep 0.5 --sbp-independent"
  "attn-qkv-exact|--sbp-keep 0.5 --sbp-attn qkv-exact"
  "attn-query|--sbp-keep 0.5 --sbp-attn query"
  "attn-head|--sbp-keep 0.5 --sbp-attn head"
)
for model in vit convnext; do
  weights=runs/sbp-design/$model-r1.00/checkpoint.safetensors
  [ -f "$weights" ] || { echo "grad_sim.sh: $weights is missing (run experiments/sbp/design_study.sh first)"; exit 1; }
  for entry in "${configs[@]}"; do
    IFS='|' read -r stem sbp <<< "$entry"
    [[ $model == convnext && $stem == attn-* ]] && continue  # attention modes are ViT's
    echo "grad_sim: $model $stem"
    # shellcheck disable=SC2086  # $sbp is a list of flags
    "$bplab" grad-sim --model "$model-mini" --weights "$weights" --data fashion-mnist --batch 128 --batches "$batches" \
      --seed 7 $sbp --out "$out/$model-$stem.jsonl" > /dev/null
  done
done
