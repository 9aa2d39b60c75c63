#!/usr/bin/env bash
# experiments/sbp/memory.sh — SBP's memory at ImageNet resolution: ViT-Tiny/Base and ConvNeXt-Tiny/Base at
# the paper's per-GPU batches, exact vs SBP 0.5 (grid, qkv; ViT-Tiny also query-only), as bplab's allocator
# counts them (f32, CPU).
# Usage: bash experiments/sbp/memory.sh [SCALE [bplab mem flags...]]  (batches are divided by SCALE; default 1 =
# the paper's; further flags go to every bplab mem run, e.g. --recompute)
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-1}
shift $(( $# > 0 ? 1 : 0 ))
bplab=./build/release/bplab
[ -x "$bplab" ] || { echo "memory.sh: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
for spec in vit-tiny:256 vit-base:64 convnext-tiny:128 convnext-base:64; do
  model=${spec%%:*}
  batch=$(( ${spec##*:} / scale ))
  "$bplab" mem --model "$model" --batch "$batch" --sbp-keep 0.5 "$@"
  echo
done
# Eq. 13 at model scale: ViT-Tiny with query-only dropping instead of QKV.
"$bplab" mem --model vit-tiny --batch $(( 256 / scale )) --sbp-keep 0.5 --sbp-attn query "$@"
