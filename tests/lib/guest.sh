# SPDX-License-Identifier: GPL-2.0
# Helpers for test cases running in the guest (sourced by tests/cases/*.sh).

IVSHMEM=${IVSHMEM:-$(lspci -Dn -d 1af4:1110 | awk 'NR == 1 {print $1}')}
EDU=${EDU:-$(lspci -Dn -d 1234:11e8 | awk 'NR == 1 {print $1}')}
KSERIES=$(uname -r | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
BIN=/p2pmr/build/user/tests
KMOD=/p2pmr/build/$KSERIES

say() { echo "# $*"; }
die() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# bind_driver BDF DRIVER: bind a PCI device to DRIVER through driver_override.
bind_driver() {
	local dev=/sys/bus/pci/devices/$1
	[ -e "$dev" ] || die "no PCI device $1"
	if [ -e "$dev/driver" ]; then
		echo "$1" > "$dev/driver/unbind" || die "unbind $1"
	fi
	echo "$2" > "$dev/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$dev/driver")")" = "$2" ] ||
		die "$1 did not bind to $2"
}

# rxe_up NAME NETDEV: add a Soft-RoCE device.
rxe_up() {
	modprobe rdma_rxe && modprobe ib_uverbs || die "modprobe rdma_rxe ib_uverbs"
	rdma link add "$1" type rxe netdev "$2" || die "rdma link add $1"
}

# load_p2p: load vfio-pci-p2p (and vfio-pci-core) for the running kernel.
load_p2p() {
	modprobe vfio-pci || die "modprobe vfio-pci"
	lsmod | grep -q '^vfio_pci_p2p ' ||
		insmod "$KMOD/vfio-export/vfio-pci-p2p.ko" dyndbg=+p ||
		die "insmod vfio-pci-p2p"
}
