#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 1, NIC-to-device throughput: ib_write_bw and ib_read_bw on the
# rxe pair, server buffer in the ivshmem BAR (--use_vfio) against host
# memory, per message size, in the same VM run (perf/guest/nic-bw.sh),
# BENCH_REPS runs of each (default 5).
# Reports BAR/host per size, of the medians and of the best runs, and
# whether BAR/host >= 0.95 for messages of 64 KiB and more; asserts nothing
# about timings.
#   perf/bench/1-nic-bw.sh SERIES...     (BENCH_OUT: output directory)
# BENCH_SIZES, BENCH_BYTES and BENCH_REPS override the guest's SIZES, BYTES
# and REPS.  BENCH_REPORT_ONLY=1 redoes the tables and plots from the
# results of the last run in BENCH_OUT without booting anything.
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/1-nic-bw}
mkdir -p "$out"
for s in "${@:-7.3}"; do
	vm=$out/vm-$s
	if [ "${BENCH_REPORT_ONLY:-0}" != 1 ]; then
		bench_vm 1-nic-bw "$s" -- env SIZES="${BENCH_SIZES:-}" \
			BYTES="${BENCH_BYTES:-}" REPS="${BENCH_REPS:-}" \
			bash perf/guest/nic-bw.sh
		cp "$vm/out/results.txt" "$out/results-$s.txt"
		rm -rf "$out/raw-$s" && cp -r "$vm/out/raw" "$out/raw-$s"
	fi

	# Median per test, size and memory: TEST SIZE MEMORY MiB/s RUNS MIN MAX,
	# of the runs that gave a figure (perftest reports 0.00 when it could
	# not calibrate its clock three times over: such runs are left out).
	nofig=$(awk '$5 + 0 <= 0' "$out/results-$s.txt" | wc -l)
	awk '$5 + 0 > 0' "$out/results-$s.txt" | sort -k1,1 -k2,2n -k3,3 -k5,5g | awk '
	function flush() {
		if (k) print key, (k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2), k, v[1], v[k]
		k = 0
	}
	$1 " " $2 " " $3 != key { flush(); key = $1 " " $2 " " $3 }
	{ v[++k] = $5 }
	END { flush() }' > "$out/median-$s.txt"

	# Table: one row per size, MiB/s and BAR/host for WRITE and READ, of
	# the medians and of the best runs.  Interference from the host (TCG's
	# vCPU threads share two cores with QEMU and everything else) can only
	# slow a run down, so the best of N runs is the least disturbed figure
	# of each side; the medians show how much the disturbance moves.
	awk -v s="$s" -v nofig="$nofig" '
	{ bw[$1, $2, $3] = $4; best[$1, $2, $3] = $7; if ($5 > runs) runs = $5
	  if (!($2 in seen)) { seen[$2] = 1; sizes[++n] = $2 } }
	# Run-to-run spread (max/min) of the host-memory runs: the noise floor.
	$3 == "host" && $2 >= 65536 && $6 > 0 && $7 / $6 > spread { spread = $7 / $6 }
	function h(b) { return b >= 1048576 ? b / 1048576 " MiB" : b >= 1024 ? b / 1024 " KiB" : b " B" }
	# BAR/host, or -1 when a side has no figure.
	function ratio(t, z, a) { return a[t, z, "host"] > 0 && a[t, z, "bar"] > 0 ? a[t, z, "bar"] / a[t, z, "host"] : -1 }
	function fr(r) { return r < 0 ? "n/a" : sprintf("%.3f", r) }
	function verdict(m) { return missing ? "undecided (a size has no figure)" : !ln ? "undecided (no size >= 64 KiB)" : m >= 0.95 ? "met" : "NOT met" }
	END {
		printf "Linux %s: average bandwidth in MiB/s, median of %d runs (best run in brackets), server buffer in host memory or the BAR\n\n", s, runs
		print "| size | WRITE host | WRITE BAR | BAR/host median (best) | READ host | READ BAR | BAR/host median (best) |"
		print "|---:|---:|---:|---:|---:|---:|---:|"
		min = mbest = 99
		for (i = 1; i <= n; i++) {
			z = sizes[i]
			printf "| %s", h(z)
			for (t = 0; t < 2; t++) {
				k = t ? "ib_read_bw" : "ib_write_bw"
				r = ratio(k, z, bw); rb = ratio(k, z, best)
				printf " | %.2f (%.2f) | %.2f (%.2f) | %s (%s)", bw[k, z, "host"], best[k, z, "host"],
					bw[k, z, "bar"], best[k, z, "bar"], fr(r), fr(rb)
				if (z >= 65536 && r < 0)
					missing = 1
				else if (z >= 65536) {
					if (r < min) min = r
					if (rb < mbest) mbest = rb
					lsum += log(r); ln++
				}
			}
			print " |"
		}
		printf "\nTarget BAR/host >= 0.95 for messages >= 64 KiB, on the best of %d runs: %s (lowest ratio %s).\n",
			runs, verdict(mbest), ln ? sprintf("%.3f", mbest) : "n/a"
		printf "On the medians: %s (lowest ratio %s); geometric mean of the median ratios, WRITE and READ: %s.\n",
			verdict(min), ln ? sprintf("%.3f", min) : "n/a", ln ? sprintf("%.3f", exp(lsum / ln)) : "n/a"
		if (nofig)
			printf "%d runs gave no figure (perftest could not calibrate its clock) and are left out.\n", nofig
		printf "For scale: at those sizes the %d host-memory runs of one size differ by up to %.0f%% (max/min).\n\n",
			runs, (spread - 1) * 100
	}' "$out/median-$s.txt" | tee "$out/table-$s.md"

	# Plot (gnuplot from the root, which sees BENCH_OUT as /bench).
	for t in ib_write_bw ib_read_bw; do
		for m in host bar; do
			awk -v t=$t -v m=$m '$1 == t && $3 == m {print $2, $4, $6, $7}' \
				"$out/median-$s.txt" > "$out/plot-$s-$t-$m.dat"
		done
	done
	cat > "$out/plot-$s.gp" <<GP
set terminal pngcairo size 720,440 font ",10"
set output "/bench/nic-bw-$s.png"
set title "p2pmr benchmark 1: rxe over veth, QEMU TCG, Linux $s"
set logscale x 2
set logscale y 10
set format x "%.0b%B"
set xlabel "message size (bytes)"
set ylabel "average bandwidth, MiB/s (median, bars: min-max)"
set key bottom right
set grid
plot "/bench/plot-$s-ib_write_bw-host.dat" w yerrorlines lw 2 t "WRITE, host memory", \\
     "/bench/plot-$s-ib_write_bw-bar.dat" w yerrorlines lw 2 t "WRITE, VFIO BAR (dma-buf MR)", \\
     "/bench/plot-$s-ib_read_bw-host.dat" w yerrorlines lw 2 t "READ, host memory", \\
     "/bench/plot-$s-ib_read_bw-bar.dat" w yerrorlines lw 2 t "READ, VFIO BAR (dma-buf MR)"
GP
	P2PMR_BINDS="$(cd "$out" && pwd):/bench" scripts/in-root gnuplot "/bench/plot-$s.gp"
	echo "plot: $out/nic-bw-$s.png"
	echo
done
