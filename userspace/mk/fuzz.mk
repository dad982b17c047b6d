# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile.  "make fuzz": libFuzzer targets for the parsers
# (tests/unit/fuzz/), built with clang, ASan and UBSan, each run for
# FUZZ_SECONDS from the seeds in tests/unit/fuzz/seeds/<target> plus the
# corpus of earlier runs ($(BUILD)/fuzz/corpus).  Crashing inputs are left
# in $(BUILD)/fuzz/ as crash-*; any finding fails the target.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_TARGETS := bdf ranges cli
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_CFLAGS := -g -O1 -Iinclude -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# fuzz_cli includes tools/p2pmr.c and links the command's other files.
$(FUZZ_DIR)/fuzz_cli: FUZZ_EXTRA = $(filter-out tools/p2pmr.c,$(wildcard tools/*.c))

$(FUZZ_DIR)/fuzz_%: ../tests/unit/fuzz/fuzz_%.c $(LIBSRC) $(wildcard include/*.h lib/*.h tools/*.[ch])
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilib -o $@ $< $(FUZZ_EXTRA) $(LIBSRC) -libverbs -ljson-c

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		c=$(FUZZ_DIR)/corpus/$$t; mkdir -p $$c; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -max_len=8192 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/ \
			$$([ $$t = cli ] && echo -close_fd_mask=2) \
			$$c ../tests/unit/fuzz/seeds/$$t \
			> $(FUZZ_DIR)/fuzz_$$t.log 2>&1; rc=$$?; \
		grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done )' \
			$(FUZZ_DIR)/fuzz_$$t.log; \
		if [ $$rc != 0 ]; then \
			tail -n 40 $(FUZZ_DIR)/fuzz_$$t.log; \
			echo "FAIL: fuzz_$$t (exit $$rc, log $(FUZZ_DIR)/fuzz_$$t.log)"; fail=1; \
		else echo "ok: fuzz_$$t"; fi; \
	done; exit $$fail

.PHONY: fuzz fuzz-build
