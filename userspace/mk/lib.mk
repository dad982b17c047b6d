# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile: the shared library, the p2pmr command, p2pmr.pc
# and "make install".  libp2pmr.a holds lib/verbs.o as a separate member, so
# static programs that never call p2pmr_reg_mr() need no libibverbs.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install

SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libp2pmr.so.$(SOMAJOR)
SHLIB := $(BUILD)/libp2pmr.so.$(VERSION)
CLI := $(BUILD)/bin/p2pmr

# Section-3 man pages from the kernel-doc comments of include/p2pmr.h
# (mk/man3.py), made by the kernel's scripts/kernel-doc.  The top-level
# make extracts it from Debian's linux-source-7.3 into the cache, which is
# /cache in the root ($(P2PMR_CACHE) on the host); elsewhere set KERNEL_DOC,
# or have kernel-doc in PATH.
# Without one, "lib" says so and builds no section-3 pages.
P2PMR_CACHE ?= /var/cache/p2pmr
KERNEL_DOC ?= $(firstword $(wildcard /cache/src/7.3/linux-source-7.3/scripts/kernel-doc \
	$(P2PMR_CACHE)/src/7.3/linux-source-7.3/scripts/kernel-doc) \
	$(shell command -v kernel-doc 2>/dev/null))
MAN3 := $(BUILD)/man3/.stamp

$(MAN3): include/p2pmr.h mk/man3.py
	python3 mk/man3.py $(KERNEL_DOC) include/p2pmr.h $(dir $@)
	@touch $@

man3: $(if $(KERNEL_DOC),$(MAN3))
	@$(if $(KERNEL_DOC),:,echo "warning: no kernel-doc (set KERNEL_DOC=<kernel tree>/scripts/kernel-doc): no section-3 man pages")

# "lib": what "install" installs, without the test programs of "all".
lib: $(BUILD)/libp2pmr.a $(SHLIB) $(BUILD)/$(SONAME) $(BUILD)/libp2pmr.so \
	$(CLI) $(BUILD)/p2pmr.pc man3

all: lib

$(SHLIB): $(LIBOBJ) lib/libp2pmr.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script,lib/libp2pmr.map -Wl,--no-undefined \
		-o $@ $(LIBOBJ) -libverbs

$(BUILD)/$(SONAME) $(BUILD)/libp2pmr.so: $(SHLIB)
	ln -sf $(notdir $<) $@

# The command links the archive: it runs from the build tree (and in the
# guest) without LD_LIBRARY_PATH.  One file per command (tools/).
TOOLSRC := $(wildcard tools/*.c)
TOOLOBJ := $(TOOLSRC:%.c=$(BUILD)/%.o)

$(BUILD)/tools/%.o: tools/%.c tools/cli.h include/p2pmr.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CLI): $(TOOLOBJ) $(BUILD)/libp2pmr.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(TOOLOBJ) $(BUILD)/libp2pmr.a -libverbs -ljson-c

# For use from the build tree; "install" writes its own for the PREFIX given.
$(BUILD)/p2pmr.pc: p2pmr.pc.in mk/lib.mk
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $< > $@

install: lib
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 $(BUILD)/libp2pmr.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libp2pmr.so
	$(INSTALL) -m 644 include/p2pmr.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 p2pmr.1 $(DESTDIR)$(MANDIR)/man1/
	@if ls $(BUILD)/man3/*.3 > /dev/null 2>&1; then \
		echo "install man3 pages: $(DESTDIR)$(MANDIR)/man3, man3type"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man3type && \
		$(INSTALL) -m 644 $(BUILD)/man3/*.3 $(DESTDIR)$(MANDIR)/man3/ && \
		$(INSTALL) -m 644 $(BUILD)/man3/*.3type $(DESTDIR)$(MANDIR)/man3type/; \
	else echo "warning: no section-3 man pages in $(BUILD)/man3 (kernel-doc missing when built)"; fi
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    p2pmr.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/p2pmr.pc

.PHONY: install lib man3
