# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile: libp2pmr-nvmf.a, the NVMe-oF wire-format parsers
# of nvmf/ (capsules, SGLs, Connect, properties) for the p2pmr-nvmf target;
# their unit test and fuzz target (appended to "make fuzz").

NVMFSRC := $(wildcard nvmf/*.c)
NVMFHDR := $(wildcard nvmf/*.h)

$(BUILD)/nvmf/%.o: nvmf/%.c $(NVMFHDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -Invmf -c -o $@ $<

$(BUILD)/libp2pmr-nvmf.a: $(NVMFSRC:%.c=$(BUILD)/%.o)
	rm -f $@ && ar rcs $@ $^

all: $(BUILD)/libp2pmr-nvmf.a

$(UNIT_DIR)/nvmf/%.o: nvmf/%.c $(NVMFHDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Invmf -c -o $@ $<

$(UNIT_DIR)/libp2pmr-nvmf-san.a: $(NVMFSRC:%.c=$(UNIT_DIR)/%.o)
	rm -f $@ && ar rcs $@ $^

$(UNIT_DIR)/test_nvmf: $(UNIT_DIR)/libp2pmr-nvmf-san.a
$(UNIT_DIR)/test_nvmf: UNIT_LDFLAGS = $(UNIT_DIR)/libp2pmr-nvmf-san.a
$(UNIT_DIR)/test_nvmf_admin: $(UNIT_DIR)/libp2pmr-nvmf-san.a
$(UNIT_DIR)/test_nvmf_admin: UNIT_LDFLAGS = $(UNIT_DIR)/libp2pmr-nvmf-san.a
# The target's Connect handling and data path (nvmf/tgt/cmd.c and io.c,
# built into the test).
$(UNIT_DIR)/test_tgt_connect: ../tests/unit/test_tgt_connect.c nvmf/tgt/cmd.c \
		nvmf/tgt/io.c nvmf/tgt/tgt.h $(UNIT_DIR)/libp2pmr-nvmf-san.a \
		$(UNIT_DIR)/libp2pmr-nvme-san.a
$(UNIT_DIR)/test_tgt_connect: UNIT_LDFLAGS = -Invmf -Invme \
	-Wl,--wrap=p2pmr_nvme_exec -Wl,--wrap=p2pmr_nvme_submit \
	-Wl,--wrap=p2pmr_nvme_poll -Wl,--wrap=p2pmr_nvme_ready \
	-Wl,--wrap=p2pmr_nvme_qp_create -Wl,--wrap=p2pmr_nvme_qp_destroy \
	-Wl,--wrap=p2pmr_nvme_qp_id -Wl,--wrap=p2pmr_nvme_reg32 \
	$(UNIT_DIR)/libp2pmr-nvmf-san.a $(UNIT_DIR)/libp2pmr-nvme-san.a \
	$(UNIT_DIR)/libp2pmr-san.a

# The target's RDMA side (nvmf/tgt/rdma.c, built into the test) against
# fake verbs and RDMA CM calls, which the test defines.
$(UNIT_DIR)/test_tgt_rdma: ../tests/unit/test_tgt_rdma.c nvmf/tgt/rdma.c \
		nvmf/tgt/tgt.h
$(UNIT_DIR)/test_tgt_rdma: UNIT_LDFLAGS = -Invmf -Invme

# The fuzz target links the parsers only; "make fuzz" runs it after the
# library's targets, with the same options.
$(FUZZ_DIR)/fuzz_nvmf: ../tests/unit/fuzz/fuzz_nvmf.c $(NVMFSRC) $(NVMFHDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Invmf -o $@ $< $(NVMFSRC)

FUZZ_TARGETS += nvmf
fuzz fuzz-build fuzz-replay fuzz-corpus: $(FUZZ_DIR)/fuzz_nvmf

# The target, p2pmr-nvmf (nvmf/tgt/): the parsers, the NVMe driver,
# libp2pmr, librdmacm and libibverbs.
TGTSRC := $(wildcard nvmf/tgt/*.c)
TGT := $(BUILD)/bin/p2pmr-nvmf

# ISO C only (no 'return' of a void expression, which GCC takes
# silently): -Wpedantic, and its findings are errors.
TGT_CFLAGS := -Wpedantic -Werror=pedantic

$(BUILD)/nvmf/tgt/%.o: nvmf/tgt/%.c nvmf/tgt/tgt.h $(NVMFHDR) $(NVMEHDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TGT_CFLAGS) -Invmf -Invme -c -o $@ $<

$(TGT): $(TGTSRC:%.c=$(BUILD)/%.o) $(BUILD)/libp2pmr-nvmf.a \
		$(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libp2pmr-nvmf.a \
		$(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a -lrdmacm -libverbs

all: $(TGT)
