# SPDX-License-Identifier: GPL-2.0
# Included by ../Makefile: libp2pmr-nvme.a, the userspace NVMe driver of
# nvme/ (a static library beside libp2pmr; programs link both), the VM test
# program that drives it, and a sanitized copy for the unit tests.

NVMESRC := $(wildcard nvme/*.c)
NVMEOBJ := $(NVMESRC:%.c=$(BUILD)/%.o)
NVMEHDR := $(wildcard nvme/*.h include/*.h lib/*.h)

$(BUILD)/nvme/%.o: nvme/%.c $(NVMEHDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -Ilib -Invme -c -o $@ $<

$(BUILD)/libp2pmr-nvme.a: $(NVMEOBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/nvme_driver_test: ../tests/nvme/nvme_driver_test.c $(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a $(TESTHDRS) nvme/p2pmr-nvme.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invme -static -o $@ $< $(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a

all: $(BUILD)/libp2pmr-nvme.a $(BUILD)/tests/nvme_driver_test

$(UNIT_DIR)/nvme/%.o: nvme/%.c $(NVMEHDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Ilib -Invme -c -o $@ $<

$(UNIT_DIR)/libp2pmr-nvme-san.a: $(NVMESRC:%.c=$(UNIT_DIR)/%.o)
	rm -f $@ && ar rcs $@ $^

# test_nvme: the PRP builder and the queue logic, no device.
$(UNIT_DIR)/test_nvme: $(UNIT_DIR)/libp2pmr-nvme-san.a
$(UNIT_DIR)/test_nvme: UNIT_LDFLAGS = $(UNIT_DIR)/libp2pmr-nvme-san.a \
	$(UNIT_DIR)/libp2pmr-san.a

# test_nvme_pmr: the PMR set-up (nvme/ctrl.c, built into the test) against
# a register file in memory and a fake PCI listing.
$(UNIT_DIR)/test_nvme_pmr: ../tests/unit/test_nvme_pmr.c nvme/ctrl.c \
		nvme/nvme-internal.h $(UNIT_DIR)/libp2pmr-nvme-san.a
$(UNIT_DIR)/test_nvme_pmr: UNIT_LDFLAGS = -Ilib -Invme \
	-Wl,--wrap=p2pmr_list_devices -Wl,--wrap=p2pmr_free_devices \
	$(UNIT_DIR)/libp2pmr-nvme-san.a $(UNIT_DIR)/libp2pmr-san.a

# The CMB as an RDMA MR (case nvme-cmb-rdma): verbs, so not static.
$(BUILD)/tests/nvme_cmb_rdma: ../tests/nvme/nvme_cmb_rdma.c ../tests/importer/rdma_lib.h $(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a $(TESTHDRS) nvme/p2pmr-nvme.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invme -o $@ $< $(BUILD)/libp2pmr-nvme.a $(BUILD)/libp2pmr.a -libverbs -lpthread

all: $(BUILD)/tests/nvme_cmb_rdma
