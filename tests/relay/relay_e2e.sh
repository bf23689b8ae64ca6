#!/usr/bin/env bash
# h7iap's fast protocol through the fault-injecting relay (tools/h7relay.c):
# each fault kind, then the image in flash must equal the source byte for
# byte (h7iap verify, by the flash's CRC per block), or h7iap exits with a
# clear error and no COMPLETE record is written.
#
#   relay_e2e.sh H7IAP H7RELAY FAKE_TARGET VBOARD BOOT_ELF BOARD CASE
#     BOARD: fake (tests/tools' scripted device, fake_fastp.c) or vboard
#            (the real bootloader on h7vboard; exit 77 while it does not
#            list the fast protocol's 0xE1 in Get)
#     CASE:  clean loss corrupt dup reorder stall baudfail mixed powercut
set -uo pipefail

H7IAP=$1 RELAY=$2 FAKE=$3 VBOARD=$4 BOOT=$5 BOARD=$6 CASE=$7
work=$(mktemp -d "${TMPDIR:-/tmp}/h7relay-e2e.XXXXXX")
pids=()
stop() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
}
trap 'stop; rm -rf "$work"' EXIT
fail() {
	echo "FAIL ($BOARD $CASE): $*"
	for f in "$work"/*.log; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	exit 1
}

# The board: its line at $work/board, until stop.
start_board() {
	local extra=("$@")
	if [ "$BOARD" = fake ]; then
		"$FAKE" --fastp --checksum --reason >"$work/fake.path" 2>"$work/fake.log" &
		pids+=($!)
		for _ in $(seq 1 100); do
			[ -s "$work/fake.path" ] && break
			sleep 0.05
		done
		ln -sf "$(cat "$work/fake.path")" "$work/board"
	else
		"$VBOARD" --flash "$work/flash.bin" --pty-link "$work/board" --wait-host \
			--host-wait-ms 2000 --quiet "${extra[@]}" "$BOOT" >"$work/vboard.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 1 200); do
			[ -e "$work/board" ] && break
			sleep 0.05
		done
	fi
	[ -e "$work/board" ] || fail "the board did not start"
}

# The relay with the given faults: h7iap's port is $work/link. A new one
# replaces the last (the board keeps running: the fake's flash is in RAM).
relay_pid=
start_relay() {
	if [ -n "$relay_pid" ]; then
		kill -TERM "$relay_pid" 2>/dev/null
		wait "$relay_pid" 2>/dev/null
	fi
	rm -f "$work/link"
	"$RELAY" --board "$work/board" --link "$work/link" "$@" 2>>"$work/relay.log" &
	relay_pid=$!
	pids+=($!)
	for _ in $(seq 1 100); do
		[ -e "$work/link" ] && break
		sleep 0.05
	done
	[ -e "$work/link" ] || fail "the relay did not start"
}

iap() {
	# -t: the emulated board's time can run ten times slower than ours
	# while it erases (its link-lost silence, h7iap's reply timeouts)
	"$H7IAP" -v -p "$work/link" --retries 12 -t 30000 "$@"
}

for f in "$H7IAP" "$RELAY"; do
	[ -x "$f" ] || { echo "SKIP: $f not built"; exit 77; }
done
if [ "$BOARD" = vboard ]; then
	for f in "$VBOARD" "$BOOT"; do
		[ -e "$f" ] || { echo "SKIP: $f not built"; exit 77; }
	done
else
	[ -x "$FAKE" ] || { echo "SKIP: $FAKE not built"; exit 77; }
fi

# Seeded random bytes, their second half text: raw and deflated frames.
# 600 KB on the fake device; 320 KB on the virtual board (its time runs
# slower than ours: keeps make test short).
size=614400
[ "$BOARD" = vboard ] && size=327680
python3 - "$work/img.bin" "$size" <<'EOF'
import random, sys
random.seed(7)
n = int(sys.argv[2])
words = [b"flash ", b"sector ", b"bank ", b"ldr r0, [r1, #4]\n", b"bl memcpy\n", b"0x08040000 "]
text = b"".join(random.choice(words) for _ in range(n // 4))[:n - n // 2]
with open(sys.argv[1], "wb") as f:
    f.write(random.randbytes(n // 2) + text)
EOF

start_board
if [ "$BOARD" = vboard ]; then
	start_relay
	info=$(iap info 2>&1) || fail "h7iap info through the relay: $info"
	if ! grep -qi '(0xe1)' <<<"$info"; then
		echo "SKIP: the bootloader does not list the fast protocol (0xE1) in Get yet"
		exit 77
	fi
fi

faults=()
case $CASE in
clean) ;;
loss) faults=(--loss 0.08) ;;
corrupt) faults=(--corrupt 0.08) ;;
dup) faults=(--dup 0.1) ;;
reorder) faults=(--reorder 0.1) ;;
stall) faults=(--stall 0.03:700) ;;
baudfail) faults=(--baud-fail) ;;
mixed) faults=(--loss 0.03 --corrupt 0.03 --dup 0.03 --reorder 0.03 --stall 0.01:400) ;;
powercut) ;;
*) fail "unknown case $CASE" ;;
esac

if [ "$CASE" = powercut ]; then
	[ "$BOARD" = vboard ] || { echo "SKIP: power cuts need the virtual board"; exit 77; }
	stop
	relay_pid=
	# 1 MB (both banks), a cut after half of its word programs
	size=1048576 ops=16384
	python3 -c 'import random, sys; random.seed(8); sys.stdout.buffer.write(random.randbytes(1048576))' >"$work/img.bin"
	start_board --cut-after-ops $ops
	start_relay
	iap --no-reset flash "$work/img.bin" >"$work/cut.log" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] || fail "the transfer survived the cut (no cut happened?)"
	stop
	relay_pid=
	start_board
	start_relay
	iap info >"$work/info-cut.log" 2>&1
	grep -q 'COMPLETE' "$work/info-cut.log" && fail "a COMPLETE record after the cut"
	iap --no-reset flash "$work/img.bin" >"$work/resume.log" 2>&1 || fail "resume failed"
	grep -q 'resuming' "$work/resume.log" || fail "the second run did not resume"
	frames=$(sed -n 's/.* \([0-9]*\) frames (.*/\1/p' "$work/resume.log" | tail -n 1)
	done_b=$(sed -n 's/.*: \([0-9]*\) + \([0-9]*\) bytes already in flash.*/\1 \2/p' "$work/resume.log")
	set -- $done_b
	# only what the log does not count as done is sent: no frame twice ...
	left=$(((size - ${1:-0} - ${2:-0} + 8191) / 8192))
	[ "$frames" -le "$left" ] || fail "resumed with $frames frames, $left left to send"
	# ... and of what the cut had programmed (about one word per operation)
	# less than a window (52 frames of 8 KiB) is sent again
	again=$((ops * 32 - ${1:-0} - ${2:-0}))
	[ "$again" -lt $((52 * 8192)) ] || fail "resent about $again bytes, a window is $((52 * 8192))"
	echo "resumed at $1 + $2 bytes: $frames frames sent of $((size / 8192)), about $again bytes sent again"
else
	start_relay "${faults[@]}" --seed 11
	out=$(iap --no-reset flash "$work/img.bin" 2>&1)
	rc=$?
	echo "$out" >"$work/flash.log"
	if [ "$rc" -ne 0 ]; then
		# allowed only as a clear error with nothing committed
		grep -q 'h7iap: error:' <<<"$out" || fail "exit $rc without an error message"
		start_relay
		if [ "$BOARD" = vboard ]; then
			iap info >"$work/info.log" 2>&1
			grep -q 'COMPLETE' "$work/info.log" && fail "exit $rc but a COMPLETE record"
		fi
		echo "clear error (exit $rc): $(grep 'h7iap: error:' <<<"$out")"
		exit 0
	fi
	grep -q 'with the fast protocol' <<<"$out" || fail "flash did not use the fast protocol"
fi
# byte for byte: verify through the relay without faults
start_relay
iap verify "$work/img.bin" >"$work/verify.log" 2>&1 || fail "flash differs from the image"
cat "$work/relay.log" | grep -v '^$' | tail -n 4
echo "ok: $BOARD $CASE"
