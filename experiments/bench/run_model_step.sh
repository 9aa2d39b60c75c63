#!/usr/bin/env bash
# experiments/bench/run_model_step.sh — one image-model training step (fwd, CE, bwd, AdamW), bplab vs PyTorch,
# same machine and threads: ms/step, the ratio, and peak tensor memory of each. Why: the cost baseline for SBP.
# Usage: bash experiments/bench/run_model_step.sh [MODEL[,MODEL...]] [THREADS...]
#        (default models vit-mini,convnext-mini; default threads 1 and all cores)
#        Environment: BATCH (128), STEPS (20), WARMUP (3) are passed to both programs, and so are the flags in
#        FLAGS (e.g. FLAGS="--amp bf16").
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=./build/release/experiments/bench/bench_model_step
[ -x "$bench" ] || { echo "run_model_step: build first (cmake --preset release && cmake --build --preset release --target bench_model_step)"; exit 1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "run_model_step: needs Debian's python3-torch and libopenblas0-pthread"; exit 1; }

models=vit-mini,convnext-mini
if [ $# -gt 0 ] && ! [[ $1 =~ ^[0-9]+$ ]]; then models=$1; shift; fi
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 "$(nproc)")
common=(--batch "${BATCH:-128}" --steps "${STEPS:-20}" --warmup "${WARMUP:-3}")
read -ra extra <<< "${FLAGS:-}"
common+=("${extra[@]}")

field() {  # field NAME < RESULT line  -> value
  sed -n "s/^RESULT .* $1=\([^ ]*\).*/\1/p"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
IFS=, read -ra model_list <<<"$models"
for m in "${model_list[@]}"; do
  for t in "${threads[@]}"; do
    b=$(OMP_NUM_THREADS=$t "$bench" --model "$m" --threads "$t" "${common[@]}" | grep '^RESULT ')
    p=$(/usr/bin/python3 experiments/bench/model_step_torch.py --model "$m" --threads "$t" "${common[@]}" | grep '^RESULT ')
    bp=$(field params <<<"$b"); pp=$(field params <<<"$p")
    [ "$bp" = "$pp" ] || echo "run_model_step: WARNING: $m has $bp parameters in bplab but $pp in the PyTorch twin" >&2
    bm=$(field ms_median <<<"$b"); pm=$(field ms_median <<<"$p")
    rows+=("$(printf '%-14s %7s %14.1f %14.1f %7.2f %12.1f %12.1f %12.1f %12.1f' "$m" "$t" "$bm" "$pm" \
      "$(python3 -c "print($bm / $pm)")" "$(field peak_mb <<<"$b")" "$(field peak_mb <<<"$p")" \
      "$(field peak_above_mb <<<"$b")" "$(field peak_above_mb <<<"$p")")")
  done
done
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-14s %7s %14s %14s %7s %12s %12s %12s %12s\n' model threads "bplab ms/step" "torch ms/step" ratio \
  "bplab peak" "torch peak" "bplab +peak" "torch +peak"
printf '%s\n' "${rows[@]}"
cat <<EOF

ms/step: median of ${STEPS:-20} steps after ${WARMUP:-3} warm-up, batch ${BATCH:-128}; ratio = bplab / torch (< 1: bplab is faster).
Peak (MiB): live tensor bytes at the step's peak, parameters + AdamW state + batch included; "+peak" = above those.
  bplab: its own allocator's count (memory_stats().peak_bytes over the timed steps).
  torch: c10's CPU allocator count from torch.profiler(profile_memory=True) over one extra step, plus the
         persistent tensors' sizes. Neither counts BLAS/oneDNN private buffers or the process heap (RSS).
EOF
