#!/usr/bin/env bash
# experiments/setup.sh — installs what bplab needs from Debian's packages, only what is missing.
# Called by run_mnist.sh and run_tests.sh, so each works alone on a fresh Debian/Ubuntu machine.
set -euo pipefail

# package -> the file that shows it is installed
declare -A needs=(
  [cmake]=/usr/bin/cmake
  [g++]=/usr/bin/g++
  [make]=/usr/bin/make
  [libeigen3-dev]=/usr/include/eigen3/Eigen/Core
  [catch2]=/usr/include/catch2/catch.hpp
  [zlib1g-dev]=/usr/include/zlib.h
  [libjpeg-dev]=/usr/include/jpeglib.h
  [libpng-dev]=/usr/include/png.h
  [python3]=/usr/bin/python3
)
missing=()
for pkg in "${!needs[@]}"; do
  [ -e "${needs[$pkg]}" ] || missing+=("$pkg")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
