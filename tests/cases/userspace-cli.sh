#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The p2pmr command on a real VFIO device and Soft-RoCE: list, export,
# mr-check (dma-buf MR + RDMA WRITE/READ self-test), status, --json, and the
# documented exit codes for bad input.  On 7.3 also against upstream
# vfio-pci: export works, mr-check on rxe says the dma-buf has no CPU access.
# timeout: 480
. tests/lib/guest.sh

P=/p2pmr/build/user/bin/p2pmr
export LD_LIBRARY_PATH=/p2pmr/build/user
load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair

expect() { # rc command...
	local want=$1 rc
	shift
	"$@" > /tmp/out 2>&1
	rc=$?
	cat /tmp/out
	[ "$rc" = "$want" ] || die "'$*' exited $rc, want $want"
}
# jexpect RC COMMAND ARGS...: p2pmr --json COMMAND ARGS exits RC and prints
# one object in COMMAND's schema (tests/unit/json_check.py).
jexpect() {
	local want=$1 rc
	shift
	$P --json "$@" > /tmp/out.json 2> /tmp/err
	rc=$?
	cat /tmp/out.json /tmp/err
	[ "$rc" = "$want" ] || die "'p2pmr --json $*' exited $rc, want $want"
	python3 tests/unit/json_check.py /tmp/out.json "$1" ||
		die "'p2pmr --json $*': not in the schema"
}

expect 0 $P list
grep -q "$IVSHMEM vfio-pci-p2p" /tmp/out || die "list does not show the device"
jexpect 0 list
grep -q "\"address\":\"$IVSHMEM\",\"driver\":\"vfio-pci-p2p\"" /tmp/out.json ||
	die "list --json does not show the device"
expect 0 $P export "$IVSHMEM" --bar 2 --ranges 0:64K,1M:128K
grep -q "size 196608" /tmp/out || die "export size"
jexpect 0 export "$IVSHMEM" --bar 2 --ranges 0:64K,1M:128K
grep -q '"size":196608,"ranges":\[{"offset":0,"length":65536},{"offset":1048576,"length":131072}\]' \
	/tmp/out.json || die "export --json"
expect 0 $P mr-check "$IVSHMEM" --bar 2 --ranges 0x200000:64K,0x400000:64K --ibdev rxe0
jexpect 0 mr-check "$IVSHMEM" --bar 2 --ranges 0x200000:64K --ibdev rxe0
grep -q '"ok":true' /tmp/out.json || die "mr-check --json"
expect 0 $P status
jexpect 0 status

# export -- CMD: CMD inherits the dma-buf; p2pmr exits with CMD's status.
expect 0 $P export "$IVSHMEM" --bar 2 --ranges 0:64K,1M:64K -- python3 -c \
	'import os; print("child size", os.lseek(int(os.environ["P2PMR_DMABUF_FD"]), 0, 2), os.environ["P2PMR_DEVICE"])'
grep -q "child size 131072 $IVSHMEM" /tmp/out || die "-- CMD did not get the dma-buf"
expect 7 $P export "$IVSHMEM" --bar 2 --ranges 0:64K -- sh -c 'exit 7'
jexpect 0 export "$IVSHMEM" --bar 2 --ranges 0:64K -- sh -c 'echo to-stderr'
grep -q '"run":{"argv":\["sh","-c","echo to-stderr"\],"pid":[0-9]*,"exit":0}' /tmp/out.json ||
	die "export -- CMD --json"
grep -q to-stderr /tmp/err || die "with --json, CMD's stdout goes to stderr"
expect 127 $P export "$IVSHMEM" --bar 2 --ranges 0:64K -- /nonexistent

# export --send: a receiver gets the fd and the description, and the device
# stays open (the dma-buf usable) until it closes the socket.
rm -f /tmp/p2pmr.sock
python3 - /tmp/p2pmr.sock > /tmp/recv.out 2>&1 <<'PY' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 65536, 1)
d = json.loads(msg)
fd = fds[0]
print("received", d["dmabuf"]["size"], d["dmabuf"]["nr_ranges"],
      os.lseek(fd, 0, 2))
c.close()
PY
recv=$!
for _ in $(seq 200); do [ -S /tmp/p2pmr.sock ] && break; sleep 0.05; done
jexpect 0 export "$IVSHMEM" --bar 2 --ranges 0:64K,1M:64K --send /tmp/p2pmr.sock
wait $recv || { cat /tmp/recv.out; die "the receiver failed"; }
cat /tmp/recv.out
grep -q "received 131072 2 131072" /tmp/recv.out || die "--send: nothing received"
grep -q '"sent":{"socket":"/tmp/p2pmr.sock"}' /tmp/out.json || die "--send --json"
expect 1 $P export "$IVSHMEM" --bar 2 --ranges 0:64K --send /tmp/nobody.sock
grep -q "cannot connect to /tmp/nobody.sock" /tmp/out || die "--send to nobody"
jexpect 2 export "$IVSHMEM" --bar 2 --ranges 0:8K,4K:4K
jexpect 5 export "$IVSHMEM" --bar 1 --ranges 0:4K
expect 2 $P export 0000:00:99.0 --bar 2 --ranges 0:4K
expect 2 $P export "$IVSHMEM" --bar 2 --ranges 0:4K,2K:4K
expect 2 $P export "$IVSHMEM" --bar 2 --ranges 0:8K,4K:4K
expect 2 $P export "$IVSHMEM" --bar 2 --ranges 0:4K:9
expect 1 $P export "$IVSHMEM" --bar 0 --ranges 0:4K
expect 5 $P export "$IVSHMEM" --bar 1 --ranges 0:4K

# doctor with an RDMA device: rxe imports by CPU access, no route needed,
# the dma-buf MR registers; nothing to fix on this bed.
expect 0 $P doctor "$IVSHMEM" --ibdev rxe0
grep -q "0 problems found" /tmp/out || die "doctor found problems"
jexpect 0 doctor "$IVSHMEM" --ibdev rxe0
grep -q '"check":"dma-buf mr","result":"yes"' /tmp/out.json || die "doctor: no dma-buf MR"
grep -q '"check":"dma-buf export","result":"yes"' /tmp/out.json || die "doctor: no export"
grep -q '"problems":0' /tmp/out.json || die "doctor --json found problems"

if [ "$KSERIES" = 7.3 ]; then
	bind_driver "$IVSHMEM" vfio-pci
	expect 0 $P export "$IVSHMEM" --bar 2 --ranges 0:64K
	expect 3 $P mr-check "$IVSHMEM" --bar 2 --ranges 0:64K --ibdev rxe0
	grep -qi "dma-buf MR support\|EOPNOTSUPP\|not supported" /tmp/out || die "no reason given"
fi
