#!/usr/bin/env bash
# tests/cli/cli_device_test.sh — `--device cuda` end to end, on the CUDA emulator and on a real GPU: what a user
# runs there (train, resume, mem, grads, bench) agrees with the CPU.
# Checks: a short augmented SBP training run with Mixup and CutMix matches the same run on the CPU within 1e-4
# and resumes from its checkpoint bit-identically; `bplab eval` gives its last epoch's test metrics again; a run on
# JPEG folders with the SBP paper's recipe (RandAugment, bicubic, erasing; decoded ahead on the GPU) matches the CPU;
# `bplab mem` saves as many bytes for backward; `bplab grads` writes its file; `--tf32` and `--amp bf16` train;
# bench_model_step profiles the GPU's ops.
# Usage (CTest runs it): cli_device_test.sh path/to/bplab path/to/bench_model_step path/to/make_image_folder [gpu]
#   (the emulated programs, or the real ones with "gpu": then it exits 77, CTest's skip, where no GPU is present)
set -uo pipefail
bplab=$1 bench=$2 make_image_folder=$3
if [ "${4:-}" = gpu ]; then  # asks the build itself, as the C++ tests do (nvidia-smi may be missing)
  probe=$("$bplab" mem --model vit-mini --batch 1 --in-channels 1 --classes 10 --warmup 0 --device cuda 2>&1) ||
    if grep -Eq "built without CUDA|usable GPU|no GPU is present" <<< "$probe"; then echo "no GPU: skipped"; exit 77; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"  # fail, expect_error, check_profile, make_tiny_idx; counts $failures
make_tiny_idx "$work/data" 32 16

# field FILE LINE NAME: a number from line LINE of a JSONL file.
field() { sed -n "$2p" "$1" | grep -o "\"$3\":[^,}]*" | cut -d: -f2; }
# close A B TOL: both numbers, and |A − B| ≤ TOL · max(1, |A|).
close() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a; if (s < 1) s = 1; exit !(d <= t * s) }'; }

train=(train --model vit-mini --data-dir "$work/data" --batch 8 --sbp-keep 0.5 --lr 0.01 --augment --mixup 0.8 --cutmix 1.0 --no-progress)
for device in cpu cuda; do
  "$bplab" "${train[@]}" --epochs 2 --device "$device" --out "$work/$device" > "$work/$device.log" 2>&1 ||
    fail "train --device $device: $(tail -5 "$work/$device.log")"
done
grep -q '"device": *"cuda' "$work/cuda/config.json" || fail "config.json does not record --device cuda"
[ -s "$work/cuda/checkpoint.safetensors" ] || fail "train --device cuda wrote no checkpoint"
for epoch in 1 2; do
  for name in train_loss test_loss test_acc model_norm; do
    a=$(field "$work/cpu/metrics.jsonl" $epoch $name) b=$(field "$work/cuda/metrics.jsonl" $epoch $name)
    close "$a" "$b" 1e-4 || fail "epoch $epoch $name: cpu $a, cuda $b (expected within 1e-4)"
  done
done

# Stopped after one epoch and resumed for the second: the same metrics, to the last digit (seconds aside).
"$bplab" "${train[@]}" --epochs 1 --device cuda --out "$work/resumed" > "$work/resumed.log" 2>&1 &&
  "$bplab" "${train[@]}" --epochs 2 --device cuda --out "$work/resumed" --resume >> "$work/resumed.log" 2>&1 ||
  fail "train --device cuda --resume: $(tail -5 "$work/resumed.log")"
strip() { sed 's/,"seconds":[^,}]*//; s/,"data_seconds":[^,}]*//' "$1"; }
[ "$(strip "$work/resumed/metrics.jsonl")" = "$(strip "$work/cuda/metrics.jsonl")" ] ||
  fail "resumed run differs from the uninterrupted one: $(strip "$work/resumed/metrics.jsonl") vs $(strip "$work/cuda/metrics.jsonl")"

# bplab eval on the device: the checkpoint's test loss, top-1 and top-5 are the last epoch's.
if out=$("$bplab" eval --run "$work/cuda" --data-dir "$work/data" --device cuda --json --no-progress 2>&1); then
  for pair in loss:test_loss top1:test_acc top5:test_top5; do
    a=$(grep -o "\"${pair%%:*}\":[^,}]*" <<< "$out" | head -1 | cut -d: -f2) b=$(field "$work/cuda/metrics.jsonl" 2 "${pair#*:}")
    close "$a" "$b" 1e-6 || fail "eval --device cuda: ${pair%%:*} $a, the run's last ${pair#*:} $b"
  done
else
  fail "eval --device cuda: $out"
fi

# Image folders with the recipe's transforms: the batches are made on the host (ahead of the step on the GPU,
# in its place on the CPU), so the two runs differ only in arithmetic.
"$make_image_folder" --out "$work/jpegs" --classes 3 --train 8 --val 2 > /dev/null || fail "make_image_folder"
folder=(train --model vit-mini --data folder --data-dir "$work/jpegs" --batch 4 --epochs 1 --lr 0.01 --augment --mixup 0.8
        --rand-augment rand-m9-mstd0.5-inc1 --interpolation bicubic --random-erase 0.25 --no-progress)
for device in cpu cuda; do
  "$bplab" "${folder[@]}" --device "$device" --out "$work/folder-$device" > "$work/folder-$device.log" 2>&1 ||
    fail "train --data folder --device $device: $(tail -5 "$work/folder-$device.log")"
done
for name in train_loss test_loss test_acc; do
  a=$(field "$work/folder-cpu/metrics.jsonl" 1 $name) b=$(field "$work/folder-cuda/metrics.jsonl" 1 $name)
  close "$a" "$b" 1e-4 || fail "image folders, $name: cpu $a, cuda $b (expected within 1e-4)"
done

# Bytes saved for backward are counted by the device's allocator: the same graph saves the same on both.
mem=(mem --model vit-mini --batch 4 --in-channels 1 --classes 10 --warmup 0)
saved() { grep "saved for backward" <<< "$1" | tr -s ' |' ' ' | cut -d' ' -f5-6; }
cpu_out=$("$bplab" "${mem[@]}" --device cpu 2>&1) || fail "mem --device cpu: $cpu_out"
gpu_out=$("$bplab" "${mem[@]}" --device cuda 2>&1) || fail "mem --device cuda: $gpu_out"
[ -n "$(saved "$cpu_out")" ] && [ "$(saved "$cpu_out")" = "$(saved "$gpu_out")" ] ||
  fail "mem: saved for backward (exact, SBP) cpu '$(saved "$cpu_out")', cuda '$(saved "$gpu_out")'"

"$bplab" grads --model vit-mini --data random --batch 2 --device cuda --out "$work/grads.safetensors" > "$work/grads.log" 2>&1 ||
  fail "grads --device cuda: $(tail -5 "$work/grads.log")"
[ -s "$work/grads.safetensors" ] || fail "grads --device cuda wrote no file"

# --tf32: a run whose f32 products use TF32 operands trains (loss within TF32's reach of the f32 run's), and says so.
"$bplab" "${train[@]}" --epochs 1 --device cuda --tf32 --out "$work/tf32" > "$work/tf32.log" 2>&1 ||
  fail "train --device cuda --tf32: $(tail -5 "$work/tf32.log")"
grep -q '"tf32": *true' "$work/tf32/config.json" || fail "config.json does not record --tf32"
a=$(field "$work/cuda/metrics.jsonl" 1 train_loss) b=$(field "$work/tf32/metrics.jsonl" 1 train_loss)
close "$a" "$b" 1e-2 || fail "--tf32: epoch 1 train_loss $b, f32 $a (expected within 1e-2)"
out=$("$bench" --model vit-mini --batch 2 --steps 1 --warmup 0 --device cuda --tf32 2>&1) && grep -q "tf32=1" <<< "$out" ||
  fail "bench --tf32: $out"

# --amp bf16: the run on the device rounds the same operands as the CPU's (a LayerNorm output an f32 ulp apart
# may round to the next bf16 value: 1e-2), and keeps the same bf16 bytes for backward.
for device in cpu cuda; do
  "$bplab" "${train[@]}" --epochs 1 --device "$device" --amp bf16 --out "$work/amp-$device" > "$work/amp-$device.log" 2>&1 ||
    fail "train --device $device --amp bf16: $(tail -5 "$work/amp-$device.log")"
done
for name in train_loss test_loss; do
  a=$(field "$work/amp-cpu/metrics.jsonl" 1 $name) b=$(field "$work/amp-cuda/metrics.jsonl" 1 $name)
  close "$a" "$b" 1e-2 || fail "--amp bf16, $name: cpu $a, cuda $b (expected within 1e-2)"
done
cpu_out=$("$bplab" "${mem[@]}" --device cpu --amp bf16 2>&1) || fail "mem --amp bf16 --device cpu: $cpu_out"
gpu_out=$("$bplab" "${mem[@]}" --device cuda --amp bf16 2>&1) || fail "mem --amp bf16 --device cuda: $gpu_out"
[ -n "$(saved "$cpu_out")" ] && [ "$(saved "$cpu_out")" = "$(saved "$gpu_out")" ] ||
  fail "mem --amp bf16: saved for backward (exact, SBP) cpu '$(saved "$cpu_out")', cuda '$(saved "$gpu_out")'"

check_profile 1 "$bench" --model vit-mini --batch 2 --steps 1 --warmup 1 --profile 1 --device cuda
grep -q "on cuda" <<< "$out" || fail "bench --device cuda: the result line does not name the device: $out"

[ "$failures" -eq 0 ] && echo "cli --device cuda: all checks passed"
exit $((failures > 0))
