#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 1, NIC-to-device throughput: ib_write_bw and ib_read_bw on the
# rxe pair, server buffer in the ivshmem BAR (--use_vfio) against host
# memory, per message size (perf/guest/nic-bw.sh), in pairs: a host run and
# a BAR run back to back, the order alternating from pair to pair.
# Reports, per size, the median of the pairs' BAR/host ratios, in two modes:
#   wall    multi-threaded TCG, perftest timing real time: BENCH_REPS pairs
#           (default 5); moved by whatever else the host runs
#   icount  QEMU's -icount (perf/lib.sh: the guest's clocks count
#           instructions, single-threaded TCG): BENCH_ICOUNT_REPS pairs
#           (default 3), BENCH_ICOUNT_RUNS boots per kernel (default 1; 2
#           shows how near two runs come)
# and whether BAR/host >= 0.95 for messages of 64 KiB and more; asserts
# nothing about timings.
#   perf/bench/1-nic-bw.sh SERIES...     (BENCH_OUT: output directory)
# BENCH_MODES (default "wall icount") picks the modes; BENCH_SIZES and
# BENCH_BYTES override the guest's SIZES and BYTES.  BENCH_REPORT_ONLY=1
# redoes the tables and plots from the results of the last run in BENCH_OUT
# without booting anything.
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/1-nic-bw}
modes=${BENCH_MODES:-wall icount}
icruns=${BENCH_ICOUNT_RUNS:-1}
mkdir -p "$out"

# run_mode SERIES TAG REPS [VM OPTION...]: one VM run of the guest half, its
# results in $out/results-SERIES$TAG.txt and raw output in $out/raw-SERIES$TAG.
run_mode() {
	local s=$1 vmtag=$2 reps=$3

	shift 3
	bench_vm 1-nic-bw "$s" "$@" -- env SIZES="${BENCH_SIZES:-}" \
		BYTES="${BENCH_BYTES:-}" REPS="$reps" bash perf/guest/nic-bw.sh
	cp "$out/vm-$s$vmtag/out/results.txt" "$out/results-$s$vmtag.txt"
	rm -rf "$out/raw-$s$vmtag" && cp -r "$out/vm-$s$vmtag/out/raw" "$out/raw-$s$vmtag"
}

# pairs RESULTS: one line per pair with a figure on both sides:
#   TEST SIZE PAIR HOST_MiB/s BAR_MiB/s BAR/HOST
# (perftest reports 0.00 when it could not calibrate its clock three times
# over: such a pair has no ratio and is left out).
pairs() {
	awk '{ bw[$1 " " $2 " " $6, $3] = $5; k[$1 " " $2 " " $6] = 1 }
	END { for (p in k) if (bw[p, "host"] > 0 && bw[p, "bar"] > 0)
		print p, bw[p, "host"], bw[p, "bar"], bw[p, "bar"] / bw[p, "host"] }' "$1" |
		sort -k1,1 -k2,2n -k3,3n
}

# pairstats: per test and size, from pairs' output:
#   TEST SIZE PAIRS MEDIAN_RATIO MIN_RATIO MAX_RATIO
#   MEDIAN_HOST MIN_HOST MAX_HOST MEDIAN_BAR MIN_BAR MAX_BAR
pairstats() {
	awk 'function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)	# insertion sort: n is small
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function flush(   m, h, b) {
		if (!n) return
		m = med(r, n); rmin = r[1]; rmax = r[n]
		h = med(hb, n); b = med(bb, n)
		print key, n, m, rmin, rmax, h, hb[1], hb[n], b, bb[1], bb[n]
		n = 0
	}
	$1 " " $2 != key { flush(); key = $1 " " $2 }
	{ n++; hb[n] = $4; bb[n] = $5; r[n] = $6 }
	END { flush() }'
}

for s in "${@:-7.3}"; do
	if [ "${BENCH_REPORT_ONLY:-0}" != 1 ]; then
		# Only this run's results go into the report.
		rm -f "$out/results-$s.txt" "$out"/results-"$s"-icount*.txt
		for m in $modes; do
			case $m in
			wall) run_mode "$s" "" "${BENCH_REPS:-5}" ;;
			icount)
				for k in $(seq "$icruns"); do
					run_mode "$s" "-icount$k" "${BENCH_ICOUNT_REPS:-3}" "${ICOUNT_OPTS[@]}"
				done ;;
			*) echo "1-nic-bw: unknown mode '$m' (wall, icount)"; exit 2 ;;
			esac
		done
	fi

	# Per mode and run: the pairs and their statistics.
	tags=() files=()
	for f in "$out/results-$s.txt" "$out"/results-"$s"-icount*.txt; do
		[ -e "$f" ] || continue
		files+=("$f")
		t=${f#"$out/results-$s"}; t=${t%.txt}
		pairs "$f" > "$out/pairs-$s$t.txt"
		pairstats < "$out/pairs-$s$t.txt" > "$out/stats-$s$t.txt"
		tags+=("${t:-wall}")
	done
	[ ${#tags[@]} -gt 0 ] || { echo "1-nic-bw: no results for $s in $out"; exit 1; }

	# The table: one row per size; for WRITE and READ the wall-clock
	# medians (MiB/s), the median of the wall-clock pair ratios with their
	# range, and the median of the icount pair ratios (of each icount run).
	# Input: every stats file, the first field of each line naming it.
	# Per mode and run also one line "TAG pooled N MEDIAN GEOMEAN": all
	# pairs at >= 64 KiB, WRITE and READ, taken together.
	for t in "${tags[@]}"; do
		f=$out/stats-$s${t/#wall/}.txt
		sed "s/^/$t /" "$f"
		awk '$2 >= 65536 { print $6 }' "$out/pairs-$s${t/#wall/}.txt" | sort -g |
			awk -v t="$t" '{ v[NR] = $1; l += log($1) }
			END { if (NR) print t, "pooled", NR, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, exp(l / NR) }'
	done | awk -v s="$s" -v nofig="$(cat "${files[@]}" | awk '$5 + 0 <= 0' | wc -l)" '
	$2 == "pooled" { pn[$1] = $3; pmed[$1] = $4; pgm[$1] = $5; next }
	{ m = $1; z = $3; k = $2
	  if (!(z in seen)) { seen[z] = 1; sizes[++nz] = z }
	  if (m ~ /icount/ && !(m in ic)) { ic[m] = 1; icn[++nic] = m }
	  np[m] = $4 > np[m] ? $4 : np[m]
	  med[m, k, z] = $5; lo[m, k, z] = $6; hi[m, k, z] = $7
	  host[m, k, z] = $8; bar[m, k, z] = $11
	  # Run-to-run spread (max/min) of the host-memory runs: the noise floor.
	  if (z >= 65536 && $9 > 0 && $10 / $9 > spread[m]) spread[m] = $10 / $9 }
	function h(b) { return b >= 1048576 ? b / 1048576 " MiB" : b >= 1024 ? b / 1024 " KiB" : b " B" }
	function f3(x) { return x == "" ? "n/a" : sprintf("%.3f", x) }
	function verdict(m, k, z,   i, lowest, miss) {
		lowest = 99
		for (i = 1; i <= nz; i++) {
			z = sizes[i]
			if (z < 65536) continue
			for (k = 0; k < 2; k++) {
				if ((m SUBSEP t[k] SUBSEP z) in med) { if (med[m, t[k], z] < lowest) lowest = med[m, t[k], z] }
				else miss = 1
			}
		}
		if (miss) return "undecided (a size has no figure)"
		if (lowest == 99) return "undecided (no size >= 64 KiB)"
		return sprintf("%s (lowest %.3f)", lowest >= 0.95 ? "met" : "NOT met", lowest)
	}
	END {
		t[0] = "ib_write_bw"; t[1] = "ib_read_bw"
		sort_ic()
		icl = ""
		for (j = 1; j <= nic; j++) icl = icl (j > 1 ? " / " : "") "run " j
		printf "Linux %s: BAR/host per pair (a host run and a BAR run back to back), median of the pairs", s
		if (np["wall"])
			printf "; wall clock: %d pairs, MiB/s are medians of those runs", np["wall"]
		if (nic)
			printf "; icount (single-threaded TCG, the guest clocks count instructions): %d pairs%s",
				np[icn[1]], (nic > 1 ? " per run, " nic " runs" : "")
		printf "\n\n"
		hdr = ""; sep = ""
		for (k = 0; k < 2; k++) {
			w = k ? "READ" : "WRITE"
			hdr = hdr sprintf(" %s host | %s BAR | %s BAR/host wall (range) |", w, w, w)
			sep = sep "---:|---:|---:|"
			if (nic) { hdr = hdr sprintf(" %s BAR/host icount%s |", w, nic > 1 ? " (" icl ")" : ""); sep = sep "---:|" }
		}
		print "| size |" hdr
		print "|---:|" sep
		for (i = 1; i <= nz; i++) {
			z = sizes[i]
			printf "| %s |", h(z)
			for (k = 0; k < 2; k++) {
				if (("wall" SUBSEP t[k] SUBSEP z) in med)
					printf " %.2f | %.2f | %s (%s-%s) |", host["wall", t[k], z], bar["wall", t[k], z],
						f3(med["wall", t[k], z]), f3(lo["wall", t[k], z]), f3(hi["wall", t[k], z])
				else
					printf " | | n/a |"
				if (nic) {
					c = ""
					for (j = 1; j <= nic; j++)
						c = c (j > 1 ? " / " : "") (((icn[j] SUBSEP t[k] SUBSEP z) in med) ? f3(med[icn[j], t[k], z]) : "n/a")
					printf " %s |", c
				}
			}
			print ""
		}
		print ""
		printf "Target BAR/host >= 0.95 for messages >= 64 KiB (median of the pair ratios):\n\n"
		for (j = 1; j <= nic; j++)
			printf "- icount%s: %s\n", (nic > 1 ? " run " j : ""), verdict(icn[j])
		if (np["wall"]) {
			lw = 99; hw = 0
			for (i = 1; i <= nz; i++) for (k = 0; k < 2; k++) if (sizes[i] >= 65536 && (("wall" SUBSEP t[k] SUBSEP sizes[i]) in lo)) {
				if (lo["wall", t[k], sizes[i]] < lw) lw = lo["wall", t[k], sizes[i]]
				if (hi["wall", t[k], sizes[i]] > hw) hw = hi["wall", t[k], sizes[i]]
			}
			printf "- wall clock: %s; single pair ratios at those sizes range %.3f-%.3f, host-memory runs of one size differ by up to %.0f%% (max/min): under TCG on a shared host this cannot decide the target\n",
				verdict("wall"), lw, hw, (spread["wall"] - 1) * 100
		}
		c = ""
		if (pn["wall"])
			c = sprintf("wall clock %.3f, %.3f (%d pairs)", pmed["wall"], pgm["wall"], pn["wall"])
		for (j = 1; j <= nic; j++)
			c = c (c == "" ? "" : "; ") sprintf("icount%s %.3f, %.3f (%d pairs)", (nic > 1 ? " run " j : ""), pmed[icn[j]], pgm[icn[j]], pn[icn[j]])
		print "- all pairs at >= 64 KiB (WRITE and READ) taken together, median and geometric mean of their ratios: " c
		if (nic > 1) {
			d = 0
			for (i = 1; i <= nz; i++) for (k = 0; k < 2; k++) for (j = 2; j <= nic; j++)
				if (((icn[1] SUBSEP t[k] SUBSEP sizes[i]) in med) && ((icn[j] SUBSEP t[k] SUBSEP sizes[i]) in med)) {
					x = med[icn[j], t[k], sizes[i]] / med[icn[1], t[k], sizes[i]]
					x = x > 1 ? x - 1 : 1 / x - 1
					if (x > d) { d = x; dz = sizes[i]; dk = t[k] }
				}
			dm = dg = 0
			for (j = 2; j <= nic; j++) {
				x = pmed[icn[j]] / pmed[icn[1]]; x = x > 1 ? x - 1 : 1 / x - 1; if (x > dm) dm = x
				x = pgm[icn[j]] / pgm[icn[1]]; x = x > 1 ? x - 1 : 1 / x - 1; if (x > dg) dg = x
			}
			printf "- icount, run to run: the per-size medians of the %d runs differ by up to %.2f%% (%s, %s); the medians of all pairs at >= 64 KiB by %.2f%%, their geometric means by %.2f%%\n",
				nic, d * 100, dk, h(dz), dm * 100, dg * 100
		}
		for (j = 1; j <= nic; j++) {
			lw = 99; hw = 0
			for (i = 1; i <= nz; i++) for (k = 0; k < 2; k++) if (sizes[i] >= 65536 && ((icn[j] SUBSEP t[k] SUBSEP sizes[i]) in lo)) {
				if (lo[icn[j], t[k], sizes[i]] < lw) lw = lo[icn[j], t[k], sizes[i]]
				if (hi[icn[j], t[k], sizes[i]] > hw) hw = hi[icn[j], t[k], sizes[i]]
			}
			printf "- icount%s: single pair ratios at >= 64 KiB range %.3f-%.3f; host-memory runs of one size differ by up to %.1f%% (max/min)\n",
				(nic > 1 ? " run " j : ""), lw, hw, (spread[icn[j]] - 1) * 100
		}
		if (nofig)
			printf "- %d runs gave no figure (perftest could not calibrate its clock): their pairs are left out\n", nofig
		print ""
	}
	function sort_ic(   i, j, x) {
		for (i = 2; i <= nic; i++)
			for (j = i; j > 1 && icn[j - 1] > icn[j]; j--) { x = icn[j]; icn[j] = icn[j - 1]; icn[j - 1] = x }
	}' | tee "$out/table-$s.md"

	# Plot of the wall-clock runs (gnuplot from the root, which sees
	# BENCH_OUT as /bench): medians per size, bars from min to max.
	[ -e "$out/stats-$s.txt" ] || continue
	for t in ib_write_bw ib_read_bw; do
		awk -v t=$t '$1 == t {print $2, $7, $8, $9}' "$out/stats-$s.txt" > "$out/plot-$s-$t-host.dat"
		awk -v t=$t '$1 == t {print $2, $10, $11, $12}' "$out/stats-$s.txt" > "$out/plot-$s-$t-bar.dat"
	done
	cat > "$out/plot-$s.gp" <<GP
set terminal pngcairo size 720,440 font ",10"
set output "/bench/nic-bw-$s.png"
set title "p2pmr benchmark 1: rxe over veth, QEMU TCG (wall clock), Linux $s"
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
