#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libFuzzer targets of libp2pmr's parsers (PCI address, range lists, the
# p2pmr command line, NVMe-oF capsules), built with ASan and UBSan in the
# trixie root, replayed over the checked-in seeds and corpus
# (tests/unit/fuzz/seeds/, tests/unit/fuzz/corpus/): every input once, no
# random mutation, so the result depends on the commit only.  Fails on any
# crash, sanitizer report or broken invariant, or if an input did not run.
# Fuzzing proper (time-boxed, random) is not for CI: "make fuzz"
# (FUZZ_SECONDS per target), then "make fuzz-corpus" to keep what it found.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/in-root make -s -C /p2pmr/userspace BUILD=/p2pmr/build/user fuzz-replay
