#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""json_check.py FILE COMMAND: FILE holds exactly one JSON object, p2pmr's
--json output for COMMAND, in the schema p2pmr(1) documents (version 1).
Prints what is wrong and exits 1 if it does not."""
import json
import sys

# A schema is a type, a tuple of alternatives, a list of one schema (an
# array of those) or a dict of keys (a key ending in '?' is optional; the
# key '...' allows keys not listed).
U64 = int
RANGE = {'offset': U64, 'length': U64}
TARGET = {'device': str, 'bar': {'index': int, 'size': U64}}
SCHEMAS = {
    'list': {'devices': [{
        'address': str, 'driver': (str, None), 'vendor_id': str,
        'device_id': str,
        'iommu_group': ({'id': int, 'noiommu': bool}, None),
        'bars': [{'index': int, 'type': str, 'prefetchable': bool,
                  'start': U64, 'size': U64}]}]},
    'export': dict(TARGET, dmabuf={'fd': int, 'size': int,
                                   'ranges': [RANGE]},
                   **{'sent?': {'socket': str},
                      'run?': {'argv': [str], 'pid': int, 'exit': int}}),
    'mr-check': dict(TARGET, dmabuf={'size': int, 'ranges': [RANGE]},
                     rdma={'device': str, 'port': int, 'gid_index': int,
                           'gid_type': str},
                     check={'ranges_tested': U64, 'bytes': U64,
                            'cpu_view': str, 'cpu_ranges_checked': U64,
                            'seconds': (float, int)}),
    'doctor': {'device': str, 'problems': int,
               'checks': [{'check': str, 'result': str, 'found': str,
                           'fix?': str}]},
    'status': {'devices': [{
        'address': str, 'readable': bool, 'error?': str,
        'unparsed?': [str],
        'dmabufs': [{'inode': U64, 'device': str, 'bar': int, 'size': U64,
                     '...': True,
                     'ranges': [dict(RANGE, index=int)],
                     'attachments': [{'importer': str, '...': True}]}]}]},
}
ERROR = {'errno': int, 'exit': int, 'message': str}


def check(v, schema, path, errs):
    if isinstance(schema, tuple):
        sub = []
        for alt in schema:
            e = []
            check(v, alt, path, e)
            if not e:
                return
            sub.append(e)
        errs.append('%s: %r matches none of the alternatives (%s)' %
                    (path, v, '; '.join(e[0] for e in sub)))
    elif schema is None:
        if v is not None:
            errs.append('%s: %r is not null' % (path, v))
    elif isinstance(schema, list):
        if not isinstance(v, list):
            errs.append('%s: not an array' % path)
            return
        for i, x in enumerate(v):
            check(x, schema[0], '%s[%d]' % (path, i), errs)
    elif isinstance(schema, dict):
        if not isinstance(v, dict):
            errs.append('%s: not an object' % path)
            return
        keys = set()
        for k, s in schema.items():
            if k == '...':
                continue
            opt = k.endswith('?')
            k = k.rstrip('?')
            keys.add(k)
            if k in v:
                check(v[k], s, path + '.' + k, errs)
            elif not opt:
                errs.append('%s: no key "%s"' % (path, k))
        if '...' not in schema:
            for k in v:
                if k not in keys:
                    errs.append('%s: unexpected key "%s"' % (path, k))
    elif schema is int:
        if not isinstance(v, int) or isinstance(v, bool):
            errs.append('%s: %r is not an integer' % (path, v))
    elif schema is float:
        if not isinstance(v, float):
            errs.append('%s: %r is not a number' % (path, v))
    elif not isinstance(v, schema) or (schema is int and
                                       isinstance(v, bool)):
        errs.append('%s: %r is not %s' % (path, v, schema.__name__))


def main():
    path, command = sys.argv[1], sys.argv[2]
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8')
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        print('not one JSON object in valid UTF-8: %s' % e)
        return 1
    if not text.endswith('}\n') or text.count('\n') != 1:
        print('not one line ending in a newline')
        return 1
    head = {'command': (str, None), 'version': int, 'ok': bool}
    schema = dict(head)
    if isinstance(obj, dict) and obj.get('ok') is True:
        schema.update(SCHEMAS[command])
    else:
        schema['error'] = ERROR
    errs = []
    check(obj, schema, '$', errs)
    if isinstance(obj, dict):
        if obj.get('version') != 1:
            errs.append('$.version: %r, want 1' % obj.get('version'))
        if obj.get('command') not in (command, None):
            errs.append('$.command: %r, want %r' % (obj.get('command'),
                                                    command))
    if command == 'doctor' and isinstance(obj, dict) and obj.get('ok'):
        checks = obj.get('checks') or []
        for c in checks:
            if c.get('result') not in ('yes', 'no', 'info', 'unknown'):
                errs.append('doctor: result %r' % c.get('result'))
            if (c.get('result') == 'no') != ('fix' in c):
                errs.append('doctor: a "no" needs a fix, only a "no": %r' % c)
        if obj.get('problems') != sum(c.get('result') == 'no'
                                      for c in checks):
            errs.append('doctor: "problems" is not the number of "no"s')
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
