#!/usr/bin/env bash
# experiments/gpu/prepare_deps.sh — copies the Debian-packaged build inputs that a GPU machine lacks (Eigen,
# Catch2, zlib, libjpeg and libpng headers with their CMake files) into .deps/ (git-ignored), which the device tool carries.
# Usage (here, on the CPU machine): bash experiments/gpu/prepare_deps.sh; then run check.sh there with carry [".deps"].
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .deps
mkdir -p .deps/include .deps/share/eigen3 .deps/lib/cmake .deps/lib
cp -r /usr/include/eigen3 .deps/include/
cp -r /usr/share/eigen3/cmake .deps/share/eigen3/
cp -r /usr/include/catch2 .deps/include/
cp -r /usr/lib/cmake/Catch2 .deps/lib/cmake/
cp /usr/include/zlib.h /usr/include/zconf.h .deps/include/
cp /usr/include/jpeglib.h /usr/include/jerror.h /usr/include/jmorecfg.h /usr/include/x86_64-linux-gnu/jconfig.h .deps/include/
cp /usr/include/libpng16/png.h /usr/include/libpng16/pngconf.h /usr/include/libpng16/pnglibconf.h .deps/include/
cp /usr/lib/x86_64-linux-gnu/libz.a /usr/lib/x86_64-linux-gnu/libjpeg.a /usr/lib/x86_64-linux-gnu/libpng16.a /usr/lib/libCatch2WithMain.a .deps/lib/
du -sh .deps
