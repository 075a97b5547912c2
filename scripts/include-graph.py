#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The include graph of logbus, module by module, and its layering check.

Usage: include-graph.py [--check] [BUILDDIR]

Reads every .c/.h under the module folders, resolves each #include "..."
with the include paths meson gives the compiles (BUILDDIR/compile_commands.json,
BUILDDIR defaults to build/), assigns each file to a module by folder and
prints the module graph: one line per module with the modules it includes
and how many include lines go there. Then, for each folder of
ACYCLIC_FOLDERS, the graph of its units: a unit is a .c file and its .h
(shm/bus.c and shm/bus.h are shm/bus), with the units of the folder it
includes.

With --check it exits 1 naming each include of a module the layer order
below does not allow (a lower layer including a higher one, or one tool
including another), each cycle among files of different modules, and each
cycle among the units of an ACYCLIC_FOLDERS folder (bus.c including
stats.h while stats.c includes bus.h, say).
"""
import os
import re
import shlex
import sys

from compile_db import compile_commands, source_of

# The layer order, bottom first. A module may include its own files and
# those of any module on a lower line; modules on one line are peers and do
# not include each other. A folder belongs to the longest prefix listed.
LAYERS = [
    ['common'],            # common/: text, buffers, JSON escaping, clocks, /proc
    ['shm'],               # shm/: the shared byte layouts and their algorithms
    ['public'],            # libclient/include/: the public headers
    ['libclient'],         # libclient/: liblogbus and logbus-cat
    ['writer', 'monitor', 'query'],  # the tools (writer/hooks/ is the writer's)
]
MODULE_FOLDERS = {
    'common': 'common',
    'shm': 'shm',
    'libclient/include': 'public',
    'libclient': 'libclient',
    'writer': 'writer',
    'monitor': 'monitor',
    'query': 'query',
}
# Folders that may include anything: they are scanned, but never checked.
FREE_FOLDERS = ('tests', 'bench', 'examples', 'python')
# Folders whose units (a .c file and its .h) include each other in no
# cycle: each builds only on those below it, so it reads, and tests, alone.
# writer/hooks/ is one unit written in several files around its internal
# header hooks_impl.h, so it is not listed.
ACYCLIC_FOLDERS = ('common', 'shm', 'libclient', 'writer', 'monitor', 'query')

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def module_of(rel):
    """The module a source-relative path belongs to, or None."""
    best = None
    for folder, module in MODULE_FOLDERS.items():
        if rel.startswith(folder + '/') and (best is None or len(folder) > len(best[0])):
            best = (folder, module)
    if best:
        return best[1]
    top = rel.split('/', 1)[0]
    return top if top in FREE_FOLDERS else None


def rank_of(module):
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    return None


def source_files(root):
    for folder in list(MODULE_FOLDERS) + list(FREE_FOLDERS):
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for name in names:
                if name.endswith(('.c', '.h')):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def include_dirs(root, builddir):
    """-I directories per source folder, as meson passes them."""
    per_folder, every = {}, []
    for c in compile_commands(builddir, 'include-graph'):
        cwd = c['directory']
        args = c.get('arguments') or shlex.split(c['command'])
        dirs = []
        for i, a in enumerate(args):
            d = args[i + 1] if a == '-I' and i + 1 < len(args) else a[2:] if a.startswith('-I') else None
            if d is not None:
                dirs.append(os.path.normpath(os.path.join(cwd, d)))
        src = source_of(root, c)
        folder = os.path.dirname(src)
        per_folder.setdefault(folder, [])
        for d in dirs:
            if d not in per_folder[folder]:
                per_folder[folder].append(d)
            if d not in every:
                every.append(d)
    return per_folder, every


def resolve(root, rel, name, per_folder, every, by_name):
    """The source-relative file `#include "name"` in rel reaches, or None
    (a system header, or one generated into the build directory). A header
    the folder's own include paths do not reach is looked up among every
    scanned file by its name: a file reached through another folder's
    paths (a shm header that names a monitor one) still counts."""
    folder = os.path.dirname(rel)
    for d in [os.path.join(root, folder)] + per_folder.get(folder, every):
        cand = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(cand):
            cand = os.path.relpath(cand, root)
            return cand if module_of(cand) else None
    found = by_name.get(name, [])
    if len(found) > 1:
        sys.exit(f'include-graph: {rel}: #include "{name}" could be any of {", ".join(found)}')
    return found[0] if found else None


def build_graph(root, builddir):
    per_folder, every = include_dirs(root, builddir)
    files = sorted(source_files(root))
    by_name = {}
    for rel in files:
        parts = rel.split('/')
        for i in range(len(parts)):
            by_name.setdefault('/'.join(parts[i:]), []).append(rel)
    edges = {}
    for rel in files:
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
            names = INCLUDE.findall(f.read())
        edges[rel] = [t for t in (resolve(root, rel, n, per_folder, every, by_name) for n in names) if t]
    return edges


def bad_includes(edges):
    bad = []
    for src, targets in edges.items():
        m = module_of(src)
        if m in FREE_FOLDERS:
            continue
        for t in targets:
            tm = module_of(t)
            if tm == m:
                continue
            if tm is None or rank_of(tm) is None or rank_of(tm) >= rank_of(m):
                kind = 'a peer' if rank_of(tm) == rank_of(m) else 'a higher layer'
                bad.append(f'{src} ({m}) includes {t} ({tm}): {kind}')
    return bad


def cycles(graph):
    """The strongly connected components of graph (node -> nodes) that hold
    more than one node, each sorted (Tarjan's algorithm)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def cross_module_cycles(edges):
    """Cycles among files that span more than one module."""
    return [c for c in cycles(edges) if len({module_of(f) for f in c}) > 1]


def unit_of(rel):
    """The unit of a file: its path without .c or .h."""
    return os.path.splitext(rel)[0]


def unit_graph(edges, folder):
    """The includes among the units of folder's own files (not of its
    subfolders): unit -> the other units it includes."""
    graph = {}
    for src, targets in edges.items():
        if os.path.dirname(src) != folder:
            continue
        outs = graph.setdefault(unit_of(src), set())
        outs.update(unit_of(t) for t in targets
                    if os.path.dirname(t) == folder and unit_of(t) != unit_of(src))
    return graph


def print_graph(edges):
    counts = {}
    for src, targets in edges.items():
        for t in targets:
            key = (module_of(src), module_of(t))
            if key[0] != key[1]:
                counts[key] = counts.get(key, 0) + 1
    modules = [m for layer in LAYERS for m in layer] + list(FREE_FOLDERS)
    for m in modules:
        outs = [f'{t} ({counts[(m, t)]})' for t in modules if (m, t) in counts]
        print(f'{m:9} -> {", ".join(outs) if outs else "-"}')
    for folder in ACYCLIC_FOLDERS:
        graph = unit_graph(edges, folder)
        width = max(len(u) for u in graph) if graph else 0
        print()
        for u in sorted(graph):
            outs = sorted(graph[u])
            print(f'{u:{width}} -> {", ".join(outs) if outs else "-"}')


def main(argv):
    check = '--check' in argv
    rest = [a for a in argv if a != '--check']
    if len(rest) > 1 or any(a.startswith('-') for a in rest):
        sys.exit('usage: include-graph.py [--check] [BUILDDIR]')
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    builddir = os.path.abspath(rest[0]) if rest else os.path.join(root, 'build')
    edges = build_graph(root, builddir)
    print_graph(edges)
    if not check:
        return 0
    problems = bad_includes(edges)
    for cycle in cross_module_cycles(edges):
        problems.append('include cycle across modules among ' + ', '.join(cycle))
    for folder in ACYCLIC_FOLDERS:
        for cycle in cycles(unit_graph(edges, folder)):
            problems.append(f'include cycle in {folder}/ among ' + ', '.join(cycle))
    for p in problems:
        print('include-graph: ' + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
