#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# SR-IOV on a PF bound to vfio-pci-p2p behaves as on vfio-pci (issue 12,
# item 12), checked side by side on QEMU's igb (82576, up to 7 VFs): with
# enable_sriov off, writing sriov_numvfs fails with ENOENT; with it on, the
# VFs appear and bind to the PF's driver (vfio-pci-core's bus notifier
# sets their driver_override to the ops' name), a VF cannot be opened
# without the PF's VF token, and writing 0 removes them.  A PF export
# keeps working while its VFs exist, and on vfio-pci-p2p a VF opens through
# libp2pmr with the PF's VF token (not without it, nor with another) and
# its BAR0 exports, usable (tests/exporter/vf_token.c); a reset of the PF,
# by VFIO_DEVICE_RESET and by its last close, revokes the VF's buffer (an
# importer holds it) and restores it after (issue 12); the p2pmr command
# opens the VF with --vf-token (and not with another token).  vfio-pci's
# denylist switch exists.
# vm: --qemu -device --qemu pcie-root-port,id=rp9,chassis=9,addr=0x14 --qemu -device --qemu igb,bus=rp9
. tests/lib/guest.sh

PF=$(lspci -Dn -d 8086:10c9 | awk 'NR == 1 {print $1}')
[ -n "$PF" ] || die "no igb PF (8086:10c9)"
pf=/sys/bus/pci/devices/$PF
[ "$(cat "$pf/sriov_totalvfs")" -ge 2 ] || die "igb offers fewer than 2 VFs"

load_p2p
load_importer

# sriov DRIVER: the same steps, with DRIVER bound to the PF.
sriov() {
	local drv=$1 param vf v n
	param=/sys/module/${drv//-/_}/parameters/enable_sriov
	say "$drv"
	bind_driver "$PF" "$drv"
	[ -w "$param" ] || die "$drv: no writable enable_sriov parameter"
	[ "$(cat "$param")" = N ] || die "$drv: enable_sriov is on by default"

	if err=$( (echo 2 > "$pf/sriov_numvfs") 2>&1 ); then
		die "$drv: VFs enabled with enable_sriov off"
	fi
	case $err in
	*"No such file or directory"*) say "$drv: off: ENOENT, as expected" ;;
	*) die "$drv: off: '$err', not ENOENT" ;;
	esac

	echo Y > "$param"
	echo 2 > "$pf/sriov_numvfs" || die "$drv: enabling 2 VFs failed"
	[ "$(cat "$pf/sriov_numvfs")" = 2 ] || die "$drv: sriov_numvfs does not read 2"
	for v in virtfn0 virtfn1; do
		vf=$(basename "$(readlink "$pf/$v")")
		[ -n "$vf" ] || die "$drv: no $v"
		n=$(basename "$(readlink "/sys/bus/pci/devices/$vf/driver")")
		[ "$n" = "$drv" ] || die "$drv: VF $vf bound to '$n', not $drv"
		say "$drv: VF $vf bound to $n"
	done
	# A VF of a PF held by a VFIO driver needs the PF's VF token.
	vf=$(basename "$(readlink "$pf/virtfn0")")
	dmesg -C
	if /p2pmr/build/user/bin/p2pmr export "$vf" --bar 0 > /tmp/vf.log 2>&1; then
		cat /tmp/vf.log
		die "$drv: VF $vf exported without a VF token"
	fi
	cat /tmp/vf.log
	dmesg | grep -q "VF token required to access device" ||
		die "$drv: the VF was not refused for its VF token"

	[ "$drv" = vfio-pci ] || {
		# The PF's own BAR still exports with its VFs present.
		/p2pmr/build/user/bin/p2pmr export "$PF" --bar 0 > /tmp/pf.log 2>&1 ||
			{ cat /tmp/pf.log; die "$drv: PF export with VFs present failed"; }
		# A VF with the PF's VF token, through libp2pmr, and its BAR0.
		/p2pmr/build/user/tests/vf_token "$PF" "$vf" 0 reset > /tmp/vft.log 2>&1
		rc=$?
		cat /tmp/vft.log
		[ $rc = 0 ] || die "$drv: the VF with its token (vf_token, exit $rc)"
		# The token lasts while the PF's driver is bound: the CLI's
		# --vf-token opens the VF with it, and not with another (exit 4).
		p2pmr=/p2pmr/build/user/bin/p2pmr
		$p2pmr export "$vf" --bar 0 --vf-token 5a3c9c1e-0d4b-4c2f-9e7a-8b6d2f1a0c3e ||
			die "$drv: p2pmr export of the VF with --vf-token"
		$p2pmr export "$vf" --bar 0 --vf-token 00000000-0000-0000-0000-000000000001 \
			> /tmp/vfc.log 2>&1
		rc=$?
		cat /tmp/vfc.log
		[ $rc = 4 ] && grep -q "VF token" /tmp/vfc.log ||
			die "$drv: p2pmr export with another VF token: exit $rc, want 4 and the reason"
	}

	echo 0 > "$pf/sriov_numvfs" || die "$drv: disabling the VFs failed"
	[ ! -e "$pf/virtfn0" ] || die "$drv: VFs left after writing 0"
	echo N > "$param"
}

modprobe vfio-pci || die "modprobe vfio-pci"
sriov vfio-pci
sriov vfio-pci-p2p
[ "$(cat /sys/module/vfio_pci_p2p/parameters/disable_denylist 2>/dev/null)" = N ] ||
	die "vfio-pci-p2p has no disable_denylist parameter, or it is on"
echo "PASS: SR-IOV on vfio-pci-p2p as on vfio-pci"
