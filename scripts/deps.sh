#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything p2pmr needs, from Debian's archive only.
#
# On the host (Debian 12): debootstrap, git and Perl (for make patches and
# checkpatch), nothing else.  Everything else lives in
# a Debian trixie root under $P2PMR_CACHE (default /var/cache/p2pmr/root) that
# serves both as the build environment (Debian's 7.3 kbuild needs glibc >= 2.38)
# and, shared read-only over 9p, as the guest root filesystem.  Inside it:
# QEMU, rdma-core, perftest, build tools, and for each supported kernel series
# (6.12 from trixie, 7.3 from trixie-backports) the image, modules, headers and
# the matching linux-source package.  The exact kernel versions are discovered
# at run time and recorded in $P2PMR_CACHE/kernels.
#
# Idempotent: every step is skipped when its result is present, and apt's
# package cache lives inside the root, so a second run takes seconds.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
CACHE=$P2PMR_CACHE
ROOT=$P2PMR_ROOT
MIRROR=${P2PMR_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${P2PMR_SECMIRROR:-http://deb.debian.org/debian-security}
SERIES=${P2PMR_SERIES:-"6.12 7.3"}

ROOT_PKGS="ca-certificates build-essential bc bison flex libelf-dev libssl-dev
dwarves kmod cpio xz-utils zstd busybox-static
rdma-core ibverbs-utils ibverbs-providers libibverbs-dev librdmacm-dev
perftest iproute2 pciutils python3 procps util-linux file patch git
libcmocka-dev pkg-config gcc-14 dpkg-dev cmake ninja-build libnl-3-dev
libnl-route-3-dev libudev-dev clang libclang-rt-19-dev libibumad-dev
libpci-dev gnuplot-nox nvme-cli fio e2fsprogs libjson-c-dev rdmacm-utils"

# QEMU from trixie-backports (11.1): trixie's 10.0.13 has multi-threaded
# TCG's stale-section race (the iotlb_to_section abort, and EOIs lost to the
# local APIC's neighbour; docs/testbed.md), which 11.1 no longer has.
BACKPORTS_PKGS="qemu-system-x86 qemu-utils"

log() { echo "deps: $*" >&2; }

host_deps() {
	local missing=""
	command -v debootstrap >/dev/null || missing="$missing debootstrap"
	command -v unshare >/dev/null || missing="$missing util-linux"
	command -v pkill >/dev/null || missing="$missing procps"
	# make patches (scripts/make-patches.sh) and checkpatch.pl run on the
	# host: git, and Perl with the modules checkpatch uses.
	command -v git >/dev/null || missing="$missing git"
	perl -MPOSIX -MTerm::ANSIColor -MEncode -MGetopt::Long -MFile::Basename \
		-MCwd -e 1 2>/dev/null || missing="$missing perl"
	[ -z "$missing" ] && return 0
	log "installing on host:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
}

make_root() {
	[ -f "$ROOT/.p2pmr-bootstrap" ] && return 0
	log "debootstrap trixie into $ROOT"
	rm -rf "$ROOT"
	mkdir -p "$CACHE"
	debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" >&2
	cat > "$ROOT/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: trixie trixie-updates trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECMIRROR
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	cat > "$ROOT/etc/apt/sources.list.d/debian-src.sources" <<SRC
Types: deb-src
URIs: $MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	rm -f "$ROOT/etc/apt/sources.list"
	# Keep downloaded packages: they are the cache of the next run.
	echo 'APT::Keep-Downloaded-Packages "true";' > "$ROOT/etc/apt/apt.conf.d/90p2pmr"
	# Never start services inside the root.
	printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
	chmod +x "$ROOT/usr/sbin/policy-rc.d"
	touch "$ROOT/.p2pmr-bootstrap"
}

root_pkgs() {
	local want
	want="$(echo $ROOT_PKGS) trixie-backports: $BACKPORTS_PKGS"
	if [ "$(cat "$ROOT/.p2pmr-pkgs" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	log "installing packages in the root"
	in_root apt-get update -qq
	in_root apt-get install -y -qq --no-install-recommends $ROOT_PKGS >&2
	in_root apt-get install -y -qq --no-install-recommends \
		-t trixie-backports $BACKPORTS_PKGS >&2
	echo "$want" > "$ROOT/.p2pmr-pkgs"
}

# Newest linux-image-<ver>-amd64 of a series (e.g. 6.12) that the archive has.
kernel_abi() {
	in_root apt-cache search --names-only "^linux-image-$1\\.[0-9]+(\\+[a-z0-9.]+)?-amd64\$" |
		awk '{print $1}' | sed -e 's/^linux-image-//' -e 's/-amd64$//' |
		sort -V | tail -n 1
}

# Names of the packages PKG depends on that match the regex RE.
pkg_deps() {
	in_root apt-cache show "$1" | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',|' '\n\n' | sed 's/^ *//; s/[ (].*//' | grep -E "$2" | tr "\n" " " || true
}

kernel() {
	local series=$1 abi kver pkgs
	abi=$(kernel_abi "$series")
	[ -n "$abi" ] || { log "no $series kernel in the archive"; return 1; }
	kver=$abi-amd64
	if [ -f "$ROOT/.p2pmr-kernel-$kver" ]; then
		echo "$series $kver"
		return 0
	fi
	log "kernel $series: $kver"
	# Image, modules and headers are unpacked, not installed: no initramfs
	# hooks run (nothing boots them but our own initramfs) and apt does not
	# pull in dracut.  linux-source is installed normally.
	pkgs="linux-image-$kver linux-headers-$kver"
	pkgs="$pkgs $(pkg_deps "linux-image-$kver" '^linux-(binary|modules|base)-')"
	pkgs="$pkgs $(pkg_deps "linux-headers-$kver" '^linux-(headers|kbuild)-')"
	in_root sh -c "mkdir -p /var/cache/p2pmr-debs && cd /var/cache/p2pmr-debs &&
		chown _apt . && apt-get download -q $pkgs" >&2
	for p in $pkgs; do
		in_root sh -c "dpkg -x /var/cache/p2pmr-debs/${p}_*.deb /"
	done
	in_root depmod -a "$kver"
	in_root apt-get install -y -qq --no-install-recommends \
		"linux-source-$series" >&2
	touch "$ROOT/.p2pmr-kernel-$kver"
	echo "$series $kver"
}

host_deps
make_root
root_pkgs
tmp=$(mktemp)
for s in $SERIES; do
	kernel "$s" >> "$tmp"
done
mv "$tmp" "$CACHE/kernels"
chmod 644 "$CACHE/kernels"
log "ready: $(tr '\n' ' ' < "$CACHE/kernels")"
