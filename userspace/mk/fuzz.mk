# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile.  libFuzzer targets for the parsers
# (tests/unit/fuzz/), built with clang, ASan and UBSan.  Inputs of each
# target: the hand-written seeds (tests/unit/fuzz/seeds/<target>) and the
# checked-in corpus (tests/unit/fuzz/corpus/<target>).
#
#   make fuzz-replay   (CI: tests/host/userspace-fuzz.sh) runs every input
#                      once, in name order, no mutation: deterministic, the
#                      same commit gives the same result
#   make fuzz          FUZZ_SECONDS (default 300) of fuzzing per target from
#                      those inputs and the corpus of earlier runs
#                      ($(BUILD)/fuzz/corpus); for longer runs outside CI
#   make fuzz-corpus   merges $(BUILD)/fuzz/corpus into the checked-in
#                      corpus (libFuzzer -merge=1: only inputs that add
#                      coverage); commit what it adds
#
# Crashing inputs are left in $(BUILD)/fuzz/ as crash-*; any finding fails
# the target.  Add a crash input to the seeds once it is fixed.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
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

FUZZ_OPTS = -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-artifact_prefix=$(FUZZ_DIR)/ $$([ $$t = cli ] && echo -close_fd_mask=2)
FUZZ_INPUTS = $$(ls -d ../tests/unit/fuzz/seeds/$$t ../tests/unit/fuzz/corpus/$$t 2>/dev/null)

fuzz-replay: $(FUZZ_BIN)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		files=$$(find $(FUZZ_INPUTS) -type f 2>/dev/null | LC_ALL=C sort); \
		n=$$(echo "$$files" | grep -c .); \
		[ $$n -gt 0 ] || { echo "FAIL: fuzz_$$t has no inputs"; fail=1; continue; }; \
		$(FUZZ_DIR)/fuzz_$$t $(FUZZ_OPTS) -runs=1 $$files \
			> $(FUZZ_DIR)/replay_$$t.log 2>&1; rc=$$?; \
		ran=$$(grep -c '^Executed ' $(FUZZ_DIR)/replay_$$t.log); \
		if [ $$rc != 0 ] || [ $$ran != $$n ]; then \
			tail -n 40 $(FUZZ_DIR)/replay_$$t.log; \
			echo "FAIL: fuzz_$$t replay (exit $$rc, $$ran of $$n inputs ran, log $(FUZZ_DIR)/replay_$$t.log)"; fail=1; \
		else echo "ok: fuzz_$$t replayed $$n inputs"; fi; \
	done; exit $$fail

fuzz-corpus: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p ../tests/unit/fuzz/corpus/$$t $(FUZZ_DIR)/corpus/$$t; \
		before=$$(ls ../tests/unit/fuzz/corpus/$$t | wc -l); \
		$(FUZZ_DIR)/fuzz_$$t $(FUZZ_OPTS) -merge=1 \
			../tests/unit/fuzz/corpus/$$t $(FUZZ_DIR)/corpus/$$t \
			> $(FUZZ_DIR)/merge_$$t.log 2>&1 || \
			{ tail -n 20 $(FUZZ_DIR)/merge_$$t.log; exit 1; }; \
		echo "fuzz_$$t: corpus $$before -> $$(ls ../tests/unit/fuzz/corpus/$$t | wc -l) inputs"; \
	done

fuzz: $(FUZZ_BIN)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		c=$(FUZZ_DIR)/corpus/$$t; mkdir -p $$c; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			$(FUZZ_OPTS) -print_final_stats=1 $$c $(FUZZ_INPUTS) \
			> $(FUZZ_DIR)/fuzz_$$t.log 2>&1; rc=$$?; \
		grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done )' \
			$(FUZZ_DIR)/fuzz_$$t.log; \
		if [ $$rc != 0 ]; then \
			tail -n 40 $(FUZZ_DIR)/fuzz_$$t.log; \
			echo "FAIL: fuzz_$$t (exit $$rc, log $(FUZZ_DIR)/fuzz_$$t.log)"; fail=1; \
		else echo "ok: fuzz_$$t"; fi; \
	done; exit $$fail

.PHONY: fuzz fuzz-build fuzz-replay fuzz-corpus
