#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh SERIES: build and install p2pmr's debug kernel for
# SERIES (6.12 or 7.3) from Debian's linux-source-SERIES, inside the trixie
# root: KASAN, lockdep, kmemleak, DMA-API debugging and the rest of
# scripts/debug-kernel/debug.config, on a configuration trimmed to what the
# test bed needs (bed.config) with the options under test copied from
# Debian's own kernel of the series (mirror.list).
#
# Result: the kernel release "<version>-p2pmr-debug", its modules and image in
# the root's /usr/lib/modules/<release>/, its build tree under
# $P2PMR_CACHE/debug/SERIES/build (as /usr/src/linux-headers-<release> in the
# root, for out-of-tree modules), and a line "SERIES-debug <release>" in
# $P2PMR_CACHE/kernels-debug.  Keyed by the source package's version and
# every input of this script: a warm run returns at once, a changed input
# rebuilds incrementally.  Cold: about 17 minutes on 2 cores (docs/testbed.md).
# P2PMR_DEBUG_CONFIG_ONLY=1 stops after making and checking the .config.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: debug-kernel.sh SERIES}
cfg=$P2PMR_TOP/scripts/debug-kernel
work=$P2PMR_CACHE/debug/$series
list=$P2PMR_CACHE/kernels-debug
log() { echo "debug-kernel $series: $*" >&2; }

base=$(kver_of "$series")
srcver=$(in_root dpkg-query -W -f='${Version}' "linux-source-$series")
tar=$P2PMR_ROOT/usr/src/linux-source-$series.tar.xz
[ -e "$tar" ] || { log "no $tar: run 'make deps'"; exit 2; }

patches=("$cfg"/*.patch)
srckey=$(cat "${patches[@]}" | md5sum | { read -r h _; echo "$srcver $h"; })
key=$(cat "$0" "$cfg"/* | md5sum | { read -r h _; echo "$srckey $base $h"; })
if [ "$(cat "$work/.built" 2>/dev/null)" = "$key" ] &&
   grep -q "^$series-debug " "$list" 2>/dev/null; then
	exit 0
fi
t0=$SECONDS

# The source: the whole tarball, with p2pmr's build-time patches.
if [ "$(cat "$work/src/.p2pmr-src" 2>/dev/null)" != "$srckey" ]; then
	log "extracting linux-source-$series $srcver"
	rm -rf "$work/src" "$work/src.tmp"
	mkdir -p "$work/src.tmp"
	tar -C "$work/src.tmp" -xf "$tar"
	mv "$work/src.tmp/linux-source-$series" "$work/src"
	rmdir "$work/src.tmp"
	for p in "${patches[@]}"; do
		patch -d "$work/src" -p1 --quiet --no-backup-if-mismatch < "$p"
	done
	echo "$srckey" > "$work/src/.p2pmr-src"
	rm -rf "$work/build"
fi

# The configuration: defconfig + kvm_guest.config, then the options under
# test as Debian's kernel of the series has them, then the bed's needs and
# the debugging options.
dconf=$P2PMR_ROOT/boot/config-$base
[ -e "$dconf" ] || dconf=$P2PMR_ROOT/usr/lib/modules/$base/config
[ -e "$dconf" ] || { log "no config of Debian's $base"; exit 2; }
mkdir -p "$work/build"
sed 's/#.*//' "$cfg/mirror.list" | tr -s ' \n' '\n\n' | sed '/^$/d' |
while read -r sym; do
	grep -E "^(CONFIG_$sym=|# CONFIG_$sym is not set)" "$dconf" ||
		echo "# CONFIG_$sym is not set"
done > "$work/build/mirror.config"

# Options that exist in one series only.
series_frag=""
[ ! -e "$cfg/debug-$series.config" ] ||
	series_frag=/p2pmr/scripts/debug-kernel/debug-$series.config

kmake() {
	in_root make -C "/cache/debug/$series/src" O="/cache/debug/$series/build" "$@"
}
kmake -s x86_64_defconfig kvm_guest.config
in_root bash -c "cd /cache/debug/$series/src && scripts/kconfig/merge_config.sh \
	-m -O ../build ../build/.config ../build/mirror.config \
	/p2pmr/scripts/debug-kernel/bed.config \
	/p2pmr/scripts/debug-kernel/debug.config $series_frag" > "$work/merge.log"
kmake -s olddefconfig

# Every option asked for must have taken: a dependency that olddefconfig
# dropped silently would make the kernel blind to what it is built to see.
bad=0
for f in "$work/build/mirror.config" "$cfg/bed.config" "$cfg/debug.config" \
	 ${series_frag:+"$cfg/debug-$series.config"}; do
	while read -r line; do
		case $line in
		CONFIG_*=n) sym=${line%%=*}; want=n ;;
		CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
		*) continue ;;
		esac
		have=$(sed -n "s/^$sym=//p" "$work/build/.config")
		[ -n "$have" ] || have=n
		if [ "$have" != "$want" ]; then
			log "$sym is $have, wanted $want (from $(basename "$f"))"
			bad=1
		fi
	done < "$f"
done
[ $bad = 0 ] || { log "configuration check failed"; exit 1; }
if [ -n "${P2PMR_DEBUG_CONFIG_ONLY:-}" ]; then
	log "configuration checked: $work/build/.config (not built)"
	exit 0
fi

log "building (make -j$(nproc) bzImage modules)"
kmake -s -j"$(nproc)" bzImage modules
rel=$(kmake -s kernelrelease)
case $rel in
*-p2pmr-debug) ;;
*) log "unexpected kernel release '$rel'"; exit 1 ;;
esac
in_root rm -rf "/usr/lib/modules/$rel"
kmake -s INSTALL_MOD_PATH=/ modules_install
in_root cp "/cache/debug/$series/build/arch/x86/boot/bzImage" \
	"/usr/lib/modules/$rel/vmlinuz"
in_root ln -sfn "/cache/debug/$series/build" "/usr/src/linux-headers-$rel"
in_root depmod -a "$rel"

{ grep -v "^$series-debug " "$list" 2>/dev/null || true
  echo "$series-debug $rel"; } > "$list.tmp"
mv "$list.tmp" "$list"
chmod 644 "$list"
echo "$key" > "$work/.built"
log "built $rel in $((SECONDS - t0)) s"
