#!/usr/bin/env bash
# Install the Debian packages h7iap needs. Idempotent: does nothing when all
# are present. Needs root (apt-get) only when something is missing.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
  libcmocka-dev libunicorn-dev zlib1g-dev liblz4-dev
  lrzsz stm32flash gdb-multiarch
  python3
  clang libclang-rt-14-dev clang-format
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps.sh: need root to run apt-get; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
