#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of benchmark 1 (perf/bench/1-nic-bw.sh): ib_write_bw and
# ib_read_bw between rxe1 (server) and rxe0 (client) over the veth pair,
# per message size, once with the server's buffer in host memory and once in
# the ivshmem BAR (--use_vfio), in REPS pairs: each pair is a host run and a
# BAR run back to back, host first in odd pairs and BAR first in even ones,
# so that drift and the order hit both alike and the host side can compute
# one BAR/host ratio per pair.  The client is always in host memory.  Raw
# perftest output goes to /vmout/raw/, one line per run to
# /vmout/results.txt:
#   TEST SIZE MEMORY ITERATIONS BW_AVERAGE_MiB/s PAIR
# SIZES, BYTES (bytes moved per run, bounding the iterations) and REPS (the
# number of pairs) may come from the environment.
#
# CPU placement: both perftest processes run on CPU 0 and the kernel's
# unbound workqueues, where rxe does its packet work, on the last CPU, so
# the "NIC" has a CPU of its own as a hardware NIC would.  Left to the
# scheduler, rxe's work shares CPU 0 with the busy-polling client in some
# runs and not in others, and identical runs differ by 50-70% (two modes,
# about 21 and 34 MiB/s at 1 MiB on 7.3); placed like this, five runs of
# one size were within 5% of each other in a trial, though in a whole
# benchmark run some runs still fall to the low mode (docs/perf.md).
# shellcheck source=tests/lib/guest.sh
. tests/lib/guest.sh

PT=/p2pmr/build/perf
SIZES=${SIZES:-64 256 1024 4096 16384 65536 262144 1048576 4194304}
BYTES=${BYTES:-33554432}
REPS=${REPS:-5}
load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || die "benchmark 1 needs two CPUs (one for rxe's work)"
wqmask=/sys/devices/virtual/workqueue/cpumask
printf '%x\n' $((1 << (ncpu - 1))) > $wqmask || die "cannot set $wqmask"
echo "unbound workqueues on CPU $((ncpu - 1)) (mask $(cat $wqmask)), perftest on CPU 0"
mkdir -p /vmout/raw
: > /vmout/results.txt

for t in ib_write_bw ib_read_bw; do
	for sz in $SIZES; do
		n=$((BYTES / sz))
		[ $n -le 5000 ] || n=5000
		[ $n -ge 20 ] || n=20
		for rep in $(seq "$REPS"); do
			order="host bar"
			[ $((rep % 2)) = 1 ] || order="bar host"
			for mem in $order; do
				opt=""
				[ "$mem" = host ] || opt="--use_vfio=$IVSHMEM"
				log=/vmout/raw/$t-$sz-$mem-$rep
				# perftest reports 0.00 when it cannot calibrate its
				# cycle counter (TCG on a busy host): try again.
				for _ in 1 2 3; do
					taskset -c 0 $PT/$t -d rxe1 -s "$sz" -n $n -F ${opt:+"$opt"} > "$log.server" 2>&1 &
					sleep 1
					taskset -c 0 $PT/$t -d rxe0 -s "$sz" -n $n -F "$RXE1_IP" > "$log.client" 2>&1 ||
						{ cat "$log.client" "$log.server"; die "$t -s $sz ($mem) failed"; }
					wait $! || { cat "$log.server"; die "$t server -s $sz ($mem) failed"; }
					bw=$(awk -v sz="$sz" '$1 == sz && NF >= 4 {print $4; exit}' "$log.client")
					[ -n "$bw" ] || { cat "$log.client"; die "$t -s $sz: no result"; }
					awk -v b="$bw" 'BEGIN { exit !(b + 0 > 0) }' && break
					grep 'Correlation coefficient' "$log.client" || break
				done
				echo "$t $sz $mem $n $bw $rep" | tee -a /vmout/results.txt
			done
		done
	done
done
