# SPDX-License-Identifier: GPL-2.0
# Shared by p2pmr's scripts: where the cache is and how to run in the root.

P2PMR_CACHE=${P2PMR_CACHE:-/var/cache/p2pmr}
P2PMR_ROOT=$P2PMR_CACHE/root
P2PMR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# in_root CMD...: run CMD in the trixie root, in a private mount namespace (so
# nothing stays mounted afterwards), with the repository at /p2pmr, the cache
# at /cache and each
# "hostdir:guestdir" of $P2PMR_BINDS bound too.
in_root() {
	unshare -m --propagation private /bin/bash -c '
		set -e
		r=$1; top=$2; binds=$3; shift 3
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t tmpfs -o size=8g tmpfs "$r/dev/shm"
		mkdir -p "$r/p2pmr" "$r/cache"
		mount --bind "$top" "$r/p2pmr"
		mount --bind "$r/.." "$r/cache"
		for b in $binds; do
			mkdir -p "$r/${b#*:}"
			mount --bind "${b%%:*}" "$r/${b#*:}"
		done
		exec chroot "$r" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			TERM=dumb "$@"
	' in_root "$P2PMR_ROOT" "$P2PMR_TOP" "${P2PMR_BINDS:-}" "$@"
}

# kver_of SERIES: the exact kernel release (e.g. 6.12.57+deb13-amd64) that
# "make deps" installed for a series (6.12 or 7.3), or that
# scripts/debug-kernel.sh built for a debug series (6.12-debug, 7.3-debug).
kver_of() {
	local k
	k=$(cat "$P2PMR_CACHE/kernels" "$P2PMR_CACHE/kernels-debug" 2>/dev/null |
		awk -v s="$1" '$1 == s {print $2}')
	if [ -z "$k" ]; then
		case $1 in
		*-debug) echo "p2pmr: no debug kernel '$1': run 'make debug-kernels'" >&2 ;;
		*) echo "p2pmr: kernel series '$1' not installed: run 'make deps'" >&2 ;;
		esac
		return 1
	fi
	echo "$k"
}
