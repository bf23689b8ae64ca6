#!/usr/bin/env bash
# make demo: the first thing a new user runs.
#
#   ./scripts/demo.sh [HOST_BUILD_DIR] [ARM_BUILD_DIR]
#
# The builds are done by make (build/host and build/arm by default). This
# script starts the virtual board running the bootloader, flashes the example
# application with h7iap (progress bar), resets the board, shows the
# application's banner and stops the board. Nothing is left running: the
# board is this script's child and is stopped by pid on every exit path.
set -euo pipefail

HOST=${1:-build/host}
ARM=${2:-$(dirname "$HOST")/arm}

H7IAP=$HOST/tools/h7iap
VBOARD=$HOST/vboard/h7vboard
BOOT=$ARM/boot/h7boot.elf
APP=$ARM/app/h7app.bin
[ -f "$APP" ] || APP=$ARM/app/h7app.elf

for f in "$H7IAP" "$VBOARD" "$BOOT" "$APP"; do
	if [ ! -e "$f" ]; then
		echo "demo: $f is missing; build first with 'make build' (make demo does it)" >&2
		exit 1
	fi
done

if [ -t 1 ]; then
	B=$'\033[1m' N=$'\033[0m'
else
	B= N=
fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/h7iap-demo.XXXXXX")
board_pid=

stop_board() {
	if [ -n "$board_pid" ] && kill -0 "$board_pid" 2>/dev/null; then
		kill -TERM "$board_pid" 2>/dev/null || true
		for _ in $(seq 1 40); do
			kill -0 "$board_pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$board_pid" 2>/dev/null; then
			echo "demo: the board did not stop on SIGTERM; killing it" >&2
			kill -KILL "$board_pid" 2>/dev/null || true
		fi
		wait "$board_pid" 2>/dev/null || true
	fi
	board_pid=
}

cleanup() {
	local rc=$?
	stop_board
	if [ $rc -ne 0 ] && [ -s "$work/board.log" ]; then
		echo "demo: last lines of the virtual board's log:" >&2
		tail -n 15 "$work/board.log" >&2
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s%N)

step "Starting the virtual STM32H745 board with the bootloader ($BOOT)"
# A fresh flash file each run: the demo always starts from an empty
# application area, like a board straight from the factory plus bootloader.
"$VBOARD" --flash "$work/flash.bin" --pty-link "$work/pty" --wait-host --host-wait-ms 1000 "$BOOT" \
	>"$work/board.log" 2>&1 &
board_pid=$!
for _ in $(seq 1 200); do
	[ -e "$work/pty" ] && break
	kill -0 "$board_pid" 2>/dev/null || { echo "demo: the virtual board exited at start" >&2; exit 1; }
	sleep 0.05
done
[ -e "$work/pty" ] || { echo "demo: the virtual board did not open its serial port" >&2; exit 1; }
echo "USART3 of the board is the pty $(readlink "$work/pty") (linked at $work/pty)"

step "h7iap info: who is on the other end of the serial line"
"$H7IAP" --port "$work/pty" --retries 25 info

step "h7iap flash $APP"
"$H7IAP" --port "$work/pty" flash --no-reset "$APP"

step "h7iap reset: the bootloader checks the image and starts it"
"$H7IAP" --port "$work/pty" reset --expect h7app --listen 20000 | sed 's/^/  board> /'

step "Stopping the virtual board"
stop_board
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
printf '\n%sDone in %d.%01d s.%s Next: make test, then see README.md for a real NUCLEO-H745ZI-Q.\n' \
	"$B" $((ms / 1000)) $((ms % 1000 / 100)) "$N"
