# SPDX-License-Identifier: GPL-2.0
#
# p2pmr top-level Makefile.  Runs on the host (Debian 12); everything that is
# built is built inside the project's trixie root (see scripts/deps.sh), which
# has the kernel headers and a glibc that Debian's 7.3 kbuild needs.
#
#   make deps      install what the project needs (idempotent, cached)
#   make           build modules for each kernel in $(KVER) and userspace
#   make check     build, then run all tests; ends with "N passed, N failed"
#   make check-debug  the same VM cases on the debug kernels (KASAN, lockdep,
#                  kmemleak, DMA-API debugging), built by make debug-kernels
#   make demo      the VM demo
#   make patches   the kernel changes as git-format patches (build/patches)
#   make fuzz      FUZZ_SECONDS (300) of libFuzzer per parser, outside CI;
#                  make fuzz-corpus keeps its finds in tests/unit/fuzz/corpus
#   make perf      perftest with --use_vfio and the benchmark programs (build/perf)
#   make bench     build, then run the benchmarks (perf/run-bench.sh, build/bench)
#   make install   libp2pmr (static, shared), p2pmr.h, the p2pmr command, its
#                  man page, the section-3 pages of p2pmr.h and p2pmr.pc into $(DESTDIR)$(PREFIX) (default
#                  /usr/local; LIBDIR, INCLUDEDIR, BINDIR, MANDIR, PKGCONFIGDIR
#                  as in userspace/mk/lib.mk); builds them first, in the root
#   make install-modules  vfio-pci-p2p.ko of each kernel in $(KVER) (built by
#                  make) into $(DESTDIR)/lib/modules/<release>/updates, then
#                  depmod (not with DESTDIR)
#
# KVER=6.12 or KVER=7.3 narrows everything to one kernel series.

KVER ?= 6.12 7.3
# The debug kernel of each series in $(KVER) (scripts/debug-kernel.sh).
DEBUG_KVER = $(addsuffix -debug,$(filter-out %-debug,$(KVER)))

# Kernel module directories (each has a Kbuild file), built per kernel into
# build/<series>/<dir>.
MODDIRS := vfio-export tests/kmod/warn tests/kmod/importer tests/kmod/plant \
	tests/kmod/umemcpu

ifndef P2PMR_IN_ROOT

.PHONY: all deps kernel-doc fuzz fuzz-corpus build check check-debug debug-kernels demo clean patches perf bench \
	install install-modules
all: deps kernel-doc
	for s in $(KVER); do scripts/rdma-tree.sh $$s || exit 1; done
	scripts/in-root make -C /p2pmr P2PMR_IN_ROOT=1 KVER="$(KVER)" build

deps:
	scripts/deps.sh

# The kernel's kernel-doc, from Debian's linux-source-7.3 into the cache
# (/cache in the root): it makes the section-3 man pages of p2pmr.h.
kernel-doc: deps
	@scripts/ksrc.sh 7.3 scripts/kernel-doc tools/docs tools/lib/python > /dev/null

# CHECK_DEBUG=7.3 adds that series' debug kernel to make check, with the
# tests named in CHECK_DEBUG_TESTS: what CI runs (.ci/run, docs/testbed.md).
CHECK_DEBUG ?=
CHECK_DEBUG_TESTS ?= debug-catches-bugs exporter-* importer-* dma-*
CHECK_FILTER = host/* $(addsuffix /*,$(KVER)) \
	$(foreach d,$(CHECK_DEBUG),$(addprefix $(d)-debug/,$(CHECK_DEBUG_TESTS)))

check: all
ifeq ($(CHECK_DEBUG),)
	tests/run-all.sh $(KVER)
else
	$(MAKE) debug-kernels KVER="$(CHECK_DEBUG)"
	$(MAKE) all KVER="$(addsuffix -debug,$(CHECK_DEBUG))"
	P2PMR_TESTS="$${P2PMR_TESTS:-$(CHECK_FILTER)}" \
		tests/run-all.sh $(KVER) $(addsuffix -debug,$(CHECK_DEBUG))
endif

debug-kernels: deps
	for s in $(KVER:-debug=); do scripts/debug-kernel.sh $$s || exit 1; done

check-debug: debug-kernels
	$(MAKE) all KVER="$(DEBUG_KVER)"
	tests/run-all.sh $(DEBUG_KVER)

demo: all
	scripts/demo.sh $(KVER)

perf: deps
	scripts/in-root make -C /p2pmr P2PMR_IN_ROOT=1 KVER="$(KVER)" perf

bench: all
	perf/run-bench.sh $(KVER)

patches: deps
	scripts/make-patches.sh $(KVER)

# Time-boxed fuzzing of the parsers, outside CI (CI replays the checked-in
# inputs: tests/host/userspace-fuzz.sh, make fuzz-replay in userspace/):
# FUZZ_SECONDS per target (default 300).  make fuzz-corpus then merges what
# it found into tests/unit/fuzz/corpus/, to be committed.
fuzz fuzz-corpus: deps
	scripts/in-root make -C /p2pmr/userspace BUILD=/p2pmr/build/user $@ \
		$(if $(FUZZ_SECONDS),FUZZ_SECONDS=$(FUZZ_SECONDS))

# The library and command are built in the root (as by make), installed
# from the host.  Command-line PREFIX, DESTDIR... reach userspace/'s make.
install: deps kernel-doc
	scripts/in-root make -s -C /p2pmr/userspace BUILD=/p2pmr/build/user lib
	$(MAKE) -C userspace BUILD=$(CURDIR)/build/user install

P2PMR_CACHE ?= /var/cache/p2pmr

install-modules:
	@for s in $(KVER); do \
		r=$$(awk -v s=$$s '$$1 == s {print $$2}' $(P2PMR_CACHE)/kernels \
			$(P2PMR_CACHE)/kernels-debug 2>/dev/null); \
		ko=build/$$s/vfio-export/vfio-pci-p2p.ko; \
		test -n "$$r" || { echo "install-modules: no kernel $$s (make deps)"; exit 1; }; \
		test -f $$ko || { echo "install-modules: no $$ko: run 'make KVER=$$s'"; exit 1; }; \
		echo "install $$ko -> $(DESTDIR)/lib/modules/$$r/updates/"; \
		install -D -m 644 $$ko $(DESTDIR)/lib/modules/$$r/updates/vfio-pci-p2p.ko || exit 1; \
		if [ -z "$(DESTDIR)" ]; then depmod -a $$r || exit 1; fi; \
	done

clean:
	rm -rf build

else # inside the root

kver_of = $(shell cat /cache/kernels /cache/kernels-debug 2>/dev/null | \
	awk '$$1 == "$(1)" {print $$2}')

.PHONY: build user rdma-core perf FORCE
build: user perf $(addprefix modules-,$(KVER))

user: rdma-core
	$(MAKE) -C userspace BUILD=/p2pmr/build/user

# perftest with the --use_vfio backend (perf/perftest/), and the
# registration-cost benchmark program.
perf: user
	bash scripts/build-perftest.sh
	$(MAKE) -C perf BUILD=/p2pmr/build/perf

# rdma-core's rxe provider with dma-buf MR support (userspace/rdma-core/).
rdma-core: FORCE
	bash scripts/build-rdma-core.sh

# A kernel rebuilt under the same release (a debug kernel with another
# configuration) leaves kbuild's dependency files satisfied, so the modules
# of a series are cleaned when its kernel's .config or Module.symvers differ
# from those they were built against (build/<series>/kernel.sum).
kernel-%: FORCE
	@k=$(call kver_of,$*); h=/usr/src/linux-headers-$$k; o=/p2pmr/build/$*; \
	test -n "$$k" || { echo "no kernel $*"; exit 1; }; \
	sum=$$(cat $$h/.config $$h/Module.symvers | md5sum | cut -d' ' -f1); \
	test "$$(cat $$o/kernel.sum 2>/dev/null)" = "$$sum" && exit 0; \
	echo "$*: kernel $$k changed, cleaning its modules"; \
	for d in rdma/drivers/infiniband/core rdma/drivers/infiniband/sw/rxe \
		$(MODDIRS); do \
		test ! -f $$o/$$d/Kbuild -a ! -f $$o/$$d/Makefile || \
		$(MAKE) -s -C $$h M=$$o/$$d clean || exit 1; \
	done; \
	mkdir -p $$o && echo $$sum > $$o/kernel.sum

# The RDMA modules p2pmr changes: drivers/infiniband/core (ib_core and
# ib_uverbs carry the umem code) and rxe, from the tree scripts/rdma-tree.sh
# laid out (the trace headers include themselves as
# <../../drivers/infiniband/core/...>, hence include/trace).  rxe links against the rebuilt core's symbols.
rdma-%: kernel-% FORCE
	@k=$(call kver_of,$*); r=/p2pmr/build/$*/rdma; \
	$(MAKE) -s -C /usr/src/linux-headers-$$k M=$$r/drivers/infiniband/core \
		KCFLAGS="-I$$r/include -I$$r/include/trace" modules && \
	$(MAKE) -s -C /usr/src/linux-headers-$$k M=$$r/drivers/infiniband/sw/rxe \
		KCFLAGS=-I$$r/include \
		KBUILD_EXTRA_SYMBOLS=$$r/drivers/infiniband/core/Module.symvers modules

# The module index with the rebuilt RDMA modules (scripts/moddep.sh), which
# the guest copies instead of running depmod.
moddep-%: rdma-% FORCE
	@bash scripts/moddep.sh $* $(call kver_of,$*)

modules-%: user moddep-% FORCE
	@k=$(call kver_of,$*); test -n "$$k" || { echo "no kernel $*"; exit 1; }; \
	for d in $(MODDIRS); do \
		o=build/$*/$$d; mkdir -p $$o build/$*/tests/lib; \
		cp -u $$d/Kbuild $$d/*.[ch] $$o/ && cp -u tests/lib/*.h build/$*/tests/lib/ || exit 1; \
		$(MAKE) -s -C /usr/src/linux-headers-$$k M=/p2pmr/$$o \
			P2PMR_RDMA=/p2pmr/build/$*/rdma \
			KBUILD_EXTRA_SYMBOLS=/p2pmr/build/$*/rdma/drivers/infiniband/core/Module.symvers \
			modules || exit 1; \
	done

endif
FORCE:
