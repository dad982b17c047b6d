#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 5, the storage target through nvme-rdma: fio on the kernel's
# nvme-rdma host against the kernel's nvmet-rdma (the baseline, the QEMU
# NVMe controller on the stock nvme driver) and p2pmr-nvmf with its data
# buffers in host memory, in the controller's CMB and in its PMR, same VM, same rxe
# pair, same namespace; the targets interleaved in random order each
# round (perf/guest/nvmf.sh).  Medians of the rounds, and each as a ratio
# to nvmet-rdma's median.
#   perf/bench/5-nvmf.sh SERIES...    (BENCH_OUT: output directory;
#   ROUNDS, RUNTIME, JOBS, TARGETS (some of nvmet host cmb pmr hostirq), TGT_OPTS
#   (more p2pmr-nvmf options): passed to the guest; BENCH_REPORT_ONLY=1
#   makes the tables again from BENCH_OUT/results-SERIES.txt)
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/5-nvmf}
mkdir -p "$out"
for s in "${@:-7.3}"; do
	vm=$out/vm-$s
	if [ "${BENCH_REPORT_ONLY:-0}" != 1 ]; then
		bench_vm 5-nvmf "$s" --nvme 64 --nvme-cmb 16 --nvme-pmr 16 -- \
			env ROUNDS="${ROUNDS:-5}" RUNTIME="${RUNTIME:-5}" \
			${JOBS:+JOBS="$JOBS"} ${TARGETS:+TARGETS="$TARGETS"} \
			${TGT_OPTS:+TGT_OPTS="$TGT_OPTS"} bash perf/guest/nvmf.sh
		cp "$vm/out/results.txt" "$out/results-$s.txt"
	fi
	{
		rounds=$(awk '{ print $1 }' "$out/results-$s.txt" | sort -u | wc -l)
		echo "Linux $s: fio through nvme-rdma, median of $rounds rounds; IOPS for 4 KiB, MiB/s for 128 KiB; (ratio to nvmet-rdma's median; the lowest and highest ratio to nvmet-rdma in one round)"
		echo
		# hostirq, when TARGETS named it: a column of its own.
		irq=$(awk '$2 == "hostirq" { print 1; exit }' "$out/results-$s.txt")
		echo "| job | nvmet-rdma | p2pmr-nvmf, host buffers | p2pmr-nvmf, CMB buffers | p2pmr-nvmf, PMR buffers |${irq:+ p2pmr-nvmf, host buffers, --nvme-irq |}"
		echo "|---|---|---|---|---|${irq:+---|}"
		awk -v irq="${irq:-0}" '
		function median(k,   n, i, j, t, a) {
			n = split(v[k], a, " ")
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		# The ratio of the medians, then the lowest and highest ratio
		# of one round (the target against nvmet-rdma in that round):
		# how far the bed moves a figure between runs.
		function cell(j, t, b,   k, m, i, q, lo, hi) {
			k = j SUBSEP t
			if (!(k in v))		# "-": a target not run
				return "-"
			m = median(k)
			lo = hi = ""
			for (i = 1; i <= nr; i++) {
				if (!((k, rl[i]) in x1) || !((j, "nvmet", rl[i]) in x1) ||
				    x1[j, "nvmet", rl[i]] <= 0)
					continue
				q = x1[k, rl[i]] / x1[j, "nvmet", rl[i]]
				if (lo == "" || q < lo) lo = q
				if (hi == "" || q > hi) hi = q
			}
			return sprintf("%.1f (%.2fx%s)", m, b > 0 ? m / b : 0,
				lo == "" ? "" : sprintf("; rounds %.2f-%.2fx", lo, hi))
		}
		{	# 4 KiB jobs by IOPS, 128 KiB ones by bandwidth
			x = $3 ~ /-4k-/ ? $4 : $5 / 1024
			x1[$3, $2, $1] = x
			if (!($1 in rseen)) { rseen[$1] = 1; rl[++nr] = $1 }
			v[$3 SUBSEP $2] = v[$3 SUBSEP $2] " " x
			if (!($3 in seen)) { seen[$3] = 1; order[++nj] = $3 }
		}
		END {
			for (i = 1; i <= nj; i++) {
				j = order[i]
				b = (j SUBSEP "nvmet") in v ? median(j SUBSEP "nvmet") : 0
				printf "| %s | %s | %s | %s | %s |", j,
					b ? sprintf("%.1f", b) : "-",
					cell(j, "host", b), cell(j, "cmb", b),
					cell(j, "pmr", b)
				printf "%s\n", irq ? " " cell(j, "hostirq", b) " |" : ""
			}
		}' "$out/results-$s.txt"
		echo
	} | tee "$out/table-$s.md"
done
