"""One version everywhere: the package's __version__, its installed metadata, the compiled core's
foveal::version() and (from a source checkout) CMake's project version are the same string, all
read from cpp/include/foveal/version.hpp."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
from pathlib import Path

import foveal
import pytest
from foveal import _core

# A source checkout (an editable install, or tests run beside the sources): the repository root.
_ROOT = Path(foveal.__file__).resolve().parents[2]
_HEADER = _ROOT / "cpp" / "include" / "foveal" / "version.hpp"
_CMAKE_VERSION = _ROOT / "cmake" / "FovealVersion.cmake"


def test_python_metadata_and_core_agree():
    assert foveal.__version__ == importlib.metadata.version("foveal") == _core.version()


def test_version_is_three_numbers():
    assert re.fullmatch(r"\d+\.\d+\.\d+", foveal.__version__), foveal.__version__


@pytest.mark.skipif(not _HEADER.is_file(), reason="not run from a source checkout")
def test_header_numbers_are_the_version():
    text = _HEADER.read_text(encoding="utf-8")
    parts = [
        re.search(rf"^#define FOVEAL_VERSION_{part} (\d+)$", text, re.MULTILINE)
        for part in ("MAJOR", "MINOR", "PATCH")
    ]
    assert all(parts), "version.hpp must define FOVEAL_VERSION_MAJOR, _MINOR and _PATCH"
    assert ".".join(m.group(1) for m in parts if m) == foveal.__version__


@pytest.mark.skipif(not _CMAKE_VERSION.is_file(), reason="not run from a source checkout")
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_cmake_reads_the_same_version():
    proc = subprocess.run(
        ["cmake", "-P", str(_CMAKE_VERSION)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == foveal.__version__
