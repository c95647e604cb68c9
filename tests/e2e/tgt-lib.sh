# Starts and stops a private tgtd on 127.0.0.1 as an emulated tape library (drives + changer + labelled cartridges).
#
# Sourced:   . tests/e2e/tgt-lib.sh; tgt_start DIR [SLOTS] [TAPES] [DRIVES]; ...; tgt_stop DIR
# Command:   bash tests/e2e/tgt-lib.sh start DIR [SLOTS] [TAPES] [DRIVES]   (prints KEY=VALUE lines)
#            bash tests/e2e/tgt-lib.sh stop DIR
#
# Layout of the one target iqn.2026-01.org.tapir.test:lib (tid 1), bound to
# initiator address 127.0.0.1 only, portal 127.0.0.1:<free port>:
#   LUN 1           media changer: transport 1, storage slots 1000.., import/export 10..11,
#                   drives 500..; cartridges TGT_PREFIX001L6.. in the first TAPES slots
#   LUN 2..DRIVES+1 tape drives, empty (element 500 = LUN 2, 501 = LUN 3, ...)
# After tgt_start these are set (and written to DIR/env): TGT_PID TGT_PORT TGT_CN
# TGT_IQN TGT_CHANGER_URL TGT_DRIVE_URL (first drive) TGT_DRIVE<N>_URL (N from 0)
# TGT_SLOTS TGT_TAPES TGT_DRIVES TGT_SLOT_FIRST TGT_DRIVE_FIRST TGT_IE_FIRST
# TGT_TRANSPORT TGT_BARCODES (space separated).
# Knobs: TGT_PREFIX (TPR) TGT_TAPE_MB (64, thin images) TGT_TUNE (1: 256 KiB PDUs).
# tgtd is stopped by the PID this script started, never by name; it ignores
# SIGTERM, so the stop asks it through tgtadm and falls back to SIGKILL.

TGT_IQN=iqn.2026-01.org.tapir.test:lib
TGT_ADDR=127.0.0.1

_tgt_die() { echo "tgt-lib: $*" >&2; return 1; }

# A TCP port on 127.0.0.1 that nobody listens on right now.
_tgt_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A tgtd control port whose socket does not exist yet.
_tgt_free_cn() {
	local cn
	for _ in $(seq 1 50); do
		cn=$((2000 + RANDOM % 28000))
		[ -e /var/run/tgtd/socket.$cn ] || [ -e /var/run/tgtd/socket.$cn.lock ] || { echo "$cn"; return 0; }
	done
	return 1
}

_tgt_alive() { [ -n "${1:-}" ] && [ "$(cat /proc/"$1"/comm 2>/dev/null)" = tgtd ]; }

tgt_start() {
	local dir=${1:?tgt_start DIR [SLOTS] [TAPES] [DRIVES]} slots=${2:-4} tapes=${3:-2} drives=${4:-1}
	local prefix=${TGT_PREFIX:-TPR} mb=${TGT_TAPE_MB:-64}
	[ "$(id -u)" = 0 ] || { _tgt_die "must run as root (tgtd needs /var/run/tgtd)"; return 1; }
	command -v tgtd >/dev/null && command -v tgtadm >/dev/null && command -v tgtimg >/dev/null ||
		{ _tgt_die "tgt is not installed (apt-get install -y tgt)"; return 1; }
	[ "$tapes" -le "$slots" ] || { _tgt_die "$tapes tapes do not fit $slots slots"; return 1; }
	if [ -f "$dir/tgtd.pid" ] && _tgt_alive "$(cat "$dir/tgtd.pid")"; then
		_tgt_die "a tgtd from $dir is already running (pid $(cat "$dir/tgtd.pid"))"; return 1
	fi
	mkdir -p "$dir/media" || return 1
	local m=$dir/media i bc barcodes=""
	for i in $(seq 1 "$tapes"); do
		bc=$(printf '%s%03dL6' "$prefix" "$i")
		[ ${#bc} -le 10 ] || { _tgt_die "barcode $bc longer than 10 characters"; return 1; }
		rm -f "$m/$bc"
		tgtimg --op new --device-type tape --barcode "$bc" --size "$mb" --type data --file "$m/$bc" \
			--thin-provisioning >/dev/null || { _tgt_die "tgtimg failed for $bc"; return 1; }
		barcodes="$barcodes $bc"
	done
	for i in $(seq 0 $((drives - 1))); do
		rm -f "$m/EMPTY$i"
		tgtimg --op new --device-type tape --barcode "EMPTY$i" --size 1 --type clean --file "$m/EMPTY$i" \
			--thin-provisioning >/dev/null || { _tgt_die "tgtimg failed for the empty drive image"; return 1; }
	done
	[ -f "$m/smc" ] || dd if=/dev/zero of="$m/smc" bs=1k count=1 2>/dev/null

	# Start tgtd on a free port; retry if another process took the port meanwhile.
	local pid="" port cn try
	for try in 1 2 3 4 5; do
		port=$(_tgt_free_port) || { _tgt_die "no free TCP port"; return 1; }
		cn=$(_tgt_free_cn) || { _tgt_die "no free tgtd control port"; return 1; }
		setsid tgtd -f -C "$cn" --iscsi "portal=$TGT_ADDR:$port" </dev/null >>"$dir/tgtd.log" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/tgtd.pid"
		echo "$cn" >"$dir/tgtd.cn"
		local up=0
		# (until setsid has exec'd tgtd, /proc/PID/comm still says bash or setsid)
		for _ in $(seq 1 50); do
			[ -d /proc/"$pid" ] || break
			if tgtadm -C "$cn" --op show --mode sys >/dev/null 2>&1; then up=1; break; fi
			sleep 0.1
		done
		[ $up = 1 ] && _tgt_alive "$pid" && break
		[ -d /proc/"$pid" ] && kill -KILL "$pid" 2>/dev/null
		rm -f "$dir/tgtd.pid" /var/run/tgtd/socket."$cn" /var/run/tgtd/socket."$cn".lock
		pid=""
	done
	[ -n "$pid" ] || { _tgt_die "tgtd did not come up, see $dir/tgtd.log"; return 1; }

	local T="tgtadm -C $cn --lld iscsi"
	local ok=1 d
	{
		$T --op new --mode target --tid 1 -T "$TGT_IQN" &&
		$T --op new --mode logicalunit --tid 1 --lun 1 -b "$m/smc" --device-type=changer &&
		$T --op update --mode logicalunit --tid 1 --lun 1 --params scsi_sn=TAPIRCHGR01 &&
		$T --op update --mode logicalunit --tid 1 --lun 1 --params "media_home=$m" &&
		$T --op update --mode logicalunit --tid 1 --lun 1 --params element_type=1,start_address=1,quantity=1 &&
		$T --op update --mode logicalunit --tid 1 --lun 1 \
			--params "element_type=2,start_address=1000,quantity=$slots" &&
		$T --op update --mode logicalunit --tid 1 --lun 1 --params element_type=3,start_address=10,quantity=2 &&
		$T --op update --mode logicalunit --tid 1 --lun 1 \
			--params "element_type=4,start_address=500,quantity=$drives"
	} || ok=0
	for d in $(seq 0 $((drives - 1))); do
		[ $ok = 1 ] || break
		{
			$T --op new --mode logicalunit --tid 1 --lun $((d + 2)) -b "$m/EMPTY$d" --device-type=tape \
				--bstype=ssc &&
			$T --op update --mode logicalunit --tid 1 --lun $((d + 2)) \
				--params "scsi_sn=$(printf 'TAPIRDRV%02d' "$d")" &&
			$T --op update --mode logicalunit --tid 1 --lun $((d + 2)) --params online=0 &&
			$T --op update --mode logicalunit --tid 1 --lun 1 \
				--params "element_type=4,address=$((500 + d)),tid=1,lun=$((d + 2))"
		} || ok=0
	done
	i=0
	for bc in $barcodes; do
		[ $ok = 1 ] || break
		$T --op update --mode logicalunit --tid 1 --lun 1 \
			--params "element_type=2,address=$((1000 + i)),barcode=$bc,sides=1" || ok=0
		i=$((i + 1))
	done
	if [ $ok = 1 ] && [ "${TGT_TUNE:-1}" = 1 ]; then
		{
			$T --mode target --op update --tid 1 --name MaxRecvDataSegmentLength --value 262144 &&
			$T --mode target --op update --tid 1 --name MaxXmitDataSegmentLength --value 262144 &&
			$T --mode target --op update --tid 1 --name FirstBurstLength --value 262144 &&
			$T --mode target --op update --tid 1 --name MaxBurstLength --value 1048576 &&
			$T --mode target --op update --tid 1 --name InitialR2T --value No
		} >/dev/null || ok=0
	fi
	[ $ok = 1 ] && { $T --op bind --mode target --tid 1 -I "$TGT_ADDR" || ok=0; }
	# tgtd must listen on 127.0.0.1 only
	if [ $ok = 1 ] && command -v ss >/dev/null; then
		local other
		other=$(ss -ltnp 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | grep -v "^$TGT_ADDR:$port\$" || true)
		[ -z "$other" ] || { echo "tgt-lib: tgtd listens on more than $TGT_ADDR:$port: $other" >&2; ok=0; }
	fi
	if [ $ok != 1 ]; then
		_tgt_die "target setup failed, stopping tgtd $pid"
		tail -5 "$dir/tgtd.log" >&2
		tgt_stop "$dir" >/dev/null 2>&1
		return 1
	fi

	TGT_PID=$pid TGT_PORT=$port TGT_CN=$cn
	TGT_CHANGER_URL="iscsi://$TGT_ADDR:$port/$TGT_IQN/1"
	TGT_DRIVE_URL="iscsi://$TGT_ADDR:$port/$TGT_IQN/2"
	TGT_SLOTS=$slots TGT_TAPES=$tapes TGT_DRIVES=$drives
	TGT_SLOT_FIRST=1000 TGT_DRIVE_FIRST=500 TGT_IE_FIRST=10 TGT_TRANSPORT=1
	TGT_BARCODES=${barcodes# }
	{
		echo "TGT_PID=$TGT_PID"
		echo "TGT_PORT=$TGT_PORT"
		echo "TGT_CN=$TGT_CN"
		echo "TGT_IQN=$TGT_IQN"
		echo "TGT_CHANGER_URL=$TGT_CHANGER_URL"
		echo "TGT_DRIVE_URL=$TGT_DRIVE_URL"
		for d in $(seq 0 $((drives - 1))); do
			echo "TGT_DRIVE${d}_URL=iscsi://$TGT_ADDR:$port/$TGT_IQN/$((d + 2))"
		done
		echo "TGT_SLOTS=$TGT_SLOTS"
		echo "TGT_TAPES=$TGT_TAPES"
		echo "TGT_DRIVES=$TGT_DRIVES"
		echo "TGT_SLOT_FIRST=$TGT_SLOT_FIRST"
		echo "TGT_DRIVE_FIRST=$TGT_DRIVE_FIRST"
		echo "TGT_IE_FIRST=$TGT_IE_FIRST"
		echo "TGT_TRANSPORT=$TGT_TRANSPORT"
		echo "TGT_BARCODES='$TGT_BARCODES'"
	} >"$dir/env"
	for d in $(seq 0 $((drives - 1))); do
		eval "TGT_DRIVE${d}_URL=iscsi://$TGT_ADDR:$port/$TGT_IQN/$((d + 2))"
	done
	export TGT_PID TGT_PORT TGT_CN TGT_IQN TGT_CHANGER_URL TGT_DRIVE_URL TGT_SLOTS TGT_TAPES TGT_DRIVES \
		TGT_SLOT_FIRST TGT_DRIVE_FIRST TGT_IE_FIRST TGT_TRANSPORT TGT_BARCODES
	return 0
}

# Stops the tgtd recorded in DIR (by its PID) and removes what tgt_start created there.
tgt_stop() {
	local dir=${1:?tgt_stop DIR} pid cn
	pid=$(cat "$dir/tgtd.pid" 2>/dev/null || true)
	cn=$(cat "$dir/tgtd.cn" 2>/dev/null || true)
	if _tgt_alive "$pid"; then
		if [ -n "$cn" ]; then
			tgtadm -C "$cn" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
			tgtadm -C "$cn" --op delete --mode system >/dev/null 2>&1
		fi
		for _ in $(seq 1 30); do
			[ -d /proc/"$pid" ] || break
			sleep 0.1
		done
		if [ -d /proc/"$pid" ]; then
			kill -KILL "$pid" 2>/dev/null
			for _ in $(seq 1 20); do
				[ -d /proc/"$pid" ] || break
				sleep 0.1
			done
		fi
		if _tgt_alive "$pid"; then
			echo "tgt-lib: tgtd $pid is still alive" >&2
			return 1
		fi
	fi
	[ -n "$cn" ] && rm -f /var/run/tgtd/socket."$cn" /var/run/tgtd/socket."$cn".lock
	rm -rf "$dir/media"
	rm -f "$dir/tgtd.pid" "$dir/tgtd.cn" "$dir/tgtd.log" "$dir/env"
	rmdir "$dir" 2>/dev/null || true
	return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	start)
		shift
		tgt_start "$@" || exit 1
		cat "$1/env"
		;;
	stop)
		shift
		tgt_stop "$@" || exit 1
		;;
	*)
		echo "usage: $0 start DIR [SLOTS] [TAPES] [DRIVES] | stop DIR" >&2
		exit 2
		;;
	esac
fi
