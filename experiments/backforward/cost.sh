#!/usr/bin/env bash
# experiments/backforward/cost.sh — ms per training step of backprop and the Backforward variants,
# for both MLPs of the chapter: the smallest of 3 medians (300 steps each), 1 thread, batch 128.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=./build/release/experiments/bench/bench_mlp_step
[ -x "$bench" ] || { echo "cost.sh: build first (cmake --preset release && cmake --build --preset release)"; exit 1; }
echo "| MLP | method | ms/step | × backprop |"
echo "|---|---|---:|---:|"
for hidden in 256 100,100,100; do
  base=""
  for method in backprop backforward backforward-incremental backforward-as-released; do
    best=""
    for _ in 1 2 3; do
      ms=$("$bench" --threads 1 --hidden "$hidden" --method "$method" | sed -n 's/^RESULT .*ms_median=\([0-9.]*\).*/\1/p')
      best=$(python3 -c "print(min(float('$ms'), float('${best:-1e9}')))")
    done
    base=${base:-$best}
    printf '| 784-%s-10 | %s | %.2f | %.2f |\n' "${hidden//,/-}" "$method" "$best" "$(python3 -c "print($best / $base)")"
  done
done
