#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of benchmarks 3 and 4 (perf/bench/3-mapcost.sh,
# 4-revoke-latency.sh): build/perf/dmacost MODE against vfio-pci-p2p, and on
# 7.3 against upstream vfio-pci with the same importer; the table rows go
# to /vmout/dmacost-MODE.md.
#   perf/guest/dmacost.sh map|revoke
. tests/lib/guest.sh

mode=$1
out=/vmout/dmacost-$mode.md
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
load_p2p
load_importer
# The tests' per-map debug messages would be timed too.
mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug
echo "module vfio_pci_p2p -p" > /sys/kernel/debug/dynamic_debug/control ||
	die "cannot turn vfio-pci-p2p's debug messages off"
: > "$out"
drivers=vfio-pci-p2p
[ "$KSERIES" = 6.12 ] || drivers="$drivers vfio-pci"
for d in $drivers; do
	bind_driver "$IVSHMEM" $d
	label=p2pmr
	[ $d = vfio-pci ] && label=upstream
	/p2pmr/build/perf/dmacost "$IVSHMEM" "$mode" $label | tee -a "$out"
	[ "${PIPESTATUS[0]}" = 0 ] || die "dmacost $mode $label failed"
done
