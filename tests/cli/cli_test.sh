#!/usr/bin/env bash
# tests/cli/cli_test.sh — the command lines a user types: bplab train's study flags (--train-size,
# --grad-norms-every, --device) on a tiny IDX dataset made here, --data folder on synthetic JPEGs, and
# bench_model_step's --profile and --recompute.
# Usage (CTest runs it): cli_test.sh path/to/bplab path/to/bench_model_step path/to/make_image_folder
set -uo pipefail
bplab=$1 bench=$2 make_image_folder=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"  # fail, expect_error, lines, check_profile, make_tiny_idx; counts $failures
# 80 training and 20 test images of 28×28 in IDX files under $work/data.
make_tiny_idx "$work/data" 80 20

help=$("$bplab" train --help 2>&1) || fail "train --help: exit non-zero"
for flag in --train-size --grad-norms-every --device --recompute; do
  grep -q -- "$flag" <<< "$help" || fail "train --help does not list $flag"
done

common=(train --model mlp --hidden 16 --data-dir "$work/data" --batch 16 --epochs 1 --no-progress)
expect_error "--device tpu" "--device.*tpu" "$bplab" "${common[@]}" --device tpu --out "$work/bad"
expect_error "--train-size too large" "--train-size 81: expected 0 \(all\) to 80" \
  "$bplab" "${common[@]}" --train-size 81 --out "$work/bad"
expect_error "--train-size negative" "--train-size -1" "$bplab" "${common[@]}" --train-size -1 --out "$work/bad"
expect_error "--grad-norms-every not a number" "--grad-norms-every" \
  "$bplab" "${common[@]}" --grad-norms-every often --out "$work/bad"
expect_error "--recompute on the MLP" "--recompute: .*the MLP has none" "$bplab" "${common[@]}" --recompute --out "$work/bad"
if ! nvidia-smi -L > /dev/null 2>&1; then  # no GPU here: asking for one is a clear error, not a crash
  expect_error "--device cuda without a GPU" "built without CUDA|usable GPU|no GPU is present" \
    "$bplab" "${common[@]}" --device cuda --out "$work/bad"
fi

# 48 of the 80 images, batches of 16: 3 steps, a gradient-norm line at steps 2 (every 2); one metrics line.
if "$bplab" "${common[@]}" --train-size 48 --grad-norms-every 2 --out "$work/run" > "$work/run.log" 2>&1; then
  [ "$(lines "$work/run/metrics.jsonl")" = 1 ] || fail "metrics.jsonl: $(lines "$work/run/metrics.jsonl") lines (expected 1)"
  [ "$(lines "$work/run/grad_norms.jsonl")" = 1 ] || fail "grad_norms.jsonl: $(lines "$work/run/grad_norms.jsonl") lines (expected 1: step 2 of 3)"
  grep -q '"step": *2' "$work/run/grad_norms.jsonl" || fail "grad_norms.jsonl does not record step 2"
  grep -q '"device": *"cpu"' "$work/run/config.json" || fail "config.json does not record the device"
  grep -q '"train_examples": *48' "$work/run/config.json" || fail "config.json does not record --train-size 48"
else
  fail "tiny training run: $(tail -5 "$work/run.log")"
fi
# A run folder is not replaced by accident, and a resumed run must be the same run.
expect_error "a second run into the same --out" "already holds a run.*--resume.*--overwrite" \
  "$bplab" "${common[@]}" --train-size 48 --grad-norms-every 1 --out "$work/run"
[ "$(lines "$work/run/grad_norms.jsonl")" = 1 ] || fail "a refused run emptied the earlier run's grad_norms.jsonl"
expect_error "--resume with another --lr" "differ from the run.*lr 0.1 -> 0.2" \
  "$bplab" "${common[@]}" --train-size 48 --lr 0.2 --resume --out "$work/run"
expect_error "--resume with Nesterov momentum added" "differ from the run.*nesterov false -> true" \
  "$bplab" "${common[@]}" --train-size 48 --momentum 0.9 --nesterov --resume --out "$work/run"
expect_error "--resume of a finished run" "already trained 1 epochs" \
  "$bplab" "${common[@]}" --train-size 48 --resume --out "$work/run"
touch "$work/run/checkpoint.safetensors.tmp.4242" "$work/run/notes.tmp.txt"  # a killed write's leftover; the user's file
# A line logged after the checkpoint (and one cut short by a crash) is dropped and written again on resume.
printf '{"epoch":2,"stale":1}\n{"epoch":' >> "$work/run/metrics.jsonl"
"$bplab" "${common[@]}" --train-size 48 --epochs 2 --resume --out "$work/run" > /dev/null 2>&1 &&
  [ "$(lines "$work/run/metrics.jsonl")" = 2 ] && ! grep -q stale "$work/run/metrics.jsonl" ||
  fail "--resume to epoch 2: metrics.jsonl is $(cat "$work/run/metrics.jsonl")"
[ ! -e "$work/run/checkpoint.safetensors.tmp.4242" ] && [ -e "$work/run/notes.tmp.txt" ] ||
  fail "the resumed run left a killed write's file, or removed another: $(ls "$work/run")"
"$bplab" "${common[@]}" --train-size 48 --method backforward --out "$work/bf" > /dev/null 2>&1 || fail "a backforward run"
cp "$work/run/checkpoint.safetensors" "$work/bf/"
expect_error "--resume from a checkpoint copied from another run" "written by a run with method backprop, not backforward" \
  "$bplab" "${common[@]}" --train-size 48 --method backforward --epochs 3 --resume --out "$work/bf"
head -1 "$work/run/metrics.jsonl" > "$work/one" && mv "$work/one" "$work/run/metrics.jsonl"
"$bplab" "${common[@]}" --train-size 48 --epochs 3 --resume --out "$work/run" > "$work/gap.log" 2>&1 ||
  fail "--resume over a metrics gap: $(tail -3 "$work/gap.log")"
grep -q "warning: .*metrics.jsonl holds 1 lines for the 2 epochs" "$work/gap.log" || fail "no warning about the gap: $(cat "$work/gap.log")"
cosine=("${common[@]}" --train-size 48 --schedule cosine --out "$work/cosine")
"$bplab" "${cosine[@]}" > /dev/null 2>&1 || fail "a cosine run did not train"
expect_error "--resume with other --epochs under cosine" "epochs 1 -> 2" "$bplab" "${cosine[@]}" --epochs 2 --resume
"$bplab" "${common[@]}" --train-size 48 --overwrite --out "$work/run" > /dev/null 2>&1 &&
  [ "$(lines "$work/run/metrics.jsonl")" = 1 ] || fail "--overwrite: $(lines "$work/run/metrics.jsonl") metrics lines"
# bplab step takes a training checkpoint's MLP weights; its batch file is checked before the step.
make_mlp_batch "$work/batch.safetensors" 3 7
if out=$("$bplab" step --weights "$work/run/checkpoint.safetensors" --batch "$work/batch.safetensors" \
           --out "$work/step.safetensors" 2>&1); then
  grep -q "loss .* -> " <<< "$out" && [ -s "$work/step.safetensors" ] || fail "step: no loss line or no output: $out"
else
  fail "step from a training checkpoint: $out"
fi
make_mlp_batch "$work/bad-label.safetensors" 3 12
expect_error "step: a label past the classes" "y\[1\] is 12 \(expected a class in 0..9\)" \
  "$bplab" step --weights "$work/run/checkpoint.safetensors" --batch "$work/bad-label.safetensors" --out "$work/bad.st"
make_mlp_batch "$work/empty.safetensors"
expect_error "step: an empty batch" "x has shape \(0, 784\).*B >= 1" \
  "$bplab" step --weights "$work/run/checkpoint.safetensors" --batch "$work/empty.safetensors" --out "$work/bad.st"
# Values that would train on garbage are refused before any work.
expect_error "--batch above the training set" "no full batch" "$bplab" "${common[@]}" --train-size 8 --out "$work/bad"
[ ! -e "$work/bad" ] || fail "a refused run made its folder"
NAN_PIXELS=1 make_mlp_batch "$work/nan.safetensors" 3 7
expect_error "step: NaN pixels" "the loss is nan before the step.* not written" \
  "$bplab" step --weights "$work/run/checkpoint.safetensors" --batch "$work/nan.safetensors" --out "$work/nan-step.st"
[ ! -e "$work/nan-step.st" ] || fail "step wrote its output for a NaN loss"
expect_error "step: --weight-decay -1" "weight decay -1.* \(expected >= 0\)" \
  "$bplab" step --weights "$work/run/checkpoint.safetensors" --batch "$work/batch.safetensors" --weight-decay -1 --out "$work/bad.st"
# A replacement that cannot start leaves the run it would replace as it was.
expect_error "--overwrite with a batch above the training set" "no full batch" \
  "$bplab" "${common[@]}" --train-size 8 --overwrite --out "$work/run"
[ -s "$work/run/checkpoint.safetensors" ] && [ "$(lines "$work/run/metrics.jsonl")" = 1 ] ||
  fail "a refused --overwrite changed the run: $(ls "$work/run")"
# One that fails on its first step leaves no checkpoint of the run it replaced beside its own config.
cp -r "$work/run" "$work/replaced"
expect_error "--overwrite that diverges" "loss is (nan|inf)" \
  "$bplab" "${common[@]}" --train-size 48 --weight-decay 1e30 --overwrite --out "$work/replaced"
[ ! -e "$work/replaced/checkpoint.safetensors" ] || fail "a failed --overwrite kept the replaced run's checkpoint"
expect_error "--min-lr above --lr" "--min-lr 5(\.0)?: above the learning rate 0.1" \
  "$bplab" "${common[@]}" --schedule cosine --min-lr 5 --out "$work/bad"
expect_error "--min-lr without cosine" "--min-lr: for --schedule cosine" "$bplab" "${common[@]}" --min-lr 0.01 --out "$work/bad"
expect_error "--momentum with AdamW" "--momentum: for --optimizer sgd" \
  "$bplab" "${common[@]}" --optimizer adamw --momentum 0.9 --out "$work/bad"
expect_error "--ema negative" "--ema -0.5: expected 0 \(off\) or a decay" "$bplab" "${common[@]}" --ema -0.5 --out "$work/bad"
expect_error "a flag where a value belongs" "--out needs a value \(got the flag --overwrite\)" "$bplab" "${common[@]}" --out --overwrite
expect_error "--lr in hexadecimal" "--lr 0x10: expected a finite number" "$bplab" "${common[@]}" --lr 0x10 --out "$work/bad"
expect_error "--hidden empty" "--hidden is empty" "$bplab" "${common[@]}" --hidden "" --out "$work/bad"
expect_error "--out on a file" "--out .*: a file is there" "$bplab" "${common[@]}" --out "$work/batch.safetensors"
expect_error "grads --out empty" "--out is empty" "$bplab" grads --model vit-mini --out ""
expect_error "--lr inf" "--lr inf: expected a finite number" "$bplab" "${common[@]}" --lr inf --out "$work/bad"
expect_error "--weight-decay -1" "--weight-decay -1: expected >= 0" "$bplab" "${common[@]}" --weight-decay -1 --out "$work/bad"
expect_error "--threads past the cores" "--threads 100000: expected 0 \(all\) to" \
  "$bplab" "${common[@]}" --threads 100000 --out "$work/bad"
expect_error "--classes 0" "0 classes" "$bplab" mem --model vit-mini --batch 2 --classes 0
expect_error "compare with a bad lr among good ones" "--lrs 0.1,-1: learning rate -1(\.0)?: expected >= 0" \
  "$bplab" compare --model mlp --hidden 16 --data-dir "$work/data" --lrs 0.1,-1 --out "$work/bad"
expect_error "compare: --min-lr above one of the rates, refused before any run" "--lrs 0.1,0.001: --min-lr 0.01: above the learning rate 0.001" \
  "$bplab" compare --model mlp --hidden 16 --data-dir "$work/data" --lrs 0.1,0.001 --schedule cosine --min-lr 0.01 --out "$work/cmp-bad"
[ ! -e "$work/cmp-bad" ] || fail "a refused compare made its folder"
expect_error "toy --lr -1" "--lr -1: expected >= 0" "$bplab" toy --data-dir "$work/data" --lr -1 --out "$work/bad"
# compare: the 2x-lr control of 0.05 is the run at 0.1, made once and shown in both rows.
if out=$("$bplab" compare --model mlp --hidden 16 --data-dir "$work/data" --batch 16 --epochs 1 --methods backprop \
           --lrs 0.1,0.05 --double-lr-control --no-progress --out "$work/cmp" 2>&1); then
  grep -q "4 rows (3 runs)" <<< "$out" || fail "compare: not 4 rows of 3 runs: $out"
  [ "$(grep -c '^| backprop' "$work/cmp/summary.md")" = 4 ] || fail "compare summary: $(cat "$work/cmp/summary.md")"
else
  fail "compare: $out"
fi
"$bplab" mem --model convnext-mini --batch 2 --image-size 64 --threads 1 > "$work/mem.log" 2>&1 ||
  fail "mem --image-size 64 on convnext-mini: $(tail -3 "$work/mem.log")"

# --recompute reaches the model and trains the same ViT: without layer scale every gradient is bit-identical,
# so the metrics are too (all but the seconds).
vit=(train --model vit-mini --data-dir "$work/data" --batch 16 --epochs 1 --train-size 32 --optimizer adamw --lr 1e-3
     --no-progress)
if "$bplab" "${vit[@]}" --out "$work/vit" > "$work/vit.log" 2>&1 &&
   "$bplab" "${vit[@]}" --recompute --out "$work/vit-rc" >> "$work/vit.log" 2>&1; then
  no_seconds() { sed 's/"seconds":[^,}]*//; s/"data_seconds":[^,}]*//' "$1"; }
  [ "$(no_seconds "$work/vit/metrics.jsonl")" = "$(no_seconds "$work/vit-rc/metrics.jsonl")" ] ||
    fail "train --recompute: vit-mini metrics differ: $(cat "$work/vit/metrics.jsonl" "$work/vit-rc/metrics.jsonl")"
  grep -q '"recompute": *true' "$work/vit-rc/config.json" || fail "config.json does not record --recompute"
else
  fail "vit-mini training runs: $(tail -5 "$work/vit.log")"
fi

# --amp bf16: recorded, announced, evaluated by eval as trained (same --threads), and part of the run's identity.
if "$bplab" "${vit[@]}" --amp bf16 --threads 1 --out "$work/vit-amp" > "$work/vit-amp.log" 2>&1; then
  grep -q '"amp": *"bf16"' "$work/vit-amp/config.json" || fail "--amp: not recorded in config.json"
  grep -q "^Mixed precision: the linear layers, convolutions, attention and GELU read" "$work/vit-amp.log" ||
    fail "train --amp does not say so: $(head -3 "$work/vit-amp.log")"
  ! cmp -s <(no_seconds "$work/vit/metrics.jsonl") <(no_seconds "$work/vit-amp/metrics.jsonl") ||
    fail "train --amp bf16: the same metrics as f32 (was anything rounded?)"
  if out=$("$bplab" eval --run "$work/vit-amp" --json --no-progress --threads 1 2>&1); then
    want=$(tail -1 "$work/vit-amp/metrics.jsonl" | sed 's/.*"test_loss":\([^,]*\),"test_acc":\([^,]*\),"test_top5":\([^,]*\),.*/"loss":\1,"top1":\2,"top5":\3/')
    grep -qF "\"model\":{$want}" <<< "$out" || fail "eval of an --amp run: $out (expected the last epoch's $want)"
  else
    fail "eval of an --amp run: $out"
  fi
  expect_error "--resume without the run's --amp" 'amp "bf16" -> ""' \
    "$bplab" "${vit[@]}" --epochs 2 --resume --out "$work/vit-amp"
else
  fail "vit-mini --amp bf16: $(tail -5 "$work/vit-amp.log")"
fi
expect_error "--amp fp16" "--amp 'fp16': expected bf16 \(fp16 needs loss scaling" "$bplab" "${common[@]}" --amp fp16 --out "$work/bad"
amp=$("$bench" --model vit-mini --batch 8 --steps 1 --warmup 1 --amp bf16 2>&1)
grep -q "^RESULT .* amp=bf16 " <<< "$amp" || fail "bench --amp bf16: no RESULT line with amp=bf16: $amp"

expect_error "bench --profile -1" "--profile -1: expected >= 0" "$bench" --profile -1
expect_error "bench --batch x" "--batch" "$bench" --batch x
help=$("$bench" --help 2>&1) || fail "bench --help: exit non-zero"
grep -q -- "--sbp-keep" <<< "$help" || fail "bench --help does not list --sbp-keep: $help"
check_profile 2 "$bench" --model vit-mini --batch 4 --steps 1 --warmup 1 --profile 2

# --recompute keeps fewer bytes for backward: the step's peak above parameters and moments falls; RESULT says so.
peak_of() { sed -n 's/^RESULT .* peak_above_mb=\([0-9.]*\).*/\1/p'; }
plain=$("$bench" --model convnext-mini --batch 8 --steps 1 --warmup 1 2>&1)
lean=$("$bench" --model convnext-mini --batch 8 --steps 1 --warmup 1 --recompute 2>&1)
grep -q "^RESULT .* recompute=1 " <<< "$lean" || fail "bench --recompute: no RESULT line with recompute=1: $lean"
awk -v a="$(peak_of <<< "$lean")" -v b="$(peak_of <<< "$plain")" 'BEGIN { exit !(a > 0 && a < 0.8 * b) }' ||
  fail "bench --recompute: peak $(peak_of <<< "$lean") MiB is not below 0.8 x $(peak_of <<< "$plain") MiB"

# SIGTERM stops a run after its current step, with a checkpoint there; --resume then ends where a run straight
# ends: the same metrics (but times) and the same checkpoint, byte for byte.
sig=(train --model vit-mini --data-dir "$work/data" --batch 8 --epochs 10 --no-progress --threads 1 --checkpoint-every 3)
"$bplab" "${sig[@]}" --out "$work/straight" > /dev/null 2>&1 || fail "the run straight for the SIGTERM test"
"$bplab" "${sig[@]}" --out "$work/stopped" > "$work/stopped.log" 2>&1 &
pid=$!
# stdout goes to the log line by line (a second signal, which ends the program at once, keeps what was printed):
# the table's header is there while epoch 1 (0.2 s here) still runs, not only with its row, whose print flushes.
for _ in $(seq 500); do snap=$(cat "$work/stopped.log"); grep -q "^epoch  *train_loss" <<< "$snap" && break; sleep 0.01; done
grep -q "^epoch  *train_loss" <<< "$snap" && ! grep -Eq "^ +1 +[0-9]" <<< "$snap" ||
  fail "stdout: the header was not in the log before epoch 1's row: $snap"
# Once epoch 1 is logged (10 steps an epoch), nine epochs are left to stop in.
for _ in $(seq 200); do [ "$(lines "$work/stopped/metrics.jsonl")" -ge 1 ] && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 0 ]; then
  fail "SIGTERM: the run finished before the signal came (make it longer)"
elif [ "$rc" = 143 ] && grep -q "^stopped by SIGTERM .*--resume (not --overwrite) continues it$" "$work/stopped.log"; then
  "$bplab" "${sig[@]}" --resume --out "$work/stopped" > "$work/resumed.log" 2>&1 || fail "--resume after SIGTERM: $(tail -3 "$work/resumed.log")"
  grep -q "^resumed from .*checkpoint.safetensors" "$work/resumed.log" || fail "--resume after SIGTERM: $(head -3 "$work/resumed.log")"
  untimed() { sed 's/"seconds":[^,}]*//; s/"data_seconds":[^,}]*//' "$1"; }
  [ "$(untimed "$work/straight/metrics.jsonl")" = "$(untimed "$work/stopped/metrics.jsonl")" ] ||
    fail "stopped and resumed: metrics differ from the run straight: $(diff <(untimed "$work/straight/metrics.jsonl") <(untimed "$work/stopped/metrics.jsonl") | head -4)"
  cmp -s "$work/straight/checkpoint.safetensors" "$work/stopped/checkpoint.safetensors" ||
    fail "stopped and resumed: the final checkpoint differs from the run straight's"
else
  fail "SIGTERM during training: exit $rc (expected 143, killed by the signal) and: $(tail -3 "$work/stopped.log")"
fi
# bplab eval: the run's last checkpoint on its test set gives the last epoch's metrics again.
# The same --threads as the run's: Eigen blocks its products by thread count, and a last bit can differ otherwise.
if out=$("$bplab" eval --run "$work/straight" --json --no-progress --threads 1 2>&1); then  # the run's --data-dir, from config.json
  want=$(tail -1 "$work/straight/metrics.jsonl" | sed 's/.*"test_loss":\([^,]*\),"test_acc":\([^,]*\),"test_top5":\([^,]*\),.*/"loss":\1,"top1":\2,"top5":\3/')
  grep -qF "\"model\":{$want}" <<< "$out" || fail "eval: $out (expected the last epoch's $want)"
else
  fail "eval: $out"
fi
make_tiny_idx "$work/other" 40 10
expect_error "eval on another dataset" "a test set of 10 examples, but the run's had 20" \
  "$bplab" eval --run "$work/straight" --data-dir "$work/other" --no-progress
expect_error "eval without --run" "--run: give the folder" "$bplab" eval
expect_error "eval of a folder that holds no run" "config.json cannot be read" "$bplab" eval --run "$work/nothing"
cp -r "$work/straight" "$work/unknown-model" && sed -i 's/"model": *"[^"]*"/"model": "zzz"/' "$work/unknown-model/config.json"
expect_error "eval of a run whose config names no model bplab has" "config.json: model: model zzz: expected one of mlp, vit-tiny" \
  "$bplab" eval --run "$work/unknown-model" --no-progress
expect_error "--tf32 on the CPU" "--tf32: for --device cuda" "$bplab" "${common[@]}" --tf32 --out "$work/bad"
expect_error "--checkpoint-every negative" "--checkpoint-every -1: expected a number of steps >= 0" \
  "$bplab" "${common[@]}" --checkpoint-every -1 --out "$work/bad"

# --data folder: ImageNet's layout, synthetic JPEGs (a greyscale one every 4th), 3 classes, vit-mini at 28².
"$make_image_folder" --out "$work/jpegs" --classes 3 --train 6 --val 2 --grey-every 4 > /dev/null ||
  fail "make_image_folder did not write $work/jpegs"
folder=(train --model vit-mini --data folder --data-dir "$work/jpegs" --batch 6 --epochs 2 --augment --no-progress)
recipe=(--mixup 0.8 --cutmix 1.0 --random-erase 0.25 --rand-augment rand-m9-mstd0.5-inc1 --interpolation bicubic --sbp-keep 0.5)
if "$bplab" "${folder[@]}" "${recipe[@]}" --out "$work/folder" > "$work/folder.log" 2>&1; then
  grep -q '"random_erase": *0.25' "$work/folder/config.json" || fail "--random-erase: not recorded in config.json"
  grep -q '"rand_augment": *"rand-m9-mstd0.5-inc1"' "$work/folder/config.json" || fail "--rand-augment: not recorded in config.json"
  grep -q '"interpolation": *"bicubic"' "$work/folder/config.json" || fail "--interpolation: not recorded in config.json"
  grep -q "^RandAugment: 2 ops per image from 15 (increasing set), each with p 0.5, magnitude 9 ± 0.5 clipped to 0..10$" "$work/folder.log" ||
    fail "train does not describe RandAugment: $(head -3 "$work/folder.log")"
  grep -q "^SBP: keep 0.5 on 4 of 6 blocks; grid mask keeps 1/2 of the positions on average; attention qkv$" "$work/folder.log" ||
    fail "train does not describe SBP: $(head -2 "$work/folder.log")"
  grep -q '"mixup": *0.8' "$work/folder/config.json" || fail "--mixup: not recorded in config.json"
  [ "$(lines "$work/folder/metrics.jsonl")" = 2 ] || fail "--data folder: $(lines "$work/folder/metrics.jsonl") metrics lines (expected 2)"
  grep -q '"train_examples": *18' "$work/folder/config.json" || fail "--data folder: config.json does not record 18 training images"
  grep -q "on folder (18 train / 6 test)" "$work/folder.log" || fail "--data folder: banner: $(head -1 "$work/folder.log")"
else
  fail "--data folder run: $(tail -5 "$work/folder.log")"
fi
# Resuming on folders whose class names differ (same count) would train on other labels: refused.
cp -r "$work/jpegs" "$work/renamed" && mv "$work/renamed/train/n00000000" "$work/renamed/train/n00000009" &&
  mv "$work/renamed/val/n00000000" "$work/renamed/val/n00000009"
expect_error "--resume on renamed classes" "class_names" \
  "$bplab" "${folder[@]}" "${recipe[@]}" --data-dir "$work/renamed" --epochs 3 \
  --resume --out "$work/folder"
expect_error "--resume with another RandAugment" 'rand_augment "rand-m9-mstd0.5-inc1" -> "rand-m5"' \
  "$bplab" "${folder[@]}" "${recipe[@]}" --rand-augment rand-m5 --epochs 3 --resume --out "$work/folder"
"$bplab" eval --run "$work/folder" --data-dir "$work/jpegs" --no-progress > "$work/eval.log" 2>&1 &&
  grep -q "^model " "$work/eval.log" || fail "eval of the folder run: $(cat "$work/eval.log")"
expect_error "eval of another run's checkpoint" "--checkpoint: .* was written by a run with data folder, not mnist" \
  "$bplab" eval --run "$work/straight" --checkpoint "$work/folder/checkpoint.safetensors" --no-progress
expect_error "eval on renamed classes" "named otherwise than the run's" \
  "$bplab" eval --run "$work/folder" --data-dir "$work/renamed" --no-progress
mkdir -p "$work/one/train" "$work/one/val" && cp -r "$work/jpegs/train/n00000001" "$work/one/train/" &&
  cp -r "$work/jpegs/val/n00000001" "$work/one/val/"
expect_error "--data folder with one class" "has 1 class folder \(expected at least 2" \
  "$bplab" train --model vit-mini --data folder --data-dir "$work/one" --out "$work/bad"
expect_error "make_image_folder --quality 0" "--quality 0: expected 1..100" "$make_image_folder" --out "$work/q0" --quality 0
[ ! -e "$work/q0" ] || fail "make_image_folder --quality 0 left $work/q0 behind"
expect_error "--data folder without --data-dir" "--data folder: give --data-dir" \
  "$bplab" train --model vit-mini --data folder --out "$work/bad"
expect_error "--data folder with --train-size" "--train-size 6: not for --data folder" \
  "$bplab" "${folder[@]}" --train-size 6 --out "$work/bad"
expect_error "--data folder for the MLP" "--data folder: for the image models" "$bplab" train --model mlp --data folder --out "$work/bad"
mkdir -p "$work/train-only" && cp -r "$work/jpegs/train" "$work/train-only/"
expect_error "--data folder, no val/" "train-only/val' does not exist" \
  "$bplab" train --model vit-mini --data folder --data-dir "$work/train-only" --out "$work/bad"
expect_error "--cutmix for the MLP" "--cutmix: for the image models" "$bplab" "${common[@]}" --cutmix 1 --out "$work/bad"
expect_error "--random-erase without --augment" "--random-erase 0.25: for --data folder with --augment" \
  "$bplab" train --model vit-mini --data folder --data-dir "$work/jpegs" --random-erase 0.25 --out "$work/bad"
expect_error "--random-erase on IDX data" "--random-erase 0.25: for --data folder" \
  "$bplab" train --model vit-mini --data-dir "$work/data" --augment --random-erase 0.25 --out "$work/bad"
expect_error "--rand-augment without --augment" "--rand-augment rand-m9: for --data folder with --augment" \
  "$bplab" train --model vit-mini --data folder --data-dir "$work/jpegs" --rand-augment rand-m9 --out "$work/bad"
expect_error "--rand-augment, a bad spec" "--rand-augment rand-m9-inc0: 'inc0': timm reads any inc value as inc1" \
  "$bplab" "${folder[@]}" --rand-augment rand-m9-inc0 --out "$work/bad"
expect_error "--interpolation on IDX data" "--interpolation bicubic: for --data folder" \
  "$bplab" train --model vit-mini --data-dir "$work/data" --interpolation bicubic --out "$work/bad"
expect_error "--interpolation unknown" "--interpolation nearest: expected bilinear or bicubic" \
  "$bplab" "${folder[@]}" --interpolation nearest --out "$work/bad"
expect_error "--random-erase above 1" "--random-erase 2: expected a probability" "$bplab" "${folder[@]}" --random-erase 2 --out "$work/bad"
expect_error "--mixup negative" "--mixup -0.5: expected >= 0" "$bplab" "${folder[@]}" --mixup -0.5 --out "$work/bad"
expect_error "--data unknown" "--data cifar: expected mnist, fashion-mnist or folder" "$bplab" train --data cifar --out "$work/bad"
out=$("$bplab" check-data --data-dir "$work/jpegs" --no-progress 2>&1) || fail "check-data on readable folders: $out"
echo "$out" | grep -q "^every image can be read$" || fail "check-data: $out"
echo "$out" | grep -q "train: 18 images in 3 classes, 0 unreadable; smallest" || fail "check-data's summary: $out"
printf 'not a jpeg' > "$work/jpegs/val/n00000001/broken.jpg"
expect_error "check-data, a broken JPEG" "broken.jpg: neither a JPEG nor a PNG file" \
  "$bplab" check-data --data-dir "$work/jpegs" --no-progress
expect_error "--data folder, a broken JPEG" "broken.jpg: neither a JPEG nor a PNG file" "$bplab" "${folder[@]}" --out "$work/broken"

# grad-sim on random data with more batches than the 4 it used to make.
"$bplab" grad-sim --model vit-mini --data random --batch 4 --batches 6 --out "$work/gs.jsonl" > "$work/gs.log" 2>&1 ||
  fail "grad-sim --data random --batches 6: $(tail -2 "$work/gs.log")"
expect_error "grad-sim --data unknown" "--data cifar: expected fashion-mnist, mnist or random" "$bplab" grad-sim --data cifar

# The GPU run's table (experiments/gpu/bench_table.py) from RESULT lines: ratios, and a dash for a missing run.
table=$(printf '%s\n' "RESULT framework=bplab model=m device=cuda sbp_keep=1 recompute=0 ms_median=10 peak_mb=300" \
  "RESULT framework=pytorch model=m device=cuda sbp_keep=1 ms_median=20 peak_mb=400" |
  python3 "$(dirname "$0")/../../experiments/gpu/bench_table.py" 2>&1)
grep -q "^| m | 1 | 20.0 | — | 10.0 | \*\*0.50×\*\* | — | — | 400.0 | 300.0 | \*\*0.75×\*\* | — |$" <<< "$table" ||
  fail "bench_table.py: $table"

[ "$failures" -eq 0 ] && echo "cli: all checks passed"
exit $((failures > 0))
