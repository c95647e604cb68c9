#!/bin/bash
# Layering (design.md "Layers"): a file includes only headers of its own layer and of the layers above it.
. "$(dirname "$0")/lib.sh"
order=(base crypto format store tape access task api cli)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo 99; }
bad=""
for f in "$TOP"/src/*/*.[ch]; do
	layer=$(basename "$(dirname "$f")")
	mine=$(rank "$layer")
	[ "$mine" = 99 ] && bad+="$f: not in a known layer"$'\n'
	for dep in $(grep -o '^#include "[a-z_]*/' "$f" | sed 's/#include "//; s|/$||' | sort -u); do
		[ "$(rank "$dep")" -le "$mine" ] || bad+="${f#"$TOP"/} includes $dep/ (a lower layer)"$'\n'
	done
done
[ -z "$bad" ] || fail "layering broken:"$'\n'"$bad"
echo ok
