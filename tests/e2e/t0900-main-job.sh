#!/bin/bash
# The README's main job (scripts/demo.sh) on the embedded default, run as the first README command runs it: it must end with everything matched, and its tape restore must have restored the snapshot from tape.
. "$(dirname "$0")/lib.sh"

rc=0
TAPIR_DEMO_DIR=$T/demo bash "$TOP/scripts/demo.sh" "$TAPIR_BIN" >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 0 ] || fail "the main job failed ($rc): $(tail -n 20 "$T/err")"
tail -n 1 "$T/out" | grep -q "^== done: everything matched" || fail "the main job did not finish: $(tail -n 5 "$T/out")"
grep -q "restored from tape is identical to the source" "$T/out" || fail "no byte-for-byte check of the tape restore: $(cat "$T/out")"
# the restore summary the demo prints: one snapshot restored, nothing failed, tapes read
python3 - "$T/out" <<'PY' || fail "tape restore summary: $(grep -A12 '"restored"' "$T/out")"
import json, re, sys
text = open(sys.argv[1]).read()
objs = [json.loads(m) for m in re.findall(r"^\{\n.*?^\}$", text, re.S | re.M)]
res = [o for o in objs if "tape_loads" in o and "restored" in o]
assert res, "no summary"
r = res[-1]
assert len(r["restored"]) == 1 and not r["failed"], r
assert r["tape_loads"] >= 1 and r["bytes_read_from_tape"] > 0 and r["chunks_restored"] >= 1, r
PY
# the restore took the simulated tape time its plan estimated (the drive held the backup's last tape, not the one needed)
json_get "$(cat "$T/demo/tape-restore.json")" 'abs(j["simulated_tape_seconds"] - j["plan"]["estimated-seconds"]) <= 1e-6 * j["simulated_tape_seconds"]' |
	grep -qx True || fail "the run is not its plan: $(cat "$T/demo/tape-restore.json")"
grep -q '"in-drive"' "$T/demo/tape-restore.json" && fail "the needed tape was not in the drive: $(cat "$T/demo/tape-restore.json")"

echo ok
