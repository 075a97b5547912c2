# SPDX-License-Identifier: MIT
"""The package without its C extension, or with one that does not load,
fails at import with an ImportError that says what is missing and how to
get it, instead of an AttributeError later."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import logbus


class MissingLibrary(unittest.TestCase):

    def import_copy(self, extension_bytes):
        """Import a copy of the package whose extension is extension_bytes
        (None: no extension); returns the child's stderr and status."""
        root = tempfile.mkdtemp(prefix="logbus-import-")
        self.addCleanup(shutil.rmtree, root)
        package = os.path.dirname(logbus.__file__)
        copy = os.path.join(root, "logbus")
        os.mkdir(copy)
        for name in os.listdir(package):
            if name.endswith(".py"):
                shutil.copy(os.path.join(package, name), copy)
            elif name.startswith("_logbus.") and name.endswith(".so") and extension_bytes:
                with open(os.path.join(copy, name), "wb") as f:
                    f.write(extension_bytes)
        env = dict(os.environ, PYTHONPATH=root)
        out = subprocess.run([sys.executable, "-c", "import logbus"], env=env,
                             capture_output=True, text=True)
        return out.returncode, out.stderr.strip().splitlines()[-1]

    def test_no_extension(self):
        status, last = self.import_copy(None)
        self.assertNotEqual(status, 0)
        self.assertRegex(last, r"^ImportError: logbus: its C extension logbus\._logbus cannot "
                         r"be loaded \(.*\); install the package with 'pip install \.'")

    def test_broken_extension(self):
        status, last = self.import_copy(b"not an ELF file\n" * 256)
        self.assertNotEqual(status, 0)
        self.assertRegex(last, r"^ImportError: logbus: its C extension logbus\._logbus cannot "
                         r"be loaded \(.*invalid ELF header.*\)")


if __name__ == "__main__":
    unittest.main()
