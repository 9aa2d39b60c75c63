# tests/cli/lib.sh — sourced by the command-line tests: failure counting, expected errors, and a tiny
# MNIST-shaped dataset in IDX files.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_error WHAT REGEX CMD...: CMD must exit non-zero and print a line matching REGEX.
expect_error() {
  local what=$1 regex=$2; shift 2
  if out=$("$@" 2>&1); then fail "$what: exit 0 (expected an error)"; return; fi
  grep -Eq -- "$regex" <<< "$out" || fail "$what: no line matches '$regex' in: $out"
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# check_profile STEPS CMD...: CMD (bench_model_step on vit-mini with --profile STEPS) must succeed and print the
# profile's header and linear_forward's row (25 calls a step: 4 per block and the head); leaves its output in $out.
check_profile() {
  local steps=$1; shift
  if ! out=$("$@" 2>&1); then fail "$*: $out"; return; fi
  grep -q "^profile over $steps steps" <<< "$out" || fail "$*: no profile header in: $out"
  grep -Eq "^  linear_forward +25\.0 " <<< "$out" || fail "$*: no row of 25 linear_forward calls a step in: $out"
}

# make_tiny_idx DIR N_TRAIN N_TEST: random 28×28 images, labels 0..9 in turn (train-* and t10k-* files).
be32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"; }
make_idx_split() {  # make_idx_split DIR PREFIX N: a big-endian header, then bytes
  { be32 2051; be32 "$3"; be32 28; be32 28; head -c $(($3 * 784)) /dev/urandom; } > "$1/$2-images-idx3-ubyte"
  { be32 2049; be32 "$3"; for ((i = 0; i < $3; i++)); do printf "\\x0$((i % 10))"; done; } > "$1/$2-labels-idx1-ubyte"
}
make_tiny_idx() {
  mkdir -p "$1"
  make_idx_split "$1" train "$2"
  make_idx_split "$1" t10k "$3"
}

# make_mlp_batch PATH LABEL...: a safetensors file with x (B, 784) F32 zeros and y (B) I64 = the labels; with
# NAN_PIXELS=1, every x byte is 0xff (each pixel a NaN).
le64() { local v=$1 i; for ((i = 0; i < 8; i++)); do printf '\\x%02x' $((v >> (8 * i) & 255)); done; }  # as printf escapes
make_mlp_batch() {
  local path=$1; shift
  local b=$# xb=$(($# * 3136))
  local header="{\"x\":{\"dtype\":\"F32\",\"shape\":[$b,784],\"data_offsets\":[0,$xb]},\"y\":{\"dtype\":\"I64\",\"shape\":[$b],\"data_offsets\":[$xb,$((xb + 8 * b))]}}"
  { printf "$(le64 ${#header})"; printf '%s' "$header"
    if [ "${NAN_PIXELS:-0}" = 1 ]; then head -c "$xb" /dev/zero | tr '\0' '\377'; else head -c "$xb" /dev/zero; fi
    for label in "$@"; do printf "$(le64 "$label")"; done; } > "$path"
}
