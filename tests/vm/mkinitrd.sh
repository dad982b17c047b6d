#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build the test bed's busybox initramfs for kernel $1 into $2 (gzip cpio).
# Runs inside the trixie root.  The initramfs only loads what is needed to
# reach the 9p root (virtio + 9p + overlay); tests/vm/init does the rest.
set -eu
kver=$1
out=$2
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/bin" "$tmp/mods" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/mnt"
cp /usr/bin/busybox "$tmp/bin/busybox"
for app in sh mount umount mkdir insmod cat echo sleep poweroff chroot \
	   switch_root dmesg; do
	ln -s busybox "$tmp/bin/$app"
done

n=0
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -S "$kver" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
	n=$((n + 1))
	dst=$tmp/mods/$(printf %02d "$n")-$(basename "$ko" | sed 's/\.ko.*//').ko
	case "$ko" in
	*.xz)	xz -dc "$ko" > "$dst" ;;
	*.zst)	zstd -qdc "$ko" > "$dst" ;;
	*.gz)	gzip -dc "$ko" > "$dst" ;;
	*)	cp "$ko" "$dst" ;;
	esac
done

# The kernel's module auto-loading runs /sbin/modprobe in the initramfs
# root: hand it to the real one in the guest root.
mkdir -p "$tmp/sbin"
printf '#!/bin/sh\nexec /bin/chroot /newroot /sbin/modprobe "$@"\n' > "$tmp/sbin/modprobe"
chmod +x "$tmp/sbin/modprobe"

cp "$here/init" "$tmp/init"
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
