#!/bin/bash
# CRC-32 micro-benchmark (by hand): builds bench/crc_bench.c against a build dir's libtapir.a and runs it.
# usage: bench/crc_bench.sh [BUILD_DIR]   (default build; build it first with scripts/build.sh)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
[ -f "$B/libtapir.a" ] || { echo "no $B/libtapir.a (run scripts/build.sh first)" >&2; exit 1; }
out=$(mktemp /tmp/crc_bench.XXXXXX)
trap 'rm -f "$out"' EXIT
${CC:-cc} -O2 -I"$TOP/src" "$TOP/bench/crc_bench.c" "$B/libtapir.a" $(pkg-config --libs libcrypto zlib) -o "$out"
"$out"
