"""foveal's types: mypy passes over the package and the examples, and the stubs of the compiled
modules (_core.pyi, _cuda.pyi) list exactly the functions the bindings define, with the
bindings' argument names, defaults and None-or-not results."""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import subprocess
import sys
import types

import pytest
from foveal._backend import _core, _cuda

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python" / "foveal"

# (argument names with their defaults as source text or None, whether the result is None)
Signature = tuple[list[tuple[str, "str | None"]], bool]


def _signature(fn: ast.FunctionDef) -> Signature:
    args = fn.args.args
    defaults: list[str | None] = [None] * (len(args) - len(fn.args.defaults))
    defaults += [ast.unparse(d) for d in fn.args.defaults]
    returns_none = fn.returns is not None and ast.unparse(fn.returns) == "None"
    return [(a.arg, d) for a, d in zip(args, defaults, strict=True)], returns_none


def _stub_signatures(path: pathlib.Path) -> dict[str, Signature]:
    tree = ast.parse(path.read_text())
    return {n.name: _signature(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def _compiled_signatures(module: types.ModuleType) -> dict[str, Signature]:
    """pybind11 opens each function's docstring with ``name(arg: type = default) -> type``,
    which parses as the head of a Python def."""
    found = {}
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not isinstance(obj, types.BuiltinFunctionType):
            continue
        head = (obj.__doc__ or "").splitlines()[0]
        tree = ast.parse(f"def {head}: ...")
        assert isinstance(tree.body[0], ast.FunctionDef)
        found[name] = _signature(tree.body[0])
    return found


def _compare(module: types.ModuleType, stub: pathlib.Path) -> None:
    compiled = _compiled_signatures(module)
    stubs = _stub_signatures(stub)
    assert compiled, f"{module.__name__} defines no functions"
    missing = sorted(set(compiled) - set(stubs))
    extra = sorted(set(stubs) - set(compiled))
    assert not missing, f"bindings without a stub in {stub.name}: {missing}"
    assert not extra, f"stubs in {stub.name} without a binding: {extra}"
    for name, (params, returns_none) in compiled.items():
        stub_params, stub_none = stubs[name]
        assert stub_params == params, f"{stub.name}: {name} arguments differ from the binding's"
        assert stub_none == returns_none, f"{stub.name}: {name} result differs from the binding's"


def test_core_stub_matches_the_bindings():
    _compare(_core, PACKAGE / "_core.pyi")


def test_cuda_stub_matches_the_bindings():
    if _cuda is None:
        pytest.skip("foveal was built without the CUDA module")
    _compare(_cuda, PACKAGE / "_cuda.pyi")


def test_cuda_emu_stub_matches_the_bindings():
    try:
        from foveal import _cuda_emu
    except ImportError:
        pytest.skip("foveal was built without the emulated CUDA module")
    _compare(_cuda_emu, PACKAGE / "_cuda_emu.pyi")


def test_stub_comparison_sees_a_missing_stub(tmp_path):
    """The comparison fails when a binding has no stub (as after adding one to the C++)."""
    text = (PACKAGE / "_core.pyi").read_text().replace("def canny(", "def canny_renamed(")
    (tmp_path / "_core.pyi").write_text(text)
    with pytest.raises(AssertionError, match="canny"):
        _compare(_core, tmp_path / "_core.pyi")


def test_mypy_passes_on_the_package_and_the_examples():
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install foveal[test])")
    # The settings are pyproject.toml's [tool.mypy]; its cache keeps a second run to seconds.
    cmd = [sys.executable, "-m", "mypy", "python/foveal", "examples"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
