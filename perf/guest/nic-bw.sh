#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of benchmark 1 (perf/bench/1-nic-bw.sh): ib_write_bw and
# ib_read_bw between rxe1 (server) and rxe0 (client) over the veth pair,
# per message size, once with the server's buffer in host memory and once in
# the ivshmem BAR (--use_vfio), REPS times each, alternating so that drift
# hits both alike.  The client is always in host memory.  Raw perftest
# output goes to /vmout/raw/, one line per run to /vmout/results.txt:
#   TEST SIZE MEMORY ITERATIONS BW_AVERAGE_MiB/s REP
# SIZES, BYTES (bytes moved per run, bounding the iterations) and REPS may
# come from the environment.
. tests/lib/guest.sh

PT=/p2pmr/build/perf
SIZES=${SIZES:-64 256 1024 4096 16384 65536 262144 1048576 4194304}
BYTES=${BYTES:-33554432}
REPS=${REPS:-3}
load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
mkdir -p /vmout/raw
: > /vmout/results.txt

for t in ib_write_bw ib_read_bw; do
	for sz in $SIZES; do
		n=$((BYTES / sz))
		[ $n -le 5000 ] || n=5000
		[ $n -ge 20 ] || n=20
		for rep in $(seq "$REPS"); do
			for mem in host bar; do
				opt=""
				[ $mem = host ] || opt="--use_vfio=$IVSHMEM"
				log=/vmout/raw/$t-$sz-$mem-$rep
				# perftest reports 0.00 when it cannot calibrate its
				# cycle counter (TCG on a busy host): try again.
				for try in 1 2 3; do
					$PT/$t -d rxe1 -s $sz -n $n -F $opt > $log.server 2>&1 &
					sleep 1
					$PT/$t -d rxe0 -s $sz -n $n -F $RXE1_IP > $log.client 2>&1 ||
						{ cat $log.client $log.server; die "$t -s $sz ($mem) failed"; }
					wait $! || { cat $log.server; die "$t server -s $sz ($mem) failed"; }
					bw=$(awk -v sz=$sz '$1 == sz && NF >= 4 {print $4; exit}' $log.client)
					[ -n "$bw" ] || { cat $log.client; die "$t -s $sz: no result"; }
					awk -v b="$bw" 'BEGIN { exit !(b + 0 > 0) }' && break
					grep 'Correlation coefficient' $log.client || break
				done
				echo "$t $sz $mem $n $bw $rep" | tee -a /vmout/results.txt
			done
		done
	done
done
