# SPDX-License-Identifier: GPL-2.0
# Helpers for test cases running in the guest (sourced by tests/cases/*.sh).

IVSHMEM=${IVSHMEM:-$(lspci -Dn -d 1af4:1110 | awk 'NR == 1 {print $1}')}
EDU=${EDU:-$(lspci -Dn -d 1234:11e8 | awk 'NR == 1 {print $1}')}
KSERIES=$(uname -r | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
BIN=/p2pmr/build/user/tests
# Modules built for this kernel: build/<series>, or build/<series>-debug on
# the debug kernels (scripts/debug-kernel.sh).
case $(uname -r) in
*-p2pmr-debug) KMOD=/p2pmr/build/$KSERIES-debug ;;
*) KMOD=/p2pmr/build/$KSERIES ;;
esac

say() { echo "# $*"; }
die() { echo "FAIL: $*"; exit 1; }

# listening PID [PORT]: wait until process PID listens on TCP PORT (18515,
# perftest's), for its client to connect: 60 s at most, and not at all once
# PID has exited.  A fixed sleep was not enough under load (the client found
# nobody: "Couldn't connect to 192.0.2.2:18515").
listening() {
	local i port

	port=$(printf '%04X' "${2:-18515}")
	for i in $(seq 600); do
		cat /proc/net/tcp /proc/net/tcp6 2> /dev/null |
			awk -v p=":$port" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
				END { exit !f }' && return 0
		kill -0 "$1" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}
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

# load_importer [PARAM=VALUE...]: the test importer (tests/kmod/importer)
# and the RDMA core it imports through with IMP_UMEM* (the stock modules
# unless load_rdma ran).
load_importer() {
	modprobe ib_uverbs || die "modprobe ib_uverbs"
	insmod "$KMOD/tests/kmod/importer/p2pmr_importer.ko" "$@" ||
		die "insmod importer"
}

# edu_no_route: edu's DMA to the BAR is refused in every import mode the
# kernel has (a pinned importer is refused earlier on 6.12: it cannot be
# revoked there), and the BAR keeps its bytes.
edu_no_route() {
	local m modes="direct umem"

	[ "$KSERIES" = 6.12 ] || modes="$modes pinned"
	for m in $modes; do
		$BIN/edu_dma_test "$IVSHMEM" $m -n || die "edu_dma_test $m -n"
	done
}

# load_p2p: load vfio-pci-p2p (and vfio-pci-core) for the running kernel.
load_p2p() {
	modprobe vfio-pci || die "modprobe vfio-pci"
	lsmod | grep -q '^vfio_pci_p2p ' ||
		insmod "$KMOD/vfio-export/vfio-pci-p2p.ko" dyndbg=+p ||
		die "insmod vfio-pci-p2p"
}

# rxe_pair: two Soft-RoCE devices joined by a veth pair, both in this
# namespace (6.12's rxe has no network namespace support): rxe0 on veth0
# (192.0.2.1) and rxe1 on veth1 (192.0.2.2).  Policy routing sends traffic
# between the two local addresses through the veth pair instead of lo, so
# each rxe device receives on its own netdev.  TEST-NET-1 addresses, inside
# a guest that has no network device to the outside.
RXE0_IP=192.0.2.1
RXE1_IP=192.0.2.2
rxe_pair() {
	local i

	modprobe rdma_rxe && modprobe ib_uverbs || die "modprobe rdma_rxe ib_uverbs"
	ip link add veth0 type veth peer name veth1 || die "veth"
	ip addr add $RXE0_IP/24 dev veth0
	ip addr add $RXE1_IP/24 dev veth1
	ip link set veth0 up
	ip link set veth1 up
	for i in all default veth0 veth1; do
		sysctl -qw net.ipv4.conf.$i.accept_local=1 \
			net.ipv4.conf.$i.rp_filter=0
	done
	ip rule add pref 100 lookup local
	ip rule del pref 0
	ip rule add pref 10 to $RXE1_IP iif lo lookup 100
	ip rule add pref 11 to $RXE0_IP iif lo lookup 101
	ip route add $RXE1_IP dev veth0 src $RXE0_IP table 100
	ip route add $RXE0_IP dev veth1 src $RXE1_IP table 101
	rdma link add rxe0 type rxe netdev veth0 || die "rdma link add rxe0"
	rdma link add rxe1 type rxe netdev veth1 || die "rdma link add rxe1"
}

# load_rdma: install p2pmr's rebuilt RDMA modules (ib_core, ib_uverbs, ...,
# rdma_rxe) as updates of the running kernel, so that modprobe prefers them
# over the stock ones.  Must run before anything loads ib_core.
# The module index comes from the build (scripts/moddep.sh): depmod here
# would read every module of the kernel, about 100 s under TCG.
load_rdma() {
	local k=$(uname -r)
	local upd=/lib/modules/$k/updates/p2pmr idx=$KMOD/moddep/lib/modules/$k
	lsmod | grep -q '^ib_core ' && die "ib_core already loaded (stock)"
	[ -e "$idx/modules.dep.bin" ] || die "no module index in $idx: run make"
	mkdir -p "$upd"
	cp "$idx"/updates/p2pmr/*.ko "$upd/" &&
		cp "$idx"/modules.* "/lib/modules/$k/" ||
		die "cannot install the rebuilt RDMA modules"
	modinfo -n rdma_rxe | grep -q updates/p2pmr || die "stock rdma_rxe still preferred"
	# rdma-core's rxe provider with reg_dmabuf_mr (userspace/rdma-core/).
	cp /p2pmr/build/rdma-core/librxe-rdmav*.so /usr/lib/x86_64-linux-gnu/libibverbs/ ||
		die "no patched rxe provider: run make"
}
