#!/usr/bin/env bash
# experiments/bench/run_mlp_step.sh — one MLP training step, bplab vs PyTorch, same machine and threads.
# Usage: bash experiments/bench/run_mlp_step.sh [THREADS...]   (default: 1 and all cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=./build/release/experiments/bench/bench_mlp_step
[ -x "$bench" ] || { echo "run_mlp_step: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "run_mlp_step: needs Debian's python3-torch and libopenblas0-pthread"; exit 1; }
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 "$(nproc)")
printf '%-8s %14s %14s %8s\n' threads "bplab ms/step" "torch ms/step" ratio
for t in "${threads[@]}"; do
  b=$(OMP_NUM_THREADS=$t "$bench" --threads "$t" | sed -n 's/^RESULT .*ms_median=\([0-9.]*\).*/\1/p')
  p=$(/usr/bin/python3 experiments/bench/mlp_step_torch.py --threads "$t" | sed -n 's/^RESULT .*ms_median=\([0-9.]*\).*/\1/p')
  printf '%-8s %14.3f %14.3f %8.2f\n' "$t" "$b" "$p" "$(python3 -c "print($b / $p)")"
done
echo "(median of 300 steps after 30 warm-up steps; ratio < 1 means bplab is faster)"
