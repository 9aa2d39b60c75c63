#!/usr/bin/env bash
# experiments/run_tests.sh — the test command: installs what is missing, builds, runs the whole suite.
# CUDA code is compiled when nvcc is present; CUDA tests report "skipped" on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash experiments/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"
ctest --preset release -j "$(nproc)"
