#!/bin/bash
# Media pools (create/list/update/remove, bad input), media list/content/destroy and media-set list
# over a PBS-format inventory.json and the SQLite catalog.
. "$(dirname "$0")/lib.sh"

FP=01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef
tapir pool create daily >/dev/null
tapir pool create weekly --allocation "sat 18:00" --retention "30 days" --template "weekly-%id%" \
	--encrypt "$FP" --comment "offsite" >/dev/null
out=$(tapir pool list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 2 ] || fail "pool list: $out"
[ "$(json_get "$out" 'j[0]["name"]')" = daily ] || fail "pools not sorted: $out"
[ "$(json_get "$out" 'j[0]["allocation"]')" = continue ] || fail "default allocation: $out"
[ "$(json_get "$out" 'j[0]["retention"]')" = keep ] || fail "default retention: $out"
[ "$(json_get "$out" 'j[1]["allocation"]')" = "sat 18:00" ] || fail "allocation: $out"
[ "$(json_get "$out" 'j[1]["encrypt"]')" = "$FP" ] || fail "encrypt: $out"
tapir pool list | grep -q '^weekly .*sat 18:00' || fail "text pool list"
[ -f "$TAPIR_HOME/etc/media-pool.json" ] || fail "media-pool.json missing"

tapir pool update weekly --retention overwrite --delete encrypt --delete comment
out=$(tapir pool config weekly --output-format json)
[ "$(json_get "$out" 'j[0]["retention"]')" = overwrite ] || fail "update retention: $out"
[ "$(json_get "$out" '"encrypt" in j[0]')" = False ] || fail "encrypt not deleted: $out"

expect_fail "already exists" tapir pool create daily
expect_fail "invalid media pool name 'a/b'" tapir pool create a/b
expect_fail "invalid allocation policy.*sometimes" tapir pool create p3 --allocation sometimes
expect_fail "invalid retention policy.*forever" tapir pool create p3 --retention forever
expect_fail "invalid key fingerprint" tapir pool create p3 --encrypt 01:02
expect_fail "media pool 'nope' does not exist" tapir pool update nope --retention keep
expect_fail "unknown property 'color'" tapir pool update daily --delete color
expect_fail "unknown option --bogus" tapir pool create p3 --bogus 1

# A PBS inventory: set 1111... of pool weekly (seq 0 full, seq 1 last), an unassigned tape,
# an empty tape of pool daily in a vault.
mkdir -p "$TAPIR_HOME/lib"
cat >"$TAPIR_HOME/lib/inventory.json" <<'JSON'
[
  {
    "id": {
      "label": { "ctime": 1704067200, "label_text": "WK0001L8", "uuid": "10000000-0000-4000-8000-000000000001" },
      "media_set_label": { "ctime": 1704067300, "pool": "weekly", "seq_nr": 0,
                           "uuid": "11111111-2222-3333-4444-555555555555" }
    },
    "location": "offline",
    "status": "full",
    "bytes_used": 2500000000000
  },
  {
    "id": {
      "label": { "ctime": 1704067200, "label_text": "WK0002L8", "uuid": "20000000-0000-4000-8000-000000000002" },
      "media_set_label": { "ctime": 1704153600, "pool": "weekly", "seq_nr": 1,
                           "uuid": "11111111-2222-3333-4444-555555555555" }
    }
  },
  {
    "id": { "label": { "ctime": 1704067200, "label_text": "FREE01L8", "uuid": "30000000-0000-4000-8000-000000000003" } }
  },
  {
    "id": { "label": { "ctime": 1704067200, "label_text": "DY0001L8", "uuid": "40000000-0000-4000-8000-000000000004",
                       "pool": "daily" } },
    "location": "vault-safe"
  }
]
JSON
out=$(tapir media list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 4 ] || fail "media list: $out"
[ "$(json_get "$out" '[m["label-text"] for m in j if m.get("pool") == "weekly"]')" = "['WK0001L8', 'WK0002L8']" ] || fail "weekly tapes: $out"
[ "$(json_get "$out" '[m["status"] for m in j if m["label-text"] == "WK0001L8"][0]')" = full ] || fail "stored full: $out"
[ "$(json_get "$out" '[m["status"] for m in j if m["label-text"] == "WK0002L8"][0]')" = writable ] || fail "last writable: $out"
[ "$(json_get "$out" '[m["seq-nr"] for m in j if m["label-text"] == "WK0002L8"][0]')" = 1 ] || fail "seq: $out"
[ "$(json_get "$out" '[m["location"] for m in j if m["label-text"] == "DY0001L8"][0]')" = vault-safe ] || fail "location: $out"
[ "$(json_get "$out" '[m["media-set-name"] for m in j if m["label-text"] == "WK0001L8"][0]')" = weekly-11111111-2222-3333-4444-555555555555 ] || fail "set name: $out"
[ "$(json_get "$out" '[m.get("bytes-used") for m in j if m["label-text"] == "WK0001L8"][0]')" = 2500000000000 ] || fail "bytes-used: $out"
# weekly: sat 18:00 after the set start (Mon 2024-01-01 00:01:40Z) is Sat 2024-01-06 18:00 (UTC);
# overwrite -> the full tape expires then
[ "$(TZ=UTC tapir media list --pool weekly --output-format json | python3 -c 'import json,sys; j=json.load(sys.stdin); print([m.get("expire-time") for m in j if m["label-text"]=="WK0001L8"][0])')" = 2024-01-06T18:00:00Z ] || fail "expire time"
out=$(tapir media list --pool daily --output-format json)
[ "$(json_get "$out" 'len(j)')" = 1 ] || fail "--pool filter: $out"
tapir media list | grep -q '^FREE01L8 ' || fail "text media list"

out=$(tapir media-set list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 1 ] || fail "media-set list: $out"
[ "$(json_get "$out" 'j[0]["tapes"]')" = "['WK0001L8', 'WK0002L8']" ] || fail "set members: $out"
[ "$(json_get "$out" 'j[0]["complete"]')" = True ] || fail "set complete: $out"

# catalog content (rows as a tape backup would have committed them)
out=$(tapir media content --output-format json)
[ "$(json_get "$out" 'len(j)')" = 0 ] || fail "empty content: $out"
if command -v sqlite3 >/dev/null; then
	sqlite3 "$TAPIR_HOME/lib/catalog.db" <<'SQL'
INSERT INTO media_set(id, uuid, pool, ctime) VALUES (1, x'11111111222233334444555555555555', 'weekly', 1704067300);
INSERT INTO media(id, uuid, label_text, set_id, seq_nr, ctime) VALUES (1, x'10000000000040008000000000000001', 'WK0001L8', 1, 0, 1704067200);
INSERT INTO store(id, name) VALUES (1, 'store1');
INSERT INTO snapshot(set_id, store_id, path, media_id, file_nr, content_uuid) VALUES (1, 1, 'vm/100/2024-01-01T00:00:00Z', 1, 3, x'00000000000000000000000000000000');
SQL
	out=$(tapir media content --pool weekly --output-format json)
	[ "$(json_get "$out" 'j[0]["snapshot"]')" = vm/100/2024-01-01T00:00:00Z ] || fail "content: $out"
	[ "$(json_get "$out" 'j[0]["label-text"]')" = WK0001L8 ] || fail "content label: $out"
	[ "$(json_get "$out" 'j[0]["file-nr"]')" = 3 ] || fail "content file: $out"
	out=$(tapir media content --pool daily --output-format json)
	[ "$(json_get "$out" 'len(j)')" = 0 ] || fail "content pool filter: $out"
	out=$(tapir media content --media-set 11111111-2222-3333-4444-555555555555 --output-format json)
	[ "$(json_get "$out" 'len(j)')" = 1 ] || fail "content set filter: $out"
fi
expect_fail "not a UUID" tapir media content --media-set xyz

# destroy: a tape with set data needs --force; an unknown one is named
expect_fail "media 'WK0001L8' contains data" tapir media destroy WK0001L8
expect_fail "media 'NOPE' is not in the inventory" tapir media destroy NOPE
tapir media destroy FREE01L8 >/dev/null
tapir media destroy 10000000-0000-4000-8000-000000000001 --force >/dev/null
out=$(tapir media list --output-format json)
[ "$(json_get "$out" 'sorted(m["label-text"] for m in j)')" = "['DY0001L8', 'WK0002L8']" ] || fail "after destroy: $out"
if command -v sqlite3 >/dev/null; then
	out=$(tapir media content --output-format json)
	[ "$(json_get "$out" 'len(j)')" = 0 ] || fail "catalog rows survived destroy: $out"
fi
out=$(tapir media-set list --output-format json)
[ "$(json_get "$out" 'j[0]["complete"]')" = False ] || fail "set should be incomplete now: $out"

# a pool with tapes is not removed without --force
expect_fail "still has 1 tape" tapir pool remove daily
tapir pool remove weekly --force
tapir pool list | grep -q '^weekly' && fail "weekly still listed"
expect_fail "media pool 'weekly' does not exist" tapir pool remove weekly
echo ok
