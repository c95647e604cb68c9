#!/bin/bash
# On a terminal, tape backup and tape restore keep a progress bar below their log lines (taken off for each line and drawn again, gone at the end, the JSON summary still the last line); without a terminal nothing of it is written.
. "$(dirname "$0")/lib.sh"
F=$T
command -v script >/dev/null || fail "script(1) from bsdutils is needed for a terminal"
tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
virtual_library 1 4M 6
daily_backups store1 10 700000 1 2 3 4 5

# on a terminal (script(1) gives the command a pty for stdout and stderr)
export TERM=xterm TAPIR_PROGRESS_S=0
script -qec "$TAPIR_BIN tape backup store1 p1 --drive d1 --output-format json" /dev/null >"$F/backup.tty"
set_uuid=$(tapir media-set list --output-format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["media-set-uuid"])')
script -qec "$TAPIR_BIN tape restore $set_uuid store1=store2 --drive d1 --output-format json" /dev/null >"$F/restore.tty"
python3 - "$F/backup.tty" "$F/restore.tty" <<'PY' || fail "progress bar: $(tail -c 600 "$F/restore.tty" | od -c | tail -n 12)"
import json, re, sys
for name, want in ((sys.argv[1], "host/h1/2026-10-05T00:00:00Z"), (sys.argv[2], "MiB")):
    d = open(name, "rb").read().decode()
    bars = re.findall(r"\r\[([#-]+)\] +(\d+)%([^\x1b\r\n]*)\x1b\[K", d)
    assert bars, (name, "no bar drawn")
    assert all(len(b[0]) == 30 for b in bars), (name, "bar width")
    pcts = [int(b[1]) for b in bars]
    assert pcts == sorted(pcts), (name, "the bar went backwards", pcts)
    assert any(want in b[2] for b in bars), (name, "no status beside the bar", bars[:3])
    # each log line starts on a cleared line: no bar left in front of it
    for line in d.split("\r\n"):
        text = re.sub(r"\r\x1b\[K", "", line)
        assert not text.startswith("[#") and not text.startswith("[-") or "\r" in line, (name, "bar mixed into a log line", line)
    # gone at the end: the summary is the last line and parses
    last = [l for l in d.split("\r\n") if l.strip()][-1]
    last = re.sub(r"^(\r\x1b\[K)+", "", last)
    j = json.loads(last)
    assert j["upid"], j
    if name == sys.argv[2]:
        assert len(j["restored"]) == 5 and not j["failed"], j
        assert pcts[-1] == 100, pcts
PY
restored_as_copied store2 10 1 3 5

# not a terminal: no bar, no carriage returns, no escape sequences
tapir tape restore "$set_uuid" store1=store3 --drive d1 --output-format json >"$F/out" 2>"$F/err"
if grep -q $'\r\|\x1b' "$F/err" "$F/out"; then fail "terminal control written to a file: $(od -c "$F/err" | head)"; fi
grep -q "^progress: 100% of the planned tape data" "$F/err" || fail "the log lines are still there: $(cat "$F/err")"
echo ok
