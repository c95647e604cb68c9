#!/bin/sh
# Lists the .c files of one source folder, sorted, one per line (meson glob helper).
cd "$(dirname "$0")/.." || exit 1
[ -d "$1" ] || exit 0
find "$1" -maxdepth 1 -name '*.c' | LC_ALL=C sort
