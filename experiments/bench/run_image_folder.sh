#!/usr/bin/env bash
# experiments/bench/run_image_folder.sh — JPEG batches per second, bplab's ImageFolder vs PIL + torch, on a synthetic
# ImageNet-like folder (sides 300..500, quality 90) made once under build/: torchvision's training and evaluation
# transforms, and the SBP paper's recipe (bicubic, RandAugment). Usage: run_image_folder.sh [THREADS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=./build/release/experiments/bench/bench_image_folder maker=./build/release/make_image_folder
[ -x "$bench" ] || { echo "run_image_folder: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
/usr/bin/python3 -c "import torch, PIL" 2>/dev/null || { echo "run_image_folder: needs Debian's python3-torch and python3-pil"; exit 1; }
data=build/bench-jpegs
[ -d "$data" ] || "$maker" --out "$data" --classes 4 --train 128 --val 1 --min-side 300 --max-side 500 --quality 90
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 "$(nproc)")
printf '%-9s %-8s %16s %16s %8s\n' transform threads "bplab images/s" "torch images/s" ratio
for t in "${threads[@]}"; do
  for mode in train eval recipe; do  # recipe: DeiT's and ConvNeXt's, bicubic with RandAugment
    case $mode in
      train) flag=() ;;
      eval) flag=(--eval) ;;
      recipe) flag=(--interpolation bicubic --rand-augment rand-m9-mstd0.5-inc1) ;;
    esac
    b=$("$bench" --dir "$data/train" --threads "$t" ${flag[@]+"${flag[@]}"} | sed -n 's/^RESULT .*images_per_s=\([0-9.]*\).*/\1/p')
    p=$(/usr/bin/python3 experiments/bench/image_folder_torch.py --dir "$data/train" --threads "$t" ${flag[@]+"${flag[@]}"} |
        sed -n 's/^RESULT .*images_per_s=\([0-9.]*\).*/\1/p')
    printf '%-9s %-8s %16.1f %16.1f %8.2f\n' "$mode" "$t" "$b" "$p" "$(python3 -c "print($b / $p)")"
  done
done
echo "(median of 4 batches of 256 after one untimed; ratio > 1 means bplab is faster; recipe: bicubic, rand-m9-mstd0.5-inc1)"
