#!/bin/bash
# tape catalog: fast restore from catalog archives and --scan rebuild give back the rows the backup wrote; bad input.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/data"
head -c 1500000 /dev/urandom >"$T/data/big"
echo hello >"$T/data/small"
tapir datastore create store1 "$T/ds1" >/dev/null
tapir backup --store store1 --type host --id h1 root.pxar:"$T/data" >/dev/null
tapir backup --store store1 --type host --id h2 root.pxar:"$T/data" >/dev/null
tapir pool create p1 >/dev/null
tapir drive create d0 --type virtual --path "$T/d0" >/dev/null
tapir tape label --drive d0 --label-text TAPE01 --pool p1 >/dev/null
tapir tape backup store1 p1 --drive d0 >/dev/null

content() { tapir media content --output-format json | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin), key=lambda r: r["file-nr"]), sort_keys=True))'; }
wipe() { rm -f "$TAPIR_HOME"/lib/catalog.db "$TAPIR_HOME"/lib/catalog.db-wal "$TAPIR_HOME"/lib/catalog.db-shm; }
before=$(content)
[ "$(json_get "$before" 'len(j)')" = 2 ] || fail "backup did not record 2 snapshots: $before"

# fast path: the catalog archive at the end of the tape
wipe
[ "$(json_get "$(content)" 'len(j)')" = 0 ] || fail "catalog not wiped"
out=$(tapir tape catalog --drive d0 --output-format json)
[ "$(json_get "$out" 'j["fast"]')" = True ] || fail "fast path not taken: $out"
[ "$(json_get "$out" 'j["snapshots"]')" = 2 ] || fail "fast snapshots: $out"
[ "$(content)" = "$before" ] || fail "fast restore differs: $(content) vs $before"

# rows exist now: refused unless forced
expect_fail "the catalog already has rows for tape TAPE01" tapir tape catalog --drive d0

# --scan reads every file and rebuilds the rows with block positions
out=$(tapir tape catalog --drive d0 --scan --force --output-format json)
[ "$(json_get "$out" 'j["fast"]')" = False ] || fail "scan reported fast: $out"
[ "$(json_get "$out" 'j["snapshot-archives"]')" = 2 ] || fail "scan snapshot archives: $out"
[ "$(json_get "$out" 'j["catalog-archives"]')" = 1 ] || fail "scan catalog archives: $out"
[ "$(json_get "$out" 'j["chunks"] > 0 and j["bytes-read"] > 1500000')" = True ] || fail "scan did not read the data: $out"
[ "$(content)" = "$before" ] || fail "scan differs: $(content) vs $before"
wipe
tapir tape catalog --drive d0 --scan | grep -q "rebuilt by a scan" || fail "scan text"
[ "$(content)" = "$before" ] || fail "scan after wipe differs"

# the rebuilt positions are good enough for a restore
set_uuid=$(json_get "$before" 'j[0]["media-set-uuid"]')
tapir datastore create store2 "$T/ds2" >/dev/null
tapir tape restore "$set_uuid" store1=store2 --drive d0 >/dev/null
[ "$(tapir snapshot list --store store2 | grep -c '^host/')" = 2 ] || fail "restore after scan: $(tapir snapshot list --store store2)"

# a second job appends; its catalog archive is the last file again
tapir backup --store store1 --type host --id h3 root.pxar:"$T/data" >/dev/null
tapir tape backup store1 p1 --drive d0 >/dev/null
before=$(content)
[ "$(json_get "$before" 'len(j)')" = 3 ] || fail "second job: $before"
wipe
out=$(tapir tape catalog --drive d0 --output-format json)
[ "$(json_get "$out" 'j["fast"]')" = True ] || fail "fast path after append: $out"
[ "$(content)" = "$before" ] || fail "fast restore after append differs"

# the inventory has this tape in another media set: refused, naming both sets
python3 - "$TAPIR_HOME/lib/inventory.json" <<'PY'
import json, sys
p = sys.argv[1]; inv = json.load(open(p))
for e in inv:
    if e["id"]["label"]["label_text"] == "TAPE01":
        e["id"]["media_set_label"]["uuid"] = "0badc0de-0000-4000-8000-000000000001"
json.dump(inv, open(p, "w"), indent=2)
PY
expect_fail "tape TAPE01 belongs to media set $set_uuid \(seq 0\), but the inventory has it in media set 0badc0de-0000-4000-8000-000000000001" \
	tapir tape catalog --drive d0
# --force trusts the tape and repairs the inventory
tapir tape catalog --drive d0 --force >/dev/null
out=$(tapir media list --output-format json)
[ "$(json_get "$out" '[m["media-set-uuid"] for m in j if m["label-text"]=="TAPE01"][0]')" = "$set_uuid" ] || fail "inventory not repaired: $out"

# a tape without media set: rows cleared; a blank tape: refused
tapir tape label --drive d0 --label-text TAPE02 --pool p1 >/dev/null
tapir tape catalog --drive d0 | grep -q "in no media set" || fail "no-set tape"
tapir tape load-media --drive d0 BLANK1 >/dev/null
expect_fail "the tape is blank" tapir tape catalog --drive d0
expect_fail "unknown option" tapir tape catalog --drive d0 --fast
echo OK
