#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libFuzzer on libp2pmr's parsers (PCI address, range lists, the p2pmr
# command line), P2PMR_FUZZ_SECONDS (default 20) per target, in the trixie
# root.  Fails on any crash, sanitizer report or broken invariant; the
# input is kept in build/user/fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/in-root make -s -C /p2pmr/userspace BUILD=/p2pmr/build/user fuzz \
	FUZZ_SECONDS="${P2PMR_FUZZ_SECONDS:-20}"
