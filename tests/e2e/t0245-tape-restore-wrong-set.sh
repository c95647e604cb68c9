#!/bin/bash
# The tape in the drive belongs to another media set than the catalog and inventory say: a clear error naming both sets, nothing restored.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 4M >/dev/null
tapir pool create p1 --allocation always --retention overwrite >/dev/null
tapir tape label --drive d1 --label-text tape1 --pool p1 >/dev/null
tapir tape label --drive d1 --label-text tape2 --pool p1 >/dev/null
daily_backups store1 08 1000000 1 2 3
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
set_a=$(json_get "$out" 'j["media-set"]')
[ "$(json_get "$out" 'j["tapes"][0]')" = tape1 ] || fail "set A should start on tape1: $out"
[ "$(json_get "$out" 'len(j["tapes"]) == 2')" = True ] || fail "set A should fill tape1: $out"
# what this host knows about set A
mkdir "$T/saved"
cp -a "$TAPIR_HOME"/lib/inventory.json "$TAPIR_HOME"/lib/catalog.db* "$T/saved/"

# allocation always: the next job starts set B and overwrites tape1 (full, expired at once)
# (set B needs a second tape, and there is none left: the job ends with a clear message, set B is on tape1)
rc=0
out=$(tapir tape backup store1 p1 --drive d1 --output-format json 2>"$T/err" | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "set B cannot fit: the job must fail"
tail -n 1 "$T/err" | grep -q "no writable tape; label a new tape with 'tapir tape label --pool p1'" \
	|| fail "no clear message when no tape is left: $(cat "$T/err")"
set_b=$(json_get "$out" 'j["media-set"]')
[ "$set_b" != "$set_a" ] || fail "no new set"
[ "$(json_get "$out" 'j["tapes"][0]')" = tape1 ] || fail "set B should reuse tape1: $out"

# back to the old state: the inventory and catalog say tape1 holds set A
rm -f "$TAPIR_HOME"/lib/catalog.db*
cp -a "$T/saved/"* "$TAPIR_HOME"/lib/
expect_fail_last "tape tape1 belongs to media set $set_b, not $set_a" \
	tapir tape restore "$set_a" store1=store2 store1:host/h1/2026-08-01T00:00:00Z --drive d1
[ -z "$(ls "$F/ds2" | grep -v '^\.')" ] || fail "something was restored"
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail "staging left behind"
echo ok
