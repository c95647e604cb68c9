#!/bin/bash
# Garbage collection: after `snapshot forget`, exactly the unreferenced chunks go (once old enough); verify passes.
. "$(dirname "$0")/lib.sh"

# referenced DIR...: every chunk digest the .fidx/.didx files below DIR reference, sorted, one per line
referenced() {
	python3 - "$@" <<'PY'
import os, sys
out = set()
for top in sys.argv[1:]:
    for root, _, files in os.walk(top):
        for f in files:
            b = open(os.path.join(root, f), 'rb').read()
            if f.endswith('.fidx'):
                out.update(b[o:o + 32].hex() for o in range(4096, len(b), 32))
            elif f.endswith('.didx'):
                out.update(b[o + 8:o + 40].hex() for o in range(4096, len(b), 40))
print('\n'.join(sorted(out)))
PY
}
on_disk() { find "$T/ds/.chunks" -type f -name '????????????????????????????????????????????????????????????????' -printf '%f\n' | sort; }

tapir datastore create gcstore "$T/ds" >/dev/null
mkdir -p "$T/src" "$T/ds/ns/n1"
for i in $(seq 1 12); do head -c 400000 /dev/urandom >"$T/src/r$i"; done
seq 1 200000 >"$T/src/text"
head -c 9000000 /dev/urandom >"$T/img"
tapir backup --store gcstore --type host --id a --time 2026-01-01T00:00:00Z root.pxar:"$T/src" disk.img:"$T/img" >/dev/null
# the second snapshot (in a namespace) keeps half of the files (new mtimes: the catalog chunk changes too, so
# at least it and one pxar chunk become unused even when the whole pxar stream is one chunk) and all but the first image chunk
for i in $(seq 1 6); do head -c 400000 /dev/urandom >"$T/src/r$i"; touch -d '1 hour ago' "$T/src/r$i"; done
printf 'changed' | dd of="$T/img" bs=1 conv=notrunc status=none
tapir backup --store gcstore --ns n1 --type host --id a --time 2026-01-02T00:00:00Z root.pxar:"$T/src" disk.img:"$T/img" >/dev/null
# an unfinished snapshot (no manifest) also protects its chunks, as in PBS
mkdir -p "$T/ds/vm/9/2026-01-03T00:00:00Z"
first_img=$T/ds/host/a/2026-01-01T00:00:00Z/disk.img.fidx
cp "$first_img" "$T/ds/vm/9/2026-01-03T00:00:00Z/disk.img.fidx"

referenced "$T/ds/host" >"$T/ref1"
referenced "$T/ds/ns" "$T/ds/vm" >"$T/keep"
on_disk >"$T/all"
unused=$(comm -23 "$T/all" "$T/keep" | wc -l)
[ "$unused" -ge 2 ] || fail "test data should leave unused chunks, got $unused"
[ "$(comm -13 "$T/all" "$T/keep" | wc -l)" = 0 ] || fail "referenced chunks missing before GC"

tapir snapshot forget --store gcstore host/a/2026-01-01T00:00:00Z >/dev/null
# fresh chunks are younger than 24 h 5 min: nothing goes yet, the unused ones are pending
out=$(tapir garbage-collect --store gcstore --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["removed-chunks"]')" = 0 ] || fail "fresh chunks removed: $out"
[ "$(json_get "$out" 'j["pending-chunks"]')" = "$unused" ] || fail "pending != $unused: $out"
[ "$(json_get "$out" 'j["disk-chunks"]')" = "$(wc -l <"$T/keep")" ] || fail "kept count: $out"
[ -f "$T/ds/.gc-status" ] || fail "no .gc-status written"
cmp -s <(on_disk) "$T/all" || fail "first GC removed something"

# pretend everything was last used two days ago; GC's mark phase touches what is referenced
find "$T/ds/.chunks" -type f -exec touch -a -d '2 days ago' {} +
# a stale temp file of an interrupted insert, and an in-flight one
some=$(head -n 1 "$T/keep")
stale=$T/ds/.chunks/${some:0:4}/$some.tmp_1_dead
fresh=$T/ds/.chunks/${some:0:4}/$some.tmp_2_live
echo x >"$stale"; echo y >"$fresh"
touch -d '2 days ago' "$stale"
out=$(tapir garbage-collect --store gcstore --dry-run --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["removed-chunks"]')" = "$unused" ] || fail "dry run would remove != $unused: $out"
cmp -s <(on_disk) "$T/all" || fail "dry run removed chunks"
find "$T/ds/.chunks" -type f -exec touch -a -d '2 days ago' {} +
touch -d '2 days ago' "$stale"
out=$(tapir garbage-collect --store gcstore --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["removed-chunks"]')" = "$unused" ] || fail "removed != $unused: $out"
[ "$(json_get "$out" 'j["removed-tmp"]')" = 1 ] || fail "stale temp file not counted: $out"
[ "$(json_get "$out" 'j["pending-chunks"]')" = 0 ] || fail "pending after aging: $out"
cmp -s <(on_disk) "$T/keep" || fail "chunks on disk differ from the referenced set: $(diff <(on_disk) "$T/keep" | head)"
[ ! -e "$stale" ] || fail "stale temp file kept"
[ -e "$fresh" ] || fail "in-flight temp file removed"
rm -f "$fresh"
# what GC touched is fresh again
[ "$(find "$T/ds/.chunks/${some:0:4}/$some" -amin -60 | wc -l)" = 1 ] || fail "referenced chunk not touched"

tapir verify --store gcstore >/dev/null
tapir restore --store gcstore ns/n1/host/a/2026-01-02T00:00:00Z root.pxar "$T/r"
diff -r "$T/src" "$T/r" || fail "restore after GC differs"
tapir restore --store gcstore ns/n1/host/a/2026-01-02T00:00:00Z disk.img "$T/r.img"
cmp "$T/img" "$T/r.img" || fail "image after GC differs"

# text output names removed, kept and pending; bad input gives one line
tapir garbage-collect --store gcstore | grep -q '^removed 0 chunks, 0 bad, 0 temp files (0 bytes); kept [0-9]* chunks' \
	|| fail "text output"
expect_fail "datastore 'nostore' does not exist" tapir garbage-collect --store nostore
expect_fail "usage: tapir garbage-collect" tapir garbage-collect
expect_fail "unknown option --keep" tapir garbage-collect --store gcstore --keep 1
# a broken index stops GC before anything is removed, naming the file
find "$T/ds/.chunks" -type f -exec touch -a -d '2 days ago' {} +
printf 'garbage!' | dd of="$T/ds/vm/9/2026-01-03T00:00:00Z/disk.img.fidx" bs=1 conv=notrunc status=none
expect_fail_last "stopped before removing anything: .*/vm/9/2026-01-03T00:00:00Z/disk.img.fidx: wrong magic" \
	tapir garbage-collect --store gcstore
cmp -s <(on_disk) "$T/keep" || fail "GC removed chunks despite the broken index"
echo ok
