#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""man3.py KERNEL_DOC HEADER OUTDIR: the section-3 man pages of HEADER's
kernel-doc comments, one file per function (OUTDIR/<name>.3) and per
struct (OUTDIR/<name>.3type), made by the kernel's `kernel-doc -man`
(Debian's linux-source ships it) and turned from its section 9 ("Kernel
API Manual") into a library's section 3.  Fails if kernel-doc fails or
warns."""
import os
import re
import subprocess
import sys
import time


def main():
    kdoc, header, outdir = sys.argv[1:4]
    env = dict(os.environ)
    # The pages' date: SOURCE_DATE_EPOCH if set, else the header's mtime.
    when = int(env.get('SOURCE_DATE_EPOCH') or os.stat(header).st_mtime)
    env['KBUILD_BUILD_TIMESTAMP'] = time.strftime('%Y-%m-%d',
                                                  time.gmtime(when))
    r = subprocess.run([sys.executable, kdoc, '-man', '-Wall', '-M',
                        'libp2pmr', header], capture_output=True, text=True,
                       env=env)
    if r.returncode or r.stderr.strip():
        sys.stderr.write(r.stderr)
        sys.exit('man3: kernel-doc failed on %s (exit %d)' %
                 (header, r.returncode))
    pages = re.split(r'(?m)^(?=\.TH ")', r.stdout)
    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):
        if old.endswith(('.3', '.3type')):
            os.unlink(os.path.join(outdir, old))
    n = 0
    for page in pages:
        m = re.match(r'\.TH "(struct |union |enum )?(\w+)" 9 ', page)
        if not m:
            continue
        kind, name = m.group(1), m.group(2)
        sect = '3type' if kind else '3'
        page = re.sub(r'^\.TH "[^"]*" 9 ', '.TH "%s" %s ' % (name, sect),
                      page)
        page = page.replace('"Kernel API Manual"', '"libp2pmr Manual"', 1)
        page = re.sub(r'\\fB(struct|union|enum) (\w+)\\fR\(9\)',
                      r'\\fB\2\\fR(3type)', page)
        page = page.replace('\\fR(9)', '\\fR(3)')
        page = page.replace('Kernel file \\fB%s\\fR' % header,
                            'Header \\fB<%s>\\fR, \\fBp2pmr\\fR(1),' %
                            os.path.basename(header))
        with open(os.path.join(outdir, '%s.%s' % (name, sect)), 'w') as f:
            f.write(page)
        n += 1
    if not n:
        sys.exit('man3: kernel-doc wrote no page for %s' % header)
    print('man3: %d pages in %s' % (n, outdir))


main()
