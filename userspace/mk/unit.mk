# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile.  "make unit": the cmocka unit tests of
# tests/unit/ and the CLI test, built with ASan and UBSan against a
# sanitized copy of the library; fails if any test fails.

UNIT_DIR := $(BUILD)/unit
UNIT_SRC := $(wildcard ../tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:../tests/unit/%.c=$(UNIT_DIR)/%)
UNIT_OBJ := $(LIBSRC:%.c=$(UNIT_DIR)/%.o)
SANFLAGS ?= -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

$(UNIT_DIR)/lib/%.o: lib/%.c $(wildcard include/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Ilib -c -o $@ $<

$(UNIT_DIR)/libp2pmr-san.a: $(UNIT_OBJ)
	rm -f $@ && ar rcs $@ $^

# The verbs calls of test_errors are mocks.
$(UNIT_DIR)/test_errors: UNIT_LDFLAGS = \
	-Wl,--wrap=ibv_reg_dmabuf_mr,--wrap=ibv_get_device_name
$(UNIT_DIR)/test_fdpass: UNIT_LDFLAGS = -lpthread
# The VFIO ioctls of test_vfio go to a fake kernel.
$(UNIT_DIR)/test_vfio: UNIT_LDFLAGS = -Wl,--wrap=ioctl -lpthread
# p2pmr_buf_open() against a fake kernel and a memfd as the device.
$(UNIT_DIR)/test_buf: UNIT_LDFLAGS = -Wl,--wrap=ioctl

$(UNIT_DIR)/%: ../tests/unit/%.c ../tests/unit/unit.h $(UNIT_DIR)/libp2pmr-san.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $< $(UNIT_DIR)/libp2pmr-san.a \
		-lcmocka $(UNIT_LDFLAGS)

unit: $(UNIT_BIN) $(CLI)
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; $$t || { echo "FAIL: $$t"; fail=1; }; \
	done; \
	echo "== ../tests/unit/cli.sh"; \
	sh ../tests/unit/cli.sh $(CLI) || { echo "FAIL: cli.sh"; fail=1; }; \
	exit $$fail

.PHONY: unit
