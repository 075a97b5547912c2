#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Code that nothing uses: functions and data, and source files.

Usage: unused-code.py BUILDDIR

Reads the object files meson built in BUILDDIR (nm(1), BUILDDIR's
compile_commands.json) and the sources beside this script, and exits 1
naming:
- each external symbol an object of the product (the folders of PRODUCT)
  defines that no other object references, unless it is an entry point
  (ENTRY_POINTS), liblogbus's public API (a function libclient/include/
  declares) or made by the compiler (a leading __, as a sanitizer's);
  one that only its own file uses should be static;
- each .c file of the product that no compile names;
- each .h file of the product that no file includes.
It also lists the symbols that only tests or benchmarks reference, which
is allowed (a test may look inside), so that a reader sees them.
"""
import os
import re
import subprocess
import sys

from compile_db import compile_commands, source_of

PRODUCT = ('common', 'shm', 'libclient', 'writer', 'monitor', 'query', 'python')
CHECKERS = ('tests', 'bench', 'examples')
ENTRY_POINTS = re.compile(r'^(main|PyInit_\w+|logbus_hook_plugin)$')
COMPILER_MADE = re.compile(r'^__')
PUBLIC_DECL = re.compile(r'\b(logbus_\w+)\s*\(')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def compiles(root, builddir):
    """Each compile as (source-relative source file, object file path)."""
    for c in compile_commands(builddir, 'unused-code'):
        yield source_of(root, c), os.path.join(c['directory'], c['output'])


def nm(obj, flag):
    out = subprocess.run(['nm', flag, obj], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def public_api(root):
    names = set()
    inc = os.path.join(root, 'libclient', 'include')
    for name in os.listdir(inc):
        with open(os.path.join(inc, name), encoding='utf-8') as f:
            names.update(PUBLIC_DECL.findall(f.read()))
    return names


def unused_symbols(root, builddir):
    """(unused, used by checks only): lines naming file and symbol."""
    defined, by_product, by_checks = {}, set(), set()
    for src, obj in compiles(root, builddir):
        folder = src.split('/', 1)[0]
        if folder in PRODUCT:
            for parts in nm(obj, '--defined-only'):
                if len(parts) == 3 and parts[1] in 'TDBRV':   # external, defined here
                    defined.setdefault(parts[2], src)
        if folder in PRODUCT + CHECKERS:
            users = by_product if folder in PRODUCT else by_checks
            users.update(parts[-1] for parts in nm(obj, '--undefined-only'))
    api = public_api(root)
    unused, checks_only = [], []
    for sym, src in sorted(defined.items()):
        if (sym in by_product or sym in api or ENTRY_POINTS.match(sym) or
                COMPILER_MADE.match(sym)):
            continue
        (checks_only if sym in by_checks else unused).append(f'{src}: {sym}')
    return unused, checks_only


def unused_files(root, builddir):
    out = subprocess.run(['git', '-C', root, 'ls-files', '*.c', '*.h'],
                         capture_output=True, text=True, check=True).stdout.split()
    compiled = {src for src, _ in compiles(root, builddir)}
    included = set()
    for rel in out:
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
            included.update(os.path.basename(n) for n in INCLUDE.findall(f.read()))
    bad = []
    for rel in out:
        if rel.split('/', 1)[0] not in PRODUCT:
            continue
        if rel.endswith('.c') and rel not in compiled:
            bad.append(f'{rel}: no compile names it')
        if rel.endswith('.h') and os.path.basename(rel) not in included:
            bad.append(f'{rel}: no file includes it')
    return bad


def main(argv):
    if len(argv) != 1 or argv[0].startswith('-'):
        sys.exit('usage: unused-code.py BUILDDIR')
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    builddir = os.path.abspath(argv[0])
    unused, checks_only = unused_symbols(root, builddir)
    files = unused_files(root, builddir)
    for line in checks_only:
        print(f'only tests or benchmarks use {line}')
    for line in unused:
        print(f'unused-code: nothing uses {line}', file=sys.stderr)
    for line in files:
        print(f'unused-code: {line}', file=sys.stderr)
    if unused or files:
        return 1
    print('unused-code: every product symbol and file has a user')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
