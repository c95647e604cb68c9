#!/bin/bash
# A standalone drive: the restore asks for each tape (task log, mail), waits while the drive is empty or holds a wrong tape, goes on once it is inserted; stopped while waiting (task stop, SIGTERM) it ends aborted with nothing published and .tmp clean; --media-wait gives up; a tape already in the drive is read without asking, and the run is its plan.
. "$(dirname "$0")/lib.sh"
F=$T
at_exit '[ -z "${RPID:-}" ] || kill "$RPID" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 4M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4 5; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
tapir user create op@pbs --email op@example.com >/dev/null
printf '#!/bin/sh\ncat >>"%s/mail.txt"\n' "$T" >"$T/sendmail" && chmod +x "$T/sendmail"
daily_backups store1 11 1500000 1 2 3
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out" 'j["media-set"]')
[ "$(json_get "$out" 'len(j["tapes"]) >= 2')" = True ] || fail "expected >= 2 tapes: $out"
tapes=$(json_get "$out" '" ".join(j["tapes"])')
first=${tapes%% *}
tapir tape unload --drive d1 >/dev/null

export TAPIR_VIRTUAL_MANUAL_LOAD=1 TAPIR_MEDIA_POLL_MS=100
# wait_for FILE PATTERN: until the restore's log shows it (at most 30 s)
wait_for() {
	for _ in $(seq 300); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$RPID" 2>/dev/null || fail "restore ended before '$2': $(cat "$1")"
		sleep 0.1
	done
	fail "no '$2' in: $(cat "$1")"
}
# serve LOG TAPE...: the operator puts in each tape when the restore asks for it; then the restore must succeed
serve() {
	local log=$1 t rc=0
	shift
	for t; do
		wait_for "$log" "please insert tape $t into drive d1"
		tapir tape unload --drive d1 >/dev/null
		tapir tape load-media --drive d1 "$t" >/dev/null
	done
	wait "$RPID" || rc=$?
	RPID=
	[ $rc -eq 0 ] || fail "restore after inserting the tapes: $(cat "$log")"
}
staged() { find "$F/ds2/.tmp" -mindepth 1 2>/dev/null | grep -c . || true; }

# 1. stopped with `tapir task stop` while waiting for the first tape
"$TAPIR_BIN" tape restore "$set_uuid" store1=store2 --drive d1 --output-format json >"$T/o1" 2>"$T/e1" &
RPID=$!
wait_for "$T/e1" "please insert tape $first into drive d1"
grep -q "no --notify-user given" "$T/e1" || fail "the log must say that nobody was mailed: $(cat "$T/e1")"
upid=$(head -n 1 "$T/o1" | sed 's/^task //')
[ -n "$upid" ] || fail "no task line"
tapir task stop "$upid" >/dev/null
rc=0; wait "$RPID" || rc=$?; RPID=
[ $rc -ne 0 ] || fail "an aborted restore must exit non-zero"
[ "$(json_get "$(tapir task list --output-format json)" '[t["status"] for t in j if t["worker_type"] == "tape-restore"][0]')" = aborted ] \
	|| fail "task status: $(tapir task list --output-format json)"
[ -z "$(ls "$F/ds2" | grep -v '^\.')" ] || fail "an aborted restore published something: $(ls "$F/ds2")"
[ "$(staged)" = 0 ] || fail ".tmp not clean after abort"
tapir tape load-media --drive d1 "$first" >/dev/null   # the drive is free again

# 2. a wrong tape in the drive at the start is ejected before the operator is asked; SIGTERM while the
#    operator has put a wrong tape in again
tapir tape unload --drive d1 >/dev/null
tapir tape load-media --drive d1 tape5 >/dev/null
"$TAPIR_BIN" tape restore "$set_uuid" store1=store2 --drive d1 --output-format json >"$T/o2" 2>"$T/e2" &
RPID=$!
wait_for "$T/e2" "please insert tape $first into drive d1"
grep -q "tape tape5 was in drive d1: ejected it" "$T/e2" || fail "the wrong tape was not ejected first: $(cat "$T/e2")"
grep -q "tape tape5 is in drive d1" "$T/e2" && fail "asked around a tape it ejected: $(cat "$T/e2")"
tapir tape load-media --drive d1 tape5 >/dev/null
wait_for "$T/e2" "tape tape5 is in drive d1, waiting for $first"
kill -TERM "$RPID"
rc=0; wait "$RPID" || rc=$?; RPID=
[ $rc -ne 0 ] || fail "a restore stopped by SIGTERM must exit non-zero"
[ "$(json_get "$(tapir task list --output-format json)" '[t["status"] for t in j if t["worker_type"] == "tape-restore"][0]')" = aborted ] \
	|| fail "SIGTERM: task status: $(tapir task list --output-format json)"
[ -z "$(ls "$F/ds2" | grep -v '^\.')" ] || fail "SIGTERM: something was published"
[ "$(staged)" = 0 ] || fail ".tmp not clean after SIGTERM"

# 3. --media-wait gives up
rc=0; out=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --media-wait 1 2>&1) || rc=$?
[ $rc -ne 0 ] || fail "--media-wait must fail"
printf '%s\n' "$out" | tail -n 1 | grep -q "tape $first was not inserted into drive d1 within 1 s" || fail "--media-wait: $out"

# 4. the operator inserts a wrong tape, then each right one: the restore completes; mail to --notify-user
export TAPIR_SENDMAIL=$T/sendmail
tapir tape unload --drive d1 >/dev/null
"$TAPIR_BIN" tape restore "$set_uuid" store1=store2 --drive d1 --notify-user op@pbs --output-format json >"$T/o3" 2>"$T/e3" &
RPID=$!
wait_for "$T/e3" "please insert tape $first into drive d1"
wait_for "$T/e3" "sent"
tapir tape load-media --drive d1 tape5 >/dev/null
wait_for "$T/e3" "tape tape5 is in drive d1, waiting for $first"
sleep 0.3
[ -z "$(ls "$F/ds2" | grep -v '^\.')" ] || fail "restored with the wrong tape"
serve "$T/e3" $tapes
res=$(tail -n 1 "$T/o3")
[ "$(json_get "$res" 'len(j["restored"])')" = 3 ] || fail "restore: $res"
ntapes=$(json_get "$res" 'len(j["plan"]["tapes"])')
[ "$(json_get "$res" 'j["tape_loads"]')" = "$ntapes" ] || fail "one load per needed tape: $res"
grep -q "^Subject: Load media '$first' request" "$T/mail.txt" || fail "no mail: $(cat "$T/mail.txt" 2>/dev/null)"
grep -q '^To: op@example.com' "$T/mail.txt" || fail "mail recipient: $(cat "$T/mail.txt")"
# and the result, once it is done: status and the summary
grep -q "^Subject: Tape restore $set_uuid: finished" "$T/mail.txt" || fail "no result mail: $(cat "$T/mail.txt")"
grep -q '^Result: OK$' "$T/mail.txt" || fail "result mail without the status: $(cat "$T/mail.txt")"
grep -q '"restored":\["store1:host/h1/2026-11-01T00:00:00Z"' "$T/mail.txt" || fail "result mail without the summary: $(cat "$T/mail.txt")"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 11 1 3
[ "$(staged)" = 0 ] || fail ".tmp not clean"

# 5. the first tape already in the drive: read without asking for it, not loaded again, the run is its plan
tapir datastore create store3 "$F/ds3" >/dev/null
tapir tape unload --drive d1 >/dev/null
tapir tape load-media --drive d1 "$first" >/dev/null
"$TAPIR_BIN" tape restore "$set_uuid" store1=store3 --drive d1 --output-format json >"$T/o5" 2>"$T/e5" &
RPID=$!
serve "$T/e5" ${tapes#* }
grep -q "please insert tape $first" "$T/e5" && fail "asked for the tape that was in the drive: $(cat "$T/e5")"
grep -q "tape $first ejected from drive d1" "$T/e5" || fail "the finished tape was not ejected: $(cat "$T/e5")"
res=$(tail -n 1 "$T/o5")
[ "$(json_get "$res" 'len(j["restored"])')" = 3 ] || fail "restore: $res"
[ "$(json_get "$res" '[t["label"] for t in j["plan"]["tapes"] if t.get("in-drive")]')" = "['$first']" ] || fail "in-drive: $res"
[ "$(json_get "$res" 'abs(j["simulated_tape_seconds"] - j["plan"]["estimated-seconds"]) <= 1e-6 * j["plan"]["estimated-seconds"]')" = True ] ||
	fail "the run is not its plan: $res"
restored_as_copied store3 11 1 3
echo ok
