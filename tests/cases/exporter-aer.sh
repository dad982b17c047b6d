#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci-p2p and PCIe error recovery (issue 12): errors injected with
# aer_inject at the root port above ivshmem go through pcie_do_recovery(),
# which resets the device without reset_prepare().  A fatal error must
# invalidate the importer (tests/kmod/importer on edu) while the BAR still
# decodes; a non-fatal one must leave it alone.  Last, ivshmem's sibling
# function (pci-testdev) loses its driver, so that a fatal error's recovery
# fails: importers stay revoked while the owner holds the device, and
# buffers exported after it closed and opened the device again work.
# vm: --edu --cpu EPYC --topology rootports-fn1
. tests/lib/guest.sh

load_p2p
load_importer
bind_driver "$IVSHMEM" vfio-pci-p2p
SIBLING=$(lspci -Dn -d 1b36:0005 | awk 'NR == 1 {print $1}')
[ -n "$SIBLING" ] || die "no pci-testdev beside ivshmem"
bind_driver "$SIBLING" vfio-pci-p2p
modprobe aer_inject || skip "no aer_inject module (CONFIG_PCIEAER_INJECT)"
dmesg | grep -q 'AER: enabled with IRQ' || skip "no native AER on the root ports"
$BIN/importer_test "$IVSHMEM" host-bridge aer "$SIBLING"
rc=$?
# What the kernel did: its recovery messages and the driver's handlers.
dmesg | grep -E 'AER:|aer_inject|error_detected|resum|dma-buf of BAR|revoked:' | sed 's/^/# /'
exit $rc
