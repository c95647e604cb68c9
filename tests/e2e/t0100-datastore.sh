#!/bin/bash
# Datastore create/list/remove and the errors for bad names, paths and unknown stores.
. "$(dirname "$0")/lib.sh"

tapir datastore create store1 "$T/ds1" >/dev/null
[ -d "$T/ds1/.chunks/0000" ] && [ -d "$T/ds1/.chunks/ffff" ] || fail "chunk directories missing"
[ -f "$T/ds1/.lock" ] || fail ".lock missing"
tapir datastore list | grep -q "^store1 .*$T/ds1" || fail "store1 not listed"
out=$(tapir datastore list --output-format json)
[ "$(json_get "$out" 'j[0]["name"]')" = store1 ] || fail "json list: $out"

expect_fail "already exists" tapir datastore create store1 "$T/ds2"
expect_fail "invalid datastore name" tapir datastore create "a/b" "$T/ds3"
expect_fail "invalid datastore name" tapir datastore create ".." "$T/ds3"
expect_fail "must be absolute" tapir datastore create store3 relative/path
mkdir -p "$T/full" && echo x >"$T/full/file"
expect_fail "not empty" tapir datastore create store4 "$T/full"
expect_fail "not a datastore" tapir datastore create store4 "$T/full" --reuse-datastore
expect_fail "datastore 'nope' does not exist" tapir snapshot list --store nope
expect_fail "unknown option --bogus" tapir snapshot list --store store1 --bogus 1

# adopting an existing datastore directory (as PBS left it)
tapir datastore create store5 "$T/ds1" --reuse-datastore >/dev/null
tapir datastore list | grep -q '^store5' || fail "store5 not listed"
tapir datastore remove store5
tapir datastore list | grep -q '^store5' && fail "store5 still listed"
[ -d "$T/ds1/.chunks" ] || fail "remove must not delete data"

expect_fail "invalid namespace" tapir snapshot list --store store1 --ns "a/../b"
expect_fail "does not exist" tapir snapshot list --store store1 --ns "missing"
echo ok
