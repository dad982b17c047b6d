#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libp2pmr's cmocka unit tests (tests/unit/test_*.c, ASan+UBSan) and the
# CLI test (tests/unit/cli.sh), built and run in the trixie root.  No
# hardware, no VM: fake sysfs/debugfs trees, mocked verbs, socketpairs.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/in-root make -s -C /p2pmr/userspace BUILD=/p2pmr/build/user unit
