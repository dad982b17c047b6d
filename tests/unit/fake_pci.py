#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fake_pci.py SYSFS: a fake sysfs PCI tree with a PCIe switch, for
p2pmr doctor (tests/unit/cli.sh).

    pci0000:00/0000:00:00.0                  host bridge 8086:29c0 (q35)
    pci0000:00/0000:00:1c.0                  root port
      0000:01:00.0                           switch upstream port
        0000:02:00.0 -> 0000:03:00.0         exporter, vfio-pci-p2p, group 7
                     -> 0000:03:00.1         importer, its function 1, group 7
        0000:02:01.0 -> 0000:04:00.0         importer, group 8 (identity)
    pci0000:00/0000:00:1d.0 -> 0000:05:00.0  importer, group 9 (DMA)
    pci0000:40/0000:40:00.0 -> 0000:41:00.0  importer below a second host
                                             bridge, group 10 (DMA)

Config spaces are 4096 bytes with a PCIe capability (the port's type) and,
on the ports and endpoints, ACS (control 0) and ATS (disabled)."""
import os
import struct
import sys

root = sys.argv[1]
DEV = {
    # bdf: (parent, pcie type, driver, group, group type, bar2)
    '0000:00:00.0': (None, None, None, None, None, False),
    '0000:00:1c.0': (None, 4, 'pcieport', None, None, False),
    '0000:00:1d.0': (None, 4, 'pcieport', None, None, False),
    '0000:01:00.0': ('0000:00:1c.0', 5, 'pcieport', None, None, False),
    '0000:02:00.0': ('0000:01:00.0', 6, 'pcieport', None, None, False),
    '0000:02:01.0': ('0000:01:00.0', 6, 'pcieport', None, None, False),
    '0000:03:00.0': ('0000:02:00.0', 0, 'vfio-pci-p2p', 7, 'identity', True),
    '0000:04:00.0': ('0000:02:01.0', 0, 'edu', 8, 'identity', False),
    '0000:03:00.1': ('0000:02:00.0', 0, 'edu', 7, 'identity', False),
    '0000:05:00.0': ('0000:00:1d.0', 0, 'edu', 9, 'DMA-FQ', False),
    '0000:40:00.0': (None, 4, 'pcieport', None, None, False),
    '0000:41:00.0': ('0000:40:00.0', 0, 'edu', 10, 'DMA-FQ', False),
}


def config(ptype):
    c = bytearray(4096)
    struct.pack_into('<HH', c, 0, 0x1af4, 0x1110)
    if ptype is None:
        return c
    struct.pack_into('<H', c, 6, 0x10)           # capability list
    c[0x34] = 0x40
    c[0x40], c[0x41] = 0x10, 0                   # PCIe, last
    struct.pack_into('<H', c, 0x42, ptype << 4 | 2)
    # ACS at 0x100 -> ATS at 0x140
    struct.pack_into('<I', c, 0x100, 0x0d | 1 << 16 | 0x140 << 20)
    struct.pack_into('<HH', c, 0x104, 0x5f, 0)
    struct.pack_into('<I', c, 0x140, 0x0f | 1 << 16)
    return c


def path(bdf):
    p = []
    while bdf:
        p.insert(0, bdf)
        bdf = DEV[bdf][0]
    return os.path.join(root, 'devices', 'pci' + p[0][:7], *p)


z = '0x0000000000000000 0x0000000000000000 0x0000000000000000\n'
os.makedirs(os.path.join(root, 'bus/pci/devices'), exist_ok=True)
os.makedirs(os.path.join(root, 'bus/pci/drivers'), exist_ok=True)
for bdf, (parent, ptype, drv, group, gtype, bar) in DEV.items():
    d = path(bdf)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config'), 'wb') as f:
        f.write(config(ptype))
    vendor, device = (0x8086, 0x29c0) if bdf == '0000:00:00.0' else \
        (0x1af4, 0x1110)
    for k, v in (('vendor', vendor), ('device', device)):
        with open(os.path.join(d, k), 'w') as f:
            f.write('0x%04x\n' % v)
    with open(os.path.join(d, 'resource'), 'w') as f:
        f.write(z + z + ('0x0000000800000000 0x0000000803ffffff '
                         '0x000000000014220c\n' if bar else z) + z * 4)
    if drv:
        os.makedirs(os.path.join(root, 'bus/pci/drivers', drv),
                    exist_ok=True)
        os.symlink(os.path.relpath(os.path.join(root, 'bus/pci/drivers', drv),
                                   d), os.path.join(d, 'driver'))
    if group is not None:
        g = os.path.join(root, 'kernel/iommu_groups', str(group))
        os.makedirs(g, exist_ok=True)
        with open(os.path.join(g, 'type'), 'w') as f:
            f.write(gtype + '\n')
        os.symlink(os.path.relpath(g, d), os.path.join(d, 'iommu_group'))
    os.symlink(os.path.relpath(d, os.path.join(root, 'bus/pci/devices')),
               os.path.join(root, 'bus/pci/devices', bdf))
