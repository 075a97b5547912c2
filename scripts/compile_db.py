# SPDX-License-Identifier: MIT
"""The compiles meson records in BUILDDIR/compile_commands.json, for the
scripts that read the tree as the compiler does (include-graph.py,
unused-code.py)."""
import json
import os
import sys


def compile_commands(builddir, tool):
    """The list of compile commands of builddir; exits naming tool and the
    cause when the file cannot be read."""
    path = os.path.join(builddir, 'compile_commands.json')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f'{tool}: cannot read {path}: {e}')


def source_of(root, command):
    """The source file of a compile command, relative to root."""
    return os.path.relpath(os.path.normpath(os.path.join(command['directory'],
                                                         command['file'])), root)
