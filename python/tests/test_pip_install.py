# SPDX-License-Identifier: MIT
"""`pip install .` at the repository root, into a fresh venv, with nothing
to download: the in-tree build backend builds the extension, and the
installed package imports and publishes, with no liblogbus installed."""

import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PipInstall(unittest.TestCase):

    def test_venv_install(self):
        with tempfile.TemporaryDirectory(prefix="logbus-venv-") as tmp:
            venv = os.path.join(tmp, "v")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
            out = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-cache-dir",
                                  ROOT], env=env, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            code = ("import logbus, os\n"
                    "assert logbus.__file__.startswith(os.environ['VIRTUAL_ENV']), logbus.__file__\n"
                    "with logbus.Bus('py-pip-install-check') as bus:\n"
                    "    print(bus.publish('info', 'installed'), bus.stats()['published'])\n")
            env.update(VIRTUAL_ENV=venv, LOGBUS_FALLBACK=os.devnull)
            out = subprocess.run([os.path.join(venv, "bin", "python"), "-c", code], env=env,
                                 capture_output=True, text=True, cwd=tmp)
            self.assertEqual((out.returncode, out.stdout), (0, "True 1\n"), out.stderr)


if __name__ == "__main__":
    unittest.main()
