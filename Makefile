# SPDX-License-Identifier: GPL-2.0
#
# p2pmr top-level Makefile.  Runs on the host (Debian 12); everything that is
# built is built inside the project's trixie root (see scripts/deps.sh), which
# has the kernel headers and a glibc that Debian's 7.3 kbuild needs.
#
#   make deps      install what the project needs (idempotent, cached)
#   make           build modules for each kernel in $(KVER) and userspace
#   make check     build, then run all tests; ends with "N passed, N failed"
#   make demo      the VM demo
#
# KVER=6.12 or KVER=7.3 narrows everything to one kernel series.

KVER ?= 6.12 7.3

# Kernel module directories (each has a Kbuild file), built per kernel into
# build/<series>/<dir>.
MODDIRS := vfio-export tests/kmod/warn tests/kmod/importer

ifndef P2PMR_IN_ROOT

.PHONY: all deps build check demo clean
all: deps
	scripts/in-root make -C /p2pmr P2PMR_IN_ROOT=1 KVER="$(KVER)" build

deps:
	scripts/deps.sh

check: all
	tests/run-all.sh $(KVER)

demo: all
	scripts/demo.sh $(KVER)

clean:
	rm -rf build

else # inside the root

kver_of = $(shell awk '$$1 == "$(1)" {print $$2}' /cache/kernels)

.PHONY: build user FORCE
build: user $(addprefix modules-,$(KVER))

user:
	$(MAKE) -C userspace BUILD=/p2pmr/build/user

modules-%: user FORCE
	@k=$(call kver_of,$*); test -n "$$k" || { echo "no kernel $*"; exit 1; }; \
	for d in $(MODDIRS); do \
		o=build/$*/$$d; mkdir -p $$o build/$*/tests/lib; \
		cp -u $$d/Kbuild $$d/*.[ch] $$o/ && cp -u tests/lib/*.h build/$*/tests/lib/ || exit 1; \
		$(MAKE) -s -C /usr/src/linux-headers-$$k M=/p2pmr/$$o modules || exit 1; \
	done

endif
FORCE:
