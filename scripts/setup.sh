#!/bin/bash
# Installs the Debian packages tapir needs to build and test, only those missing.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev
      libssl-dev libzstd-dev zlib1g-dev libsqlite3-dev libjansson-dev uuid-dev
      libcmocka-dev libacl1-dev libattr1-dev attr acl
      libmicrohttpd-dev libgnutls28-dev libiscsi-dev libpam0g-dev libcrypt-dev
      tgt curl zstd python3 xxd time wrk)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
