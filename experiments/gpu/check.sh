#!/usr/bin/env bash
# experiments/gpu/check.sh — everything a GPU session runs, in one call of the device tool: build with CUDA,
# the whole test suite, compute-sanitizer memcheck on the CUDA tests, and the step benchmark against PyTorch.
# Usage (there): bash experiments/gpu/check.sh [quick]   (carry [".deps"], made by prepare_deps.sh; logs in $OUT)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/bplab-gpu}
mkdir -p "$out"
deps=$PWD/.deps
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

cmake -S . -B build/cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DBPLAB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$deps" -DZLIB_INCLUDE_DIR="$deps/include" -DZLIB_LIBRARY="$deps/lib/libz.a" \
  -DBPLAB_DOCS=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build/cuda -j 16 > "$out/build.log" 2>&1 || { grep -E "error|Error" "$out/build.log" | head -40; exit 1; }
echo "== build ok"

ctest --test-dir build/cuda -j 8 --output-on-failure > "$out/ctest.log" 2>&1
echo "== ctest: $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "Failed|\*\*\*|Skipped" "$out/ctest.log" | head -30

for t in build/cuda/tests/test_cuda_*; do
  compute-sanitizer --tool memcheck --error-exitcode 9 "$t" > "$out/memcheck-$(basename "$t").log" 2>&1
  echo "== memcheck $(basename "$t"): exit $? ($(grep -c 'Invalid\|ERROR' "$out/memcheck-$(basename "$t").log") error lines)"
done
[ "${1:-}" = quick ] && exit 0

bench=build/cuda/experiments/bench/bench_model_step
for spec in vit-tiny:256 convnext-tiny:128; do
  model=${spec%%:*}; batch=${spec##*:}
  for keep in 1 0.5; do
    common=(--model "$model" --batch "$batch" --in-channels 3 --classes 1000 --steps 10 --warmup 3 --device cuda --sbp-keep "$keep")
    "$bench" "${common[@]}" 2>&1 | grep RESULT
    python3 experiments/bench/model_step_torch.py "${common[@]}" 2>&1 | grep RESULT
  done
done | tee "$out/bench.txt"
