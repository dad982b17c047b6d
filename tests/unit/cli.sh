#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The p2pmr command without hardware: usage errors and exit codes, "list"
# against a fake sysfs tree, "status" against a fake debugfs.  Every --json
# output is checked against its schema by json_check.py.
# cli.sh PATH-TO-p2pmr
set -u
P2PMR=$1
CHECK="python3 $(dirname "$0")/json_check.py"
FFFD=$(printf '\357\277\275')	# U+FFFD, what a byte that is not UTF-8 becomes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# expect RC DESCRIPTION -- ARGS...: run p2pmr, check its exit status.
expect() {
	want=$1 what=$2
	shift 3
	"$P2PMR" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc = "$want" ]; then ok "$what (exit $rc)"
	else bad "$what: exit $rc, want $want"; sed 's/^/#   /' "$tmp/out" "$tmp/err"
	fi
}
# has FILE TEXT: the last run's out/err contains TEXT.
has() {
	if grep -qF -- "$2" "$tmp/$1"; then ok "$1 has '$2'"
	else bad "$1 lacks '$2'"; sed 's/^/#   /' "$tmp/$1"
	fi
}
# json COMMAND: the last run's stdout is one object of COMMAND's schema.
json() {
	if $CHECK "$tmp/out" "$1" > "$tmp/why" 2>&1; then ok "$1 JSON in its schema"
	else bad "$1 JSON not in its schema"; sed 's/^/#   /' "$tmp/why" "$tmp/out"
	fi
}

# A fake sysfs: one device on vfio-pci-p2p, one on e1000e, one on
# vfio-pci in a vfio-noiommu group.
s=$tmp/sys
mkdir -p $s/bus/pci/devices $s/kernel/iommu_groups/3 $s/kernel/iommu_groups/4 \
	$s/kernel/iommu_groups/1
z="0x0000000000000000 0x0000000000000000 0x0000000000000000"
dev() { # BDF DRIVER GROUP BAR0-LINE
	d=$s/bus/pci/devices/$1
	mkdir -p $d
	ln -s ../../../bus/pci/drivers/$2 $d/driver
	ln -s ../../../kernel/iommu_groups/$3 $d/iommu_group
	echo 0x1af4 > $d/vendor
	echo 0x1110 > $d/device
	printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$4" "$z" \
		"0x0000000800000000 0x0000000803ffffff 0x000000000014220c" \
		"$z" "$z" "$z" "$z" > $d/resource
}
dev 0000:00:10.0 vfio-pci-p2p 3 "0x00000000fea00000 0x00000000fea00fff 0x0000000000040200"
dev 0000:00:02.0 e1000e 1 "$z"
dev 0000:00:11.0 vfio-pci 4 "0x000000000000c000 0x000000000000c01f 0x0000000000040101"
dev 0000:00:12.0 "$(printf 'bad\377\001')" 1 "$z"
echo vfio-noiommu > $s/kernel/iommu_groups/4/name
export P2PMR_SYSFS=$s
# No VFIO group nodes, whatever the host has.
mkdir -p $tmp/dev/vfio
export P2PMR_DEVFS=$tmp/dev

expect 0 "--help" -- --help
has out "Usage: p2pmr"
has out "Exit status"
expect 0 "help command" -- help
expect 0 "--version" -- --version
has out "p2pmr 0."
expect 2 "no command" --
expect 2 "unknown command" -- frobnicate
has err "p2pmr: unknown command 'frobnicate'"
expect 2 "unknown option" -- list --frob
expect 2 "export without a device" -- export
expect 2 "export without --bar" -- export 00:10.0
has err "--bar is required"
expect 2 "--bar out of range" -- export 00:10.0 --bar 6
expect 2 "--bar not a number" -- export 00:10.0 --bar 1x
expect 2 "--ranges syntax" -- export 00:10.0 --bar 2 --ranges 0:4K,
has err "p2pmr: ranges: expected a number at position 6"
expect 2 "--ranges too many" -- export 00:10.0 --bar 2 --ranges "$(python3 -c 'print("," * 65536)')"
has err "65537 ranges, at most 65536"
expect 2 "option of another command" -- list --bar 2
has err "p2pmr: list: option --bar is not valid for this command"
expect 2 "--gid-index on export" -- export 00:10.0 --bar 2 --gid-index 1
has err "export: option --gid-index is not valid for this command"
# Alignment and overlaps are usage errors, found before the device is opened.
expect 2 "--ranges unaligned" -- export 00:10.0 --bar 2 --ranges 0:2K
has err "p2pmr: --ranges: range 0 (0x0:0x800) is not aligned to"
expect 2 "--ranges overlapping" -- export 00:10.0 --bar 2 --ranges 0:8K,4K:4K
has err "overlap"
expect 2 "--ranges empty" -- mr-check 00:10.0 --bar 2 --ranges 0:0
expect 2 "--ranges wrapping" -- export 00:10.0 --bar 2 --ranges 0xfffffffffffff000:8K
expect 2 "extra argument" -- status extra
expect 2 "--ibdev on export" -- export 00:10.0 --bar 2 --ibdev rxe0
expect 2 "--length zero" -- mr-check 00:10.0 --bar 2 --length 0
expect 2 "--send without a socket" -- export 00:10.0 --bar 2 --send
expect 2 "--send and -- CMD" -- export 00:10.0 --bar 2 --send /s -- true
has err "choose one"
expect 2 "-- without a command" -- export 00:10.0 --bar 2 --
has err "no command after '--'"
expect 2 "-- CMD on list" -- list -- true
has err "list: option '-- CMD' is not valid for this command"
expect 2 "--send on mr-check" -- mr-check 00:10.0 --bar 2 --send /s
has err "mr-check: option --send is not valid for this command"
T=5a3c9c1e-0d4b-4c2f-9e7a-8b6d2f1a0c3e
expect 2 "--vf-token too short" -- export 00:10.0 --bar 2 --vf-token 1234
has err "p2pmr: --vf-token: '1234' is not a UUID (8-4-4-4-12 hexadecimal digits)"
expect 2 "--vf-token not hexadecimal" -- mr-check 00:10.0 --bar 2 --vf-token "${T%?}g"
expect 2 "--vf-token dashes misplaced" -- doctor 00:10.0 --vf-token "5a3c9c1e0-d4b-4c2f-9e7a-8b6d2f1a0c3e"
expect 2 "--vf-token without a value" -- export 00:10.0 --bar 2 --vf-token
expect 2 "--vf-token on list" -- list --vf-token $T
has err "list: option --vf-token is not valid for this command"
expect 2 "--vf-token on status" -- status -T $T
has err "status: option --vf-token is not valid for this command"
# Usage errors under --json print the failure object too.
expect 2 "--json unknown option" -- --json list --frob
json list
has out '"ok":false,"error":{"errno":22,"exit":2,"message":"invalid option or missing argument: --frob"}'
expect 2 "--json, missing argument" -- export 00:10.0 --json --bar
json export
has out '"message":"invalid option or missing argument: -b"'
expect 2 "--json before the command is known" -- --json -b 9 list
json list
expect 2 "--json no command" -- --json
json none
has out '"command":null'

expect 0 "list" -- list
has out "0000:00:10.0 vfio-pci-p2p 1af4:1110 group 3"
has out "  BAR0 mem 0xfea00000 4 KiB"
has out "  BAR2 mem prefetchable 0x800000000 64 MiB"
has out "0000:00:11.0 vfio-pci 1af4:1110 group 4 (vfio-noiommu)"
has out "  BAR0 io 0xc000 32 bytes"
if grep -q e1000e "$tmp/out"; then bad "list shows e1000e"; else ok "list hides e1000e"; fi
expect 0 "list --all" -- list --all
has out "0000:00:02.0 e1000e"
expect 0 "list --all --json, a driver name that is not UTF-8" -- list --all --json
json list
has out "\"driver\":\"bad$FFFD\\u0001\""
expect 0 "list --json" -- --json list
json list
has out '{"index":2,"type":"mem","prefetchable":true,"start":34359738368,"size":67108864}'
has out '"iommu_group":{"id":4,"noiommu":true}'
expect 0 "list --all --json" -- list --all --json
json list
has out '"address":"0000:00:02.0","driver":"e1000e"'

# Refused from sysfs alone, before /dev/vfio.
expect 5 "export of a device bound to e1000e" -- export 0000:00:02.0 --bar 0
has err "p2pmr: 0000:00:02.0 is bound to e1000e, not to a VFIO driver"
expect 5 "export of a missing device" -- export 00:1f.0 --bar 0
has err "p2pmr: no PCI device 0000:00:1f.0"
expect 3 "export in a vfio-noiommu group" -- export 00:11.0 --bar 0
has err "vfio-noiommu group"
expect 3 "mr-check --json in a vfio-noiommu group" -- --json mr-check 00:11.0 --bar 0
json mr-check
has out '"command":"mr-check","version":1,"ok":false,"error":{"errno":95,"exit":3,'
expect 5 "export --json of a missing device" -- export 00:1f.0 --bar 0 --json
json export
expect 5 "export -- CMD of a missing device" -- export 00:1f.0 --bar 0 -- touch "$tmp/ran"
if [ -e "$tmp/ran" ]; then bad "CMD ran without a dma-buf"; else ok "CMD not run without a dma-buf"; fi
expect 2 "export of a bad address" -- export 00:1f --bar 0
has err "not a PCI address"

# status against a fake debugfs.
d=$tmp/debug/vfio-pci-p2p
mkdir -p $d/0000:00:10.0 $d/0000:00:12.0
cat > $d/0000:00:10.0/dmabufs <<'DBG'
dmabuf inode 1234 device 0000:00:10.0 bar 2 size 8192 revoked 0 closed 0 mappings 1 vmap 0
  range 0 offset 0x0 length 0x1000
  range 1 offset 0x100000 length 0x1000
  attachment 0000:00:11.0 route bridge maps 1 revokes 0
DBG
: > $d/0000:00:12.0/dmabufs
export P2PMR_DEBUGFS=$tmp/debug
expect 0 "status" -- status
has out "0000:00:10.0:"
has out "  dmabuf inode 1234 device 0000:00:10.0 bar 2 size 8192"
has out "0000:00:12.0:"
has out "  no dma-bufs"
expect 0 "status --json" -- status --json
json status
has out '"dmabufs":[{"inode":1234,"device":"0000:00:10.0","bar":2,"size":8192,"revoked":0,"closed":0,"mappings":1,"vmap":0,"ranges":[{"index":0,"offset":0,"length":4096},{"index":1,"offset":1048576,"length":4096}],"attachments":[{"importer":"0000:00:11.0","route":"bridge","maps":1,"revokes":0}]}]'
has out '{"address":"0000:00:12.0","readable":true,"dmabufs":[]}'
# Bytes that are not UTF-8 (here 0xff, 0x80) and lines of another shape.
printf 'dmabuf inode 7 device \377x bar 2 size 4096\n  range 0 offset 0x0 length 0x1000\n  vmap \200 "q"\n' \
	> $d/0000:00:12.0/dmabufs
expect 0 "status --json, bytes that are not UTF-8" -- --json status
json status
has out "\"device\":\"${FFFD}x\""
has out "\"unparsed\":[\"vmap $FFFD \\\"q\\\"\"]"
export P2PMR_DEBUGFS=$tmp/nonexistent
expect 5 "status without vfio-pci-p2p" -- status
has err "vfio-pci-p2p is not loaded"
expect 5 "status --json without vfio-pci-p2p" -- status --json
json status

# doctor on a fake PCIe switch (tests/unit/fake_pci.py): exporter 03:00.0
# and importer 04:00.0 below one switch, importer 03:00.1 the exporter's
# function 1, importer 05:00.0 on another root port, importer 41:00.0 below
# a second host bridge, host bridge 8086:29c0 (not on the list), an Intel
# CPU.
expect 2 "doctor without a device" -- doctor
expect 2 "doctor --ranges" -- doctor 00:10.0 --ranges 0:4K
has err "doctor: option --ranges is not valid for this command"
expect 2 "doctor --ibdev and --importer" -- doctor 00:10.0 --ibdev rxe0 --importer 00:11.0
expect 2 "doctor --importer bad" -- doctor 00:10.0 --importer 00:1f
expect 2 "--importer on export" -- export 00:10.0 --bar 2 --importer 00:11.0
python3 "$(dirname "$0")/fake_pci.py" $tmp/sys2
mkdir -p $tmp/proc
intel() { printf 'vendor_id\t: GenuineIntel\ncpu family\t: 6\n\n' > $tmp/proc/cpuinfo; }
intel
echo "console=ttyS0" > $tmp/proc/cmdline
echo "# CONFIG_PCI_P2PDMA is not set" > $tmp/kconfig
export P2PMR_SYSFS=$tmp/sys2 P2PMR_PROCFS=$tmp/proc P2PMR_KCONFIG=$tmp/kconfig
acs() { # BDF CONTROL: the ACS control register of a port
	python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(0x106); f.write(int(sys.argv[2], 0).to_bytes(2, "little"))' \
		$tmp/sys2/bus/pci/devices/$1/config $2
}
expect 5 "doctor of a missing device" -- doctor 00:1f.0
expect 0 "doctor, switch route" -- doctor 03:00.0 --importer 04:00.0
has out "bus-address: common PCIe switch 0000:01:00.0, no ACS redirect"
has out "BAR2: 64 MiB, prefetchable, 64-bit"
has out "CONFIG_PCI_P2PDMA is off ($tmp/kconfig)"
has out "lowest common bridge 0000:01:00.0 (a PCIe switch's upstream port)"
has out "1 problem found"
# A common bridge without ACS, a redirecting port above it: the walk stops
# at the common bridge (it once went on past one without the capability).
acscap() { # BDF on|off: the ACS capability of a port, there or not
	python3 -c 'import sys, struct; f = open(sys.argv[1], "r+b"); f.seek(0x100); f.write(struct.pack("<I", 0x0d | 1 << 16 | 0x140 << 20 if sys.argv[2] == "on" else 0))' \
		$tmp/sys2/bus/pci/devices/$1/config $2
}
acscap 0000:01:00.0 off
acs 0000:00:1c.0 0x001d
expect 0 "doctor, switch route, no ACS at the switch, redirect above it" -- doctor 03:00.0 --importer 04:00.0
has out "bus-address: common PCIe switch 0000:01:00.0, no ACS redirect"
has out "0000:01:00.0: no ACS capability"
acscap 0000:01:00.0 on
acs 0000:00:1c.0 0
expect 0 "doctor --json, switch route" -- doctor 03:00.0 --importer 04:00.0 --json
json doctor
has out '{"check":"route","result":"yes","found":"bus-address: common PCIe switch 0000:01:00.0'
has out '{"check":"dma-buf export","result":"no","found":"cannot open the device:'
acs 0000:02:00.0 0x0004
expect 0 "doctor --json, ACS redirects, Intel host bridge" -- --json doctor 03:00.0 --importer 04:00.0
json doctor
has out '"found":"0000:02:00.0: ACS redirects peer-to-peer requests upstream (control 0x0004): no direct switch route past it"'
has out '{"check":"route","result":"no","found":"refused: host bridge 0000:00:00.0 (8086:29c0) and the CPU (not AMD family 0x6) are not known to forward peer-to-peer","fix":"put both devices below one PCIe switch'
# Two functions below one downstream port: the port is the common bridge
# (the kernel's P2PDMA routes by bus address there, not only at a switch's
# upstream port), and its own ACS counts.
acs 0000:02:00.0 0
expect 0 "doctor --json, exporter's function 1" -- --json doctor 03:00.0 --importer 03:00.1
json doctor
has out '"found":"0000:03:00.0 and 0000:03:00.1: lowest common bridge 0000:02:00.0 (not a switch)"'
has out '{"check":"route","result":"yes","found":"bus-address: common upstream bridge 0000:02:00.0, no ACS redirect"}'
acs 0000:02:00.0 0x0004
expect 0 "doctor --json, exporter's function 1, ACS redirects at the port" -- --json doctor 03:00.0 --importer 03:00.1
json doctor
has out '{"check":"route","result":"no","found":"refused: host bridge 0000:00:00.0 (8086:29c0)'
# Below two host bridges: refused with an Intel CPU, the host-bridge route
# with AMD Zen (any two host bridges forward there, as the kernel has it).
expect 0 "doctor --json, two host bridges, Intel" -- --json doctor 03:00.0 --importer 41:00.0
json doctor
has out '"found":"0000:03:00.0 and 0000:41:00.0: different host bridges pci0000:00"'
has out '{"check":"route","result":"no","found":"refused: host bridges 0000:00:00.0 (8086:29c0) and 0000:40:00.0 (1af4:1110) and the CPU (not AMD family 0x6) are not known to forward peer-to-peer between each other"'
# The allow-list (the kernel's as of 7.3): the Xeon E5/E7 v3 entries
# forward only between their own ports, the others between any two.
ids() { # BDF VENDOR DEVICE: the function's PCI ID in sysfs
	echo "$2" > $tmp/sys2/bus/pci/devices/$1/vendor
	echo "$3" > $tmp/sys2/bus/pci/devices/$1/device
}
ids 0000:00:00.0 0x8086 0x2f00
expect 0 "doctor --json, root ports, host bridge 8086:2f00" -- --json doctor 03:00.0 --importer 05:00.0
json doctor
has out '{"check":"route","result":"yes","found":"host-bridge: host bridge 0000:00:00.0 8086:2f00 is on the list; the importer'"'"'s DMA API maps the BAR"}'
ids 0000:40:00.0 0x8086 0x2f00
expect 0 "doctor --json, two host bridges 8086:2f00" -- --json doctor 03:00.0 --importer 41:00.0
json doctor
has out '{"check":"route","result":"no","found":"refused: host bridges 0000:00:00.0 (8086:2f00) and 0000:40:00.0 (8086:2f00)'
ids 0000:00:00.0 0x8086 0x2030
ids 0000:40:00.0 0x8086 0x2030
expect 0 "doctor --json, two host bridges 8086:2030" -- --json doctor 03:00.0 --importer 41:00.0
json doctor
has out '{"check":"route","result":"yes","found":"host-bridge: host bridges 0000:00:00.0 8086:2030 and 0000:40:00.0 8086:2030 are on the list; the importer'"'"'s DMA API maps the BAR (the devices are below different host bridges)"}'
ids 0000:40:00.0 0x1af4 0x1110
expect 0 "doctor --json, two host bridges, one not listed" -- --json doctor 03:00.0 --importer 41:00.0
json doctor
has out '{"check":"route","result":"no","found":"refused: host bridges 0000:00:00.0 (8086:2030) and 0000:40:00.0 (1af4:1110)'
ids 0000:00:00.0 0x8086 0x29c0
# ACS at an endpoint counts too: the exporter's own, with its function 1.
acs 0000:02:00.0 0
acs 0000:03:00.0 0x0004
expect 0 "doctor --json, ACS redirects at the exporter" -- --json doctor 03:00.0 --importer 03:00.1
json doctor
has out '"found":"0000:03:00.0: ACS redirects peer-to-peer requests upstream (control 0x0004): no direct switch route past it"'
has out '{"check":"route","result":"no","found":"refused: host bridge 0000:00:00.0 (8086:29c0)'
acs 0000:03:00.0 0
acs 0000:02:00.0 0x0004
printf 'vendor_id\t: AuthenticAMD\ncpu family\t: 25\n\n' > $tmp/proc/cpuinfo
expect 0 "doctor --json, ACS redirects, AMD Zen" -- --json doctor 03:00.0 --importer 04:00.0
json doctor
has out '{"check":"route","result":"yes","found":"host-bridge: an AMD Zen or later CPU (family 0x19); the importer'"'"'s DMA API maps the BAR (no direct route: ACS redirects)"}'
expect 0 "doctor --json, two host bridges, AMD Zen" -- --json doctor 03:00.0 --importer 41:00.0
json doctor
has out '{"check":"route","result":"yes","found":"host-bridge: an AMD Zen or later CPU (family 0x19); the importer'"'"'s DMA API maps the BAR (the devices are below different host bridges)"}'
acs 0000:02:00.0 0
expect 0 "doctor --json, root ports, translated importer, AMD" -- --json doctor 03:00.0 --importer 05:00.0
json doctor
has out '"found":"0000:05:00.0: group 9, translated (type DMA-FQ)"'
has out '"found":"0000:03:00.0 and 0000:05:00.0: only the host bridge pci0000:00"'
has out '{"check":"route","result":"yes","found":"host-bridge: an AMD Zen'
echo "console=ttyS0 swiotlb=force" > $tmp/proc/cmdline
expect 0 "doctor --json, swiotlb=force" -- --json doctor 03:00.0 --importer 05:00.0
json doctor
has out '{"check":"route","result":"no","found":"refused: the importer'"'"'s DMA is forced through swiotlb"'
echo "console=ttyS0" > $tmp/proc/cmdline
intel
expect 0 "doctor --json, root ports, Intel" -- --json doctor 03:00.0 --importer 05:00.0
json doctor
has out '{"check":"route","result":"no","found":"refused: host bridge 0000:00:00.0 (8086:29c0)'
echo "CONFIG_PCI_P2PDMA=y" > $tmp/kconfig
expect 0 "doctor --json, no such RDMA device" -- --json doctor 03:00.0 --ibdev nosuch0
json doctor
has out '{"check":"rdma device","result":"no","found":"no RDMA device nosuch0"'
has out '"found":"CONFIG_PCI_P2PDMA=y ('
rm $tmp/kconfig
expect 0 "doctor, no kernel configuration" -- doctor 03:00.0
has out "unknown kernel p2pdma      no kernel configuration to read (tried $tmp/kconfig)"
expect 0 "doctor --json of a device not bound to VFIO" -- --json doctor 04:00.0
json doctor
has out '{"check":"driver","result":"no","found":"0000:04:00.0 is bound to edu, not a VFIO driver"'
has out '{"check":"bar","result":"no","found":"0000:04:00.0 has no memory BAR"'

echo "1..$n"
echo "cli: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
