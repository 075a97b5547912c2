# SPDX-License-Identifier: MIT
"""The PEP 517 build backend of the logbus Python package, in the tree.

It configures the logbus meson project for the interpreter that runs it,
builds only the extension target, and packs the files meson tags
python-runtime into a wheel. It imports nothing beyond the standard
library (tomli on Python < 3.11), so `pip install .` needs no download and
works the same with PyPI and without: pip's isolated build environment
sees nothing of the system's site-packages, so a backend from there
(Debian's python3-mesonpy) could not be found by pip, and meson-python
0.12 would pack everything the project installs (the writer, its systemd
unit, headers) into the wheel, where only the package belongs.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTENSION_NAME = "_logbus"  # the extension_module in python/logbus/meson.build
WHEEL_SCHEMES = ("{py_platlib}/", "{py_purelib}/")


def _load_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def _run(*argv, cwd=None):
    """Run a build command; its output goes to stderr, which pip shows on
    failure (and with -v)."""
    result = subprocess.run(argv, cwd=cwd, stdout=sys.stderr, stderr=sys.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"logbus build: '{' '.join(argv)}' failed with status "
                           f"{result.returncode} (see the output above)")


def _introspect(build_dir, what):
    out = subprocess.run(["meson", "introspect", build_dir, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def _extension_target(build_dir):
    """The extension's target as `meson compile` names it: meson puts the
    interpreter's suffix into the name of an extension_module."""
    for target in _introspect(build_dir, "--targets"):
        if target["type"] == "shared module" and target["name"].split(".")[0] == EXTENSION_NAME:
            return target["name"]
    raise RuntimeError(f"logbus build: meson defines no extension {EXTENSION_NAME}")


def _configure(build_dir):
    native = os.path.join(build_dir, "python-native.ini")
    os.makedirs(build_dir, exist_ok=True)
    with open(native, "w") as f:
        f.write(f"[binaries]\npython = {sys.executable!r}\n")
    _run("meson", "setup", build_dir, SOURCE_DIR, "--buildtype=release", "-Dtests=disabled",
         f"--native-file={native}")


def _wheel_tag():
    soabi = sysconfig.get_config_var("SOABI") or ""
    parts = soabi.split("-")
    if len(parts) < 2 or parts[0] != "cpython":
        raise RuntimeError(f"logbus build: interpreter {sys.executable} is not CPython "
                           f"(SOABI {soabi!r}): the extension is a CPython one")
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-cp{parts[1]}-{platform}"


def _metadata(project, version):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
             f"Summary: {project.get('description', '')}"]
    if "license" in project:
        lines.append(f"License: {project['license'].get('text', '')}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    return "\n".join(lines) + "\n"


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _package_files(build_dir):
    """(source path, path in the wheel) of every python-runtime file."""
    files = []
    for entries in _introspect(build_dir, "--install-plan").values():
        for path, details in entries.items():
            destination = details["destination"]
            if details.get("tag") != "python-runtime":
                continue
            for scheme in WHEEL_SCHEMES:
                if destination.startswith(scheme):
                    files.append((path, destination[len(scheme):]))
    if not files:
        raise RuntimeError("logbus build: meson installs no python-runtime file")
    return sorted(files, key=lambda f: f[1])


def get_requires_for_build_wheel(config_settings=None):
    """Nothing, except tomli where the standard library has no tomllib."""
    return [] if sys.version_info >= (3, 11) else ["tomli"]


get_requires_for_build_sdist = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """Build the extension for this interpreter and write the wheel."""
    project = _load_toml(os.path.join(SOURCE_DIR, "pyproject.toml"))["project"]
    with tempfile.TemporaryDirectory(prefix="logbus-wheel-") as tmp:
        build_dir = os.path.join(tmp, "build")
        _configure(build_dir)
        _run("meson", "compile", "-C", build_dir, _extension_target(build_dir))
        version = _introspect(build_dir, "--projectinfo")["version"]
        files = _package_files(build_dir)
        tag = _wheel_tag()
        dist_info = f"{project['name']}-{version}.dist-info"
        name = f"{project['name']}-{version}-{tag}.whl"
        record = []
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                             zipfile.ZIP_DEFLATED) as wheel:
            def add(arcname, data):
                wheel.writestr(arcname, data)
                record.append(_record_line(arcname, data))
            for path, arcname in files:
                with open(path, "rb") as f:
                    add(arcname, f.read())
            add(f"{dist_info}/METADATA", _metadata(project, version).encode())
            add(f"{dist_info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: logbus_pep517\n"
                                       f"Root-Is-Purelib: false\nTag: {tag}\n").encode())
            record.append(f"{dist_info}/RECORD,,")
            wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return name


def _source_files():
    """The files of the source tree: git's list when it is a clone, else
    every file outside build directories and dot-directories."""
    try:
        out = subprocess.run(["git", "-C", SOURCE_DIR, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return sorted(p for p in out.decode().split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for root, dirs, names in os.walk(SOURCE_DIR):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
            paths += [os.path.relpath(os.path.join(root, n), SOURCE_DIR) for n in names]
        return sorted(paths)


def build_sdist(sdist_directory, config_settings=None):
    """The source tree as logbus-VERSION.tar.gz, with PKG-INFO."""
    project = _load_toml(os.path.join(SOURCE_DIR, "pyproject.toml"))["project"]
    with tempfile.TemporaryDirectory(prefix="logbus-sdist-") as tmp:
        _configure(os.path.join(tmp, "build"))
        version = _introspect(os.path.join(tmp, "build"), "--projectinfo")["version"]
        base = f"{project['name']}-{version}"
        pkg_info = os.path.join(tmp, "PKG-INFO")
        with open(pkg_info, "w") as f:
            f.write(_metadata(project, version))
        name = f"{base}.tar.gz"
        with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
            for path in _source_files():
                sdist.add(os.path.join(SOURCE_DIR, path), f"{base}/{path}", recursive=False)
            sdist.add(pkg_info, f"{base}/PKG-INFO")
    return name
