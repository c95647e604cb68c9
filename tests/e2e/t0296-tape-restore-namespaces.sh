#!/bin/bash
# Namespaces through a tape restore: a snapshot named with its namespace lands in that namespace of the target (created there); --namespaces maps a source namespace to another target namespace, whole or to a depth; a namespace spec that is malformed or not on tape is a failed entry that creates nothing; two mappings of one namespace restore into the first and say so; restored trees match their sources.
. "$(dirname "$0")/lib.sh"
F=$T
tapir datastore create src "$F/src" >/dev/null
mkdir -p "$F/src/ns/a/ns/b" "$F/d"
# backup NS ID DAY CONTENT: one snapshot whose tree is a file saying CONTENT
backup() {
	echo "$4" >"$F/d/f"
	tapir backup --store src ${1:+--ns "$1"} --type host --id "$2" --time "2026-09-0$3T00:00:00Z" root.pxar:"$F/d" >/dev/null
}
backup "" h0 1 root-1
backup a h1 1 a-1
backup a h1 2 a-2
backup a/b h2 1 b-1
virtual_library 1 4M 3
out=$(tapir tape backup src p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 4 ] || fail "tape backup of all namespaces: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
# says STORE NS SNAP CONTENT: the snapshot restored from tape (in namespace NS, e.g. y/b) holds CONTENT
says() {
	local p=$3
	[ -z "$2" ] || p="$(printf '%s' "$2" | sed 's|[^/]*|ns/&|g')/$3"
	rm -rf "$F/r"
	tapir restore --store "$1" "$p" root.pxar "$F/r"
	[ "$(cat "$F/r/f")" = "$4" ] || fail "$1 $p holds '$(cat "$F/r/f")', not '$4'"
}

# a snapshot named with its namespace: restored into the same namespace, which the restore creates
tapir datastore create dst1 "$F/dst1" >/dev/null
res=$(tapir tape restore "$set_uuid" src=dst1 "src:ns/a/host/h1/2026-09-02T00:00:00Z" --drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['src:ns/a/host/h1/2026-09-02T00:00:00Z']" ] || fail "ns snapshot: $res"
[ -d "$F/dst1/ns/a/host/h1/2026-09-02T00:00:00Z" ] || fail "not in namespace a of dst1: $(find "$F/dst1" -maxdepth 5 -not -path '*/.chunks*')"
[ ! -e "$F/dst1/host" ] && [ ! -e "$F/dst1/ns/a/ns" ] || fail "more than the one snapshot restored"
says dst1 a host/h1/2026-09-02T00:00:00Z a-2

# --namespaces with a target and max-depth 0: namespace a only, into x; its child b is left out
tapir datastore create dst2 "$F/dst2" >/dev/null
res=$(tapir tape restore "$set_uuid" src=dst2 --namespaces store=src,source=a,target=x,max-depth=0 --drive d1 \
	--output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'sorted(j["restored"])')" = "['src:ns/a/host/h1/2026-09-01T00:00:00Z', 'src:ns/a/host/h1/2026-09-02T00:00:00Z']" ] ||
	fail "--namespaces max-depth=0: $res"
[ -d "$F/dst2/ns/x/host/h1/2026-09-01T00:00:00Z" ] && [ -d "$F/dst2/ns/x/host/h1/2026-09-02T00:00:00Z" ] ||
	fail "not mapped to x: $(find "$F/dst2" -maxdepth 6 -not -path '*/.chunks*')"
[ ! -e "$F/dst2/ns/x/ns" ] && [ ! -e "$F/dst2/ns/a" ] && [ ! -e "$F/dst2/host" ] || fail "max-depth 0 restored more: $(find "$F/dst2" -maxdepth 6 -not -path '*/.chunks*')"
says dst2 x host/h1/2026-09-01T00:00:00Z a-1
says dst2 x host/h1/2026-09-02T00:00:00Z a-2

# without a depth: a and everything below it, b becoming y/b; the root's snapshot is not part of it
tapir datastore create dst3 "$F/dst3" >/dev/null
res=$(tapir tape restore "$set_uuid" src=dst3 --namespaces store=src,source=a,target=y --drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 3 ] || fail "--namespaces whole subtree: $res"
[ -d "$F/dst3/ns/y/ns/b/host/h2/2026-09-01T00:00:00Z" ] || fail "a/b not mapped to y/b: $(find "$F/dst3" -maxdepth 8 -not -path '*/.chunks*')"
[ ! -e "$F/dst3/host" ] || fail "the root namespace was restored too"
says dst3 y/b host/h2/2026-09-01T00:00:00Z b-1
tapir verify --store dst3 >/dev/null || fail "dst3 does not verify"

# two mappings of one source namespace: restored into the first, the second named in `skipped` with why
tapir datastore create dst5 "$F/dst5" >/dev/null
res=$(tapir tape restore "$set_uuid" src=dst5 --namespaces store=src,source=a/b,target=p --namespaces store=src,source=a/b,target=q \
	--drive d1 --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['src:ns/a/ns/b/host/h2/2026-09-01T00:00:00Z']" ] || fail "two mappings: $res"
[ "$(json_get "$res" 'list(j["skipped"].values())')" = "[\"also mapped to namespace 'q' by another --namespaces entry: restored once, into 'p'\"]" ] ||
	fail "the second mapping's reason: $res"
says dst5 p host/h2/2026-09-01T00:00:00Z b-1
[ ! -e "$F/dst5/ns/q" ] || fail "namespace q created for nothing"

# a namespace that is malformed or not on tape: a failed entry with its reason, nothing created, exit non-zero
tapir datastore create dst4 "$F/dst4" >/dev/null
rc=0
res=$(tapir tape restore "$set_uuid" src=dst4 "src:ns/../host/h1/2026-09-01T00:00:00Z" "src:ns/zz/host/h1/2026-09-01T00:00:00Z" \
	--drive d1 --output-format json 2>/dev/null | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "bad namespaces must fail the restore: $res"
[ "$(json_get "$res" 'len(j["failed"]) == 2 and not j["restored"]')" = True ] || fail "failed entries: $res"
[ "$(json_get "$res" 'all(v for v in j["failed"].values())')" = True ] || fail "a failed entry without its reason: $res"
[ -z "$(ls "$F/dst4" | grep -v '^\.')" ] || fail "something was created in dst4: $(ls -a "$F/dst4")"
echo ok
