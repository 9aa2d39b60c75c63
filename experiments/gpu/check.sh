#!/usr/bin/env bash
# experiments/gpu/check.sh — what a GPU session runs there, in one or two device calls: build with CUDA, the whole
# test suite, the step benchmark against PyTorch, per-op profiles of both, compute-sanitizer memcheck, and (asked
# for by name) the benchmark with TF32 tensor cores or in bf16 mixed precision, racecheck and synccheck.
# Usage (there): bash experiments/gpu/check.sh [STAGE...]  with STAGE among build test bench profile memcheck tf32
# amp racecheck (default: the first five, in that order); carry [".deps"], made here by prepare_deps.sh. Each stage is
# cut at its own limit and no stage starts once BUDGET seconds (default 540) are spent, so a call never loses all
# its output. Logs go to $OUT, seven files at most (the device tool returns eight); the build folder stays on a
# warm machine, so a second call can rerun only the stages it needs.
set -uo pipefail
cd "$(dirname "$0")/../.."
export out=${OUT:-/tmp/bplab-gpu} deps=$PWD/.deps build=build/cuda
mkdir -p "$out"
budget=${BUDGET:-540}
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test bench profile memcheck)

say() { echo "$*" | tee -a "$out/summary.txt"; }

stage_build() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBPLAB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_PREFIX_PATH="$deps" -DZLIB_INCLUDE_DIR="$deps/include" -DZLIB_LIBRARY="$deps/lib/libz.a" \
    -DJPEG_INCLUDE_DIR="$deps/include" -DJPEG_LIBRARY="$deps/lib/libjpeg.a" \
    -DPNG_PNG_INCLUDE_DIR="$deps/include" -DPNG_LIBRARY="$deps/lib/libpng16.a" \
    -DBPLAB_DOCS=OFF -DBPLAB_CUDA_EMULATOR=OFF > "$out/build.log" 2>&1 &&
    cmake --build "$build" -j 16 >> "$out/build.log" 2>&1
  local rc=$?
  [ $rc -ne 0 ] && grep -E "error|Error" "$out/build.log" | head -40
  return $rc
}

stage_test() {
  ctest --test-dir "$build" -j 16 --timeout 200 --output-on-failure > "$out/ctest.log" 2>&1
  local rc=$?
  grep -E "tests passed|tests failed" "$out/ctest.log"
  grep -E "\*\*\*(Failed|Timeout|Exception)|\(Failed\)|\(Timeout\)|\(Subprocess" "$out/ctest.log" | head -30
  return $rc
}

# bplab_step / torch_step MODEL BATCH KEEP [extra flags...]: one twin on the GPU; full output on stdout.
bplab_step() {
  local m=$1 b=$2 k=$3
  shift 3
  "$build/experiments/bench/bench_model_step" --model "$m" --batch "$b" --in-channels 3 --classes 1000 --device cuda \
    --sbp-keep "$k" "$@" 2>&1
}
torch_step() {
  local m=$1 b=$2 k=$3
  shift 3
  PYTHONUNBUFFERED=1 python3 experiments/bench/model_step_torch.py --model "$m" --batch "$b" --in-channels 3 \
    --classes 1000 --device cuda --sbp-keep "$k" "$@" 2>&1
}
bench_pair() { bplab_step "$@"; torch_step "$@"; }
export -f bplab_step torch_step bench_pair

stage_bench() {
  {
    for spec in vit-tiny:256 convnext-tiny:128; do
      for keep in 1 0.5; do
        bench_pair "${spec%%:*}" "${spec##*:}" "$keep" --steps 10 --warmup 3
        # bplab only: PyTorch eager has no switch that recomputes LayerNorm and GELU outputs in backward
        bplab_step "${spec%%:*}" "${spec##*:}" "$keep" --steps 10 --warmup 3 --recompute
      done
    done
    for keep in 1 0.5; do  # PyTorch's fused attention too: the stronger eager baseline on a GPU
      torch_step vit-tiny 256 "$keep" --steps 10 --warmup 3 --sdpa
    done
  } > "$out/bench.txt"
  grep RESULT "$out/bench.txt"
  python3 experiments/gpu/bench_table.py < "$out/bench.txt"  # issue 6's table, ratios included
}

# Not in the default stages: both twins with TF32 tensor cores (bplab --tf32, PyTorch allow_tf32), no SBP.
stage_tf32() {
  {
    for spec in vit-tiny:256 convnext-tiny:128; do
      bench_pair "${spec%%:*}" "${spec##*:}" 1 --steps 10 --warmup 3 --tf32
    done
  } > "$out/tf32.txt"
  grep RESULT "$out/tf32.txt"
  python3 experiments/gpu/bench_table.py < "$out/tf32.txt"
}

# Not in the default stages: both twins in bf16 mixed precision (bplab --amp bf16, PyTorch autocast), with and
# without SBP.
stage_amp() {
  {
    for spec in vit-tiny:256 convnext-tiny:128; do
      for keep in 1 0.5; do
        bench_pair "${spec%%:*}" "${spec##*:}" "$keep" --steps 10 --warmup 3 --amp bf16
      done
    done
  } > "$out/amp.txt"
  grep RESULT "$out/amp.txt"
  python3 experiments/gpu/bench_table.py < "$out/amp.txt"
}

stage_profile() {
  for spec in vit-tiny:256 convnext-tiny:128; do
    bench_pair "${spec%%:*}" "${spec##*:}" 1 --steps 2 --warmup 2 --profile 3
  done > "$out/profile.txt"
  grep -E "^profile over|RESULT" "$out/profile.txt"
}

stage_memcheck() {
  local rc=0 t
  : > "$out/memcheck.log"
  for t in "$build"/tests/test_cuda_*; do
    [[ -f $t && -x $t ]] || continue  # only the programs: CTest writes test_cuda_*.cmake files beside them
    echo "#### $(basename "$t")" >> "$out/memcheck.log"
    timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$t" >> "$out/memcheck.log" 2>&1
    local r=$?
    echo "memcheck $(basename "$t"): exit $r"
    [ $r -ne 0 ] && rc=$r
  done
  grep -E "Invalid|ERROR SUMMARY" "$out/memcheck.log" | sort | uniq -c | head -20
  return $rc
}
# Not in the default list (slow; for a second call): shared-memory races (racecheck) and barrier misuse (synccheck)
# in the kernels, which the CPU emulator cannot see; on the op tests, then the model steps.
stage_racecheck() {
  local rc=0 t tool
  : > "$out/racecheck.log"
  for t in test_cuda_backend_ops test_cuda_models; do
    for tool in racecheck synccheck; do
      echo "#### $tool $t" >> "$out/racecheck.log"
      timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 9 "$build/tests/$t" >> "$out/racecheck.log" 2>&1
      local r=$?
      echo "$tool $t: exit $r"
      [ $r -ne 0 ] && rc=$r
    done
  done
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard" "$out/racecheck.log" | sort | uniq -c | head -20
  return $rc
}
export -f stage_build stage_test stage_bench stage_tf32 stage_amp stage_profile stage_memcheck stage_racecheck

declare -A limit=([build]=300 [test]=200 [bench]=200 [tf32]=120 [amp]=160 [profile]=120 [memcheck]=300 [racecheck]=540)
for stage in "${stages[@]}"; do
  [ -n "${limit[$stage]:-}" ] || { echo "check.sh: unknown stage '$stage' (expected build test bench tf32 amp profile memcheck racecheck)"; exit 2; }
done
say "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1)"
say "== nvcc: $(nvcc --version | tail -1); $(cmake --version | head -1); torch $(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || echo missing)"
for stage in "${stages[@]}"; do
  left=$((budget - SECONDS))
  if [ "$left" -lt 20 ]; then say "== $stage: not started ($budget s budget spent)"; continue; fi
  cut=${limit[$stage]}
  [ "$cut" -gt "$left" ] && cut=$left
  t0=$SECONDS
  timeout --kill-after=5 "$cut" bash -c "stage_$stage" 2>&1 | tee -a "$out/summary.txt"
  rc=${PIPESTATUS[0]}
  say "== $stage: exit $rc after $((SECONDS - t0)) s$([ "$rc" = 124 ] && echo " (cut at $cut s)")"
  if [ "$stage" = build ] && [ "$rc" -ne 0 ]; then say "== build failed: later stages not run"; exit 1; fi
done
