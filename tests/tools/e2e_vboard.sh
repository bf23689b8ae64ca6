#!/usr/bin/env bash
# h7iap end to end on the virtual board running the real bootloader:
# flash, verify, read back, erase, go, reset; bin, HEX and ELF of the same
# image give the same flash; every error case gives its message and exit
# code. Each h7iap --vboard run starts and stops its own board; the flash
# file persists between runs like a real chip.
#
#   e2e_vboard.sh H7IAP H7VBOARD BOOT_ELF APP_BASE
#     APP_BASE: path without extension of h7app (.bin, .hex, .elf)
# Exit 77 (skipped) when the firmware is not built.
set -uo pipefail

H7IAP=$1 VBOARD=$2 BOOT=$3 APP=$4
for f in "$BOOT" "$APP.bin" "$APP.hex" "$APP.elf" "$VBOARD"; do
	if [ ! -e "$f" ]; then
		echo "SKIP: $f not built"
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/h7iap-e2e.XXXXXX")
board_pid=
stop_board() {
	if [ -n "$board_pid" ]; then
		kill -TERM "$board_pid" 2>/dev/null
		for _ in $(seq 1 60); do
			kill -0 "$board_pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$board_pid" 2>/dev/null
		wait "$board_pid" 2>/dev/null
		board_pid=
	fi
}
trap 'stop_board; rm -rf "$work"' EXIT
fails=0
n=0

# -v: what h7iap did is in the output a failure prints.
iap() {
	"$H7IAP" -v --vboard --vboard-bin "$VBOARD" --vboard-boot "$BOOT" \
		--vboard-flash "$work/flash.bin" --vboard-log "$work/board.log" "$@"
}

# expect CODE TEXT -- command...: exit status CODE and TEXT in stdout+stderr.
expect() {
	local code=$1 text=$2
	shift 3
	n=$((n + 1))
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$code" ] || { [ -n "$text" ] && ! grep -qF -- "$text" <<<"$out"; }; then
		echo "FAIL $n: $* -> exit $rc (want $code, text \"$text\")"
		sed 's/^/    | /' <<<"$out"
		if [ -s "$work/board.log" ]; then
			echo "    board log:"
			tail -n 5 "$work/board.log" | sed 's/^/    | /'
		fi
		fails=$((fails + 1))
	else
		echo "ok   $n: $* -> $rc"
	fi
}

size=$(stat -c %s "$APP.bin")
# Addresses from the firmware's layout (proto/h7_layout.h).
layout() { python3 "$(dirname "$0")/../../proto/h7_layout.py" "$@"; }
read -r app_start log_base bank2 < <(layout BOOT_APP_START BOOT_LOG_BASE H7_BANK2_BASE | tr '\n' ' ')
cross=$(printf '0x%08x' $((bank2 - 0x8000)))   # 32 KB before the bank boundary

# Connection and identity.
expect 0 "0x450" -- iap info
expect 0 "record:" -- iap info

# The three formats of the same image give the same flash contents.
for fmt in bin hex elf; do
	expect 0 "verified" -- iap flash "$APP.$fmt"
	expect 0 "read $size bytes" -- iap read "$app_start" "$size" "$work/back.$fmt"
	n=$((n + 1))
	if cmp -s "$APP.bin" "$work/back.$fmt"; then
		echo "ok   $n: flash after $fmt equals $APP.bin"
	else
		echo "FAIL $n: flash after $fmt differs from $APP.bin"
		fails=$((fails + 1))
	fi
done
expect 0 "verify OK" -- iap verify "$APP.hex"
expect 0 "verify OK" -- iap --no-checksum verify "$APP.elf"

# Start it: go, then a reset that ends in the application again.
expect 0 "h7app" -- iap go --expect h7app --listen 20000
expect 0 "h7app" -- iap reset --expect h7app --listen 20000
expect 0 "COMPLETE" -- iap info

# Erase: the image is gone, verify names the first address, Go is refused.
expect 0 "erased" -- iap erase app
expect 9 "first difference at $app_start" -- iap verify "$APP.bin"
expect 5 "refused" -- iap go
expect 0 "verified" -- iap flash --go --expect h7app --listen 20000 "$APP.elf"

# Power cut in the middle of the write: reported, not retried; the board
# comes back with the update open (not started), and a new flash recovers.
head -c 300000 /dev/urandom >"$work/cut.bin"
expect 11 "power cut" -- iap --vboard-arg=--cut-after-ops=6 flash "$work/cut.bin"
expect 0 "STARTED and not finished" -- iap info
expect 0 "h7app" -- iap flash --expect h7app --listen 20000 "$APP.elf"
expect 0 "COMPLETE" -- iap info

# Raw data across the bank boundary (sectors 7 and 8), odd length.
head -c 65519 /dev/urandom >"$work/cross.bin"
expect 0 "erase: 2 sector(s)" -- iap --protocol an3155 -a "$cross" flash --no-reset "$work/cross.bin"
expect 0 "verify OK" -- iap -a "$cross" --no-checksum verify "$work/cross.bin"
expect 0 "read 65519 bytes" -- iap read "$cross" 65519 "$work/cross.back"
n=$((n + 1))
if cmp -s "$work/cross.bin" "$work/cross.back"; then
	echo "ok   $n: data across the bank boundary reads back"
else
	echo "FAIL $n: data across the bank boundary differs"
	fails=$((fails + 1))
fi

# Errors.
expect 3 "not found" -- "$H7IAP" --port "$work/no-such-tty" info
# A board that does not answer: it runs the application, not the bootloader.
expect 4 "no answer" -- "$H7IAP" --vboard --vboard-bin "$VBOARD" --vboard-boot "$APP.elf" \
	--vboard-arg=--boot --vboard-arg="$app_start" --vboard-flash "$work/silent.bin" --retries 3 info
expect 5 "Read Memory at 0x00000000 refused" -- iap read 0 16 "$work/itcm.bin"
expect 8 "holds the bootloader" -- iap erase 0
head -c $((0x1C0000 + 1)) /dev/zero >"$work/big.bin"
expect 7 "too large" -- iap flash "$work/big.bin"
expect 8 "outside the application area" -- iap -a "$log_base" flash "$APP.bin"
expect 11 "not found" -- "$H7IAP" --vboard --vboard-bin "$work/none" info

# One board for several commands (as in make demo), shared with
# stm32flash: both clients must be interchangeable on this bootloader.
"$VBOARD" --flash "$work/port.bin" --pty-link "$work/pty" --wait-host --host-wait-ms 2000 "$BOOT" \
	>"$work/board.log" 2>&1 &
board_pid=$!
for _ in $(seq 1 200); do
	[ -e "$work/pty" ] && break
	sleep 0.05
done
pio() { "$H7IAP" -v --port "$work/pty" "$@"; }
expect 0 "0x450" -- pio --retries 25 info
if command -v stm32flash >/dev/null 2>&1; then
	expect 0 "" -- stm32flash -m 8n1 -w "$APP.bin" -S "$app_start" "$work/pty"
	# Get Checksum answers the STM32 CRC unit's CRC (crc/crc32.h), which
	# stm32flash -C asks for; the reference is computed here bit by bit
	# over the image padded with erased bytes.
	len4=$(((size + 3) / 4 * 4))
	want=$(python3 - "$APP.bin" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
d += b"\xff" * (-len(d) % 4)
c = 0xFFFFFFFF
for i in range(0, len(d), 4):
    c ^= int.from_bytes(d[i:i + 4], "little")
    for _ in range(32):
        c = ((c << 1) ^ 0x04C11DB7 if c & 0x80000000 else c << 1) & 0xFFFFFFFF
print("0x%08x" % c)
PY
)
	expect 0 "= $want" -- stm32flash -m 8n1 -C -S "$app_start:$len4" "$work/pty"
	expect 0 "verify OK" -- pio verify "$APP.elf"
	expect 0 "erased" -- pio erase app
	expect 0 "bootloader stays in charge" -- pio flash --no-reset "$APP.hex"
	expect 0 "" -- stm32flash -m 8n1 -r "$work/sf.bin" -S "$app_start:$size" "$work/pty"
	n=$((n + 1))
	if cmp -s "$APP.bin" "$work/sf.bin"; then
		echo "ok   $n: stm32flash reads back what h7iap wrote"
	else
		echo "FAIL $n: stm32flash reads back something else than h7iap wrote"
		fails=$((fails + 1))
	fi
else
	echo "note: stm32flash not installed, interchangeability not checked"
	expect 0 "verified" -- pio flash --no-reset "$APP.hex"
fi
expect 0 "h7app" -- pio reset --expect h7app --listen 20000
expect 4 "no answer" -- pio --retries 2 info
expect 0 "0x450" -- pio --enter-bootloader info
stop_board

# No board left behind.
n=$((n + 1))
if pgrep -f -- "$work/flash.bin" >/dev/null 2>&1; then
	echo "FAIL $n: a virtual board is still running"
	fails=$((fails + 1))
else
	echo "ok   $n: no virtual board left running"
fi

echo "$((n - fails))/$n passed"
[ "$fails" -eq 0 ]
