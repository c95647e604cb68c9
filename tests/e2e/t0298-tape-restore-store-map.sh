#!/bin/bash
# One media set holding two datastores, restored through PBS's datastore map: source=target pairs, a default target for the rest, an unmapped store's snapshots skipped with the reason, a missing target datastore a failed entry; the same group name in both stores lands apart; every restored tree matches its source.
. "$(dirname "$0")/lib.sh"
F=$T
tapir datastore create store1 "$F/s1" >/dev/null
tapir datastore create store2 "$F/s2" >/dev/null
mkdir -p "$F/d"
# backup STORE DAY CONTENT: host/h1 of that day in STORE, a tree holding CONTENT (and a random file)
backup() {
	echo "$3" >"$F/d/f"
	head -c 300000 /dev/urandom >"$F/d/r"
	tapir backup --store "$1" --type host --id h1 --time "2026-08-0$2T00:00:00Z" root.pxar:"$F/d" >/dev/null
	cp -a "$F/d" "$F/copy-$1-$2"
}
backup store1 1 one-1
backup store1 2 one-2
backup store2 1 two-1
virtual_library 1 4M 4
out1=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
out2=$(tapir tape backup store2 p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out1" 'j["media-set"]')
[ "$(json_get "$out2" 'j["media-set"]')" = "$set_uuid" ] || fail "the second store did not go into the same media set: $out2"
# same STORE DAY TARGET: the snapshot in TARGET is the one backed up from STORE
same() {
	rm -rf "$F/r"
	tapir restore --store "$3" "host/h1/2026-08-0$2T00:00:00Z" root.pxar "$F/r"
	diff -r "$F/copy-$1-$2" "$F/r" || fail "$3's day $2 is not $1's"
}
for t in tga tgb tgc tgd tge; do tapir datastore create "$t" "$F/$t" >/dev/null; done

# pairs: each store into its own target
res=$(tapir tape restore "$set_uuid" store1=tga,store2=tgb --drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"]) == 3 and not j["failed"] and not j["skipped"]')" = True ] || fail "pairs: $res"
same store1 1 tga; same store1 2 tga; same store2 1 tgb
[ "$(json_get "$(tapir snapshot list --store tgb --output-format json)" 'len(j)')" = 1 ] || fail "tgb got more than store2's snapshot"

# a store without a target: its snapshots are skipped, saying why; the mapped one is restored
res=$(tapir tape restore "$set_uuid" store1=tgc --drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 2 ] || fail "store1=tgc: $res"
[ "$(json_get "$res" 'list(j["skipped"].items())')" = "[('store2:host/h1/2026-08-01T00:00:00Z', \"no target datastore mapped for store 'store2'\")]" ] ||
	fail "the unmapped store's snapshot: $res"

# a default target takes what no pair names
res=$(tapir tape restore "$set_uuid" store1=tgd,tge --drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 3 ] || fail "store1=tgd,tge: $res"
same store1 2 tgd; same store2 1 tge
[ "$(json_get "$(tapir snapshot list --store tge --output-format json)" 'len(j)')" = 1 ] || fail "tge got store1's snapshots too"

# a target that does not exist: refused with one line before anything is read
expect_fail_last "datastore 'nosuch' does not exist" tapir tape restore "$set_uuid" store1=tga,store2=nosuch "store2:host/h1/2026-08-01T00:00:00Z" --drive d1
for t in tga tgb tgc tgd tge; do tapir verify --store "$t" >/dev/null || fail "$t does not verify"; done
echo ok
