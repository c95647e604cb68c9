#!/bin/bash
# Restore planner benchmark (by hand): time and memory to plan one snapshot of N chunks, against SQLite reading the same rows.
# usage: bench/plan_bench.sh [N_CHUNKS...]   (default 250000 1000000: a 1 TiB and a 4 TiB image in 4 MiB chunks)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
[ -f build/libtapir.a ] || bash scripts/build.sh build >/dev/null
out=$(mktemp -d /var/tmp/tapir-plan-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc -o "$out/plan_bench" bench/plan_bench.c build/libtapir.a \
	$(pkg-config --cflags --libs jansson libzstd openssl sqlite3 uuid zlib) -lpthread
for n in "${@:-250000 1000000}"; do
	for m in $n; do
		rm -rf "$out/home" && mkdir -p "$out/home"
		echo "== $m chunks"
		TAPIR_HOME=$out/home "$out/plan_bench" "$m"
	done
done
