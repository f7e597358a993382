"""The generic tests over the op table (op_table.py): every public function x every dtype x
every sample of its fixed sweep against foveal.reference, against its anchor (cv2, torch,
scikit-learn) where installed, and repeated in every memory layout (F-order, negative
strides, step-2 slices, offset views, torch tensors), where the result must be identical to
the contiguous one, bit for bit. Samples are collected per (function, dtype) and every
failing sample is reported."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from op_table import (
    BY_NAME,
    LAYOUTS,
    OPS,
    Skip,
    assert_identical,
    leaves,
    public_functions,
    relayout,
    run_all,
    to_numpy,
)

# the reference warns on the NaN it computes on purpose (inf - inf, 0 * inf)
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning"),
]

CASES = [pytest.param(op.name, d, id=f"{op.name}-{d}") for op in OPS for d in op.dtypes]
ANCHORED = [
    pytest.param(op.name, d, id=f"{op.name}-{d}")
    for op in OPS
    if op.anchor
    for d in op.anchor_dtypes or op.dtypes
]
ANCHOR_MODULES = {"cv2": "cv2", "torch": "torch", "sklearn": "sklearn.cluster"}


def snapshot(sample):
    """Copies of the sample's array arguments, to show that nothing mutates them."""
    return [
        a.copy()
        for a in leaves([*sample.args, *sample.kwargs.values()])
        if isinstance(a, np.ndarray)
    ]


def test_the_table_has_every_public_function():
    assert {op.name for op in OPS} == public_functions()


@pytest.mark.parametrize("name,dtype", CASES)
def test_against_reference(name, dtype):
    op = BY_NAME[name]

    def body(s):
        before = snapshot(s)
        got = op.func(*s.args, **s.kwargs)
        after = snapshot(s)
        for a, b in zip(before, after, strict=True):
            assert_identical(a, b, "an input was modified")
        op.check(got, op.ref(s), s)

    run_all(op.sweep(dtype), body)


@pytest.mark.parametrize("name,dtype", ANCHORED)
def test_against_anchor(name, dtype):
    op = BY_NAME[name]
    pytest.importorskip(ANCHOR_MODULES[op.anchor_name])
    compared = []

    def body(s):
        try:
            want = op.anchor(s)
        except Skip:
            return
        compared.append(s)
        (op.anchor_check or op.check)(op.func(*s.args, **s.kwargs), want, s)

    run_all(op.sweep(dtype), body)
    if not compared:
        pytest.skip(f"{op.anchor_name} covers no {dtype} sample of {name}")


@pytest.mark.parametrize("name,dtype", [c for c in CASES if BY_NAME[c.values[0]].arrays])
def test_layouts(name, dtype):
    """Every sample in every layout: the contiguous call's result, bit for bit (torch tensors
    come back as torch tensors)."""
    op = BY_NAME[name]
    try:
        import torch
    except ImportError:  # the other layouts still run
        torch = None
    layouts = [k for k in LAYOUTS if k != "torch" or torch is not None]

    def body(s):
        want = to_numpy(op.func(*s.args, **s.kwargs))
        for layout in layouts:
            v = relayout(s, layout)
            got = op.func(*v.args, **v.kwargs)
            if layout == "torch" and op.wraps_kind:
                first = next(x for x in leaves(got) if not isinstance(x, (int, float, type(None))))
                assert isinstance(first, torch.Tensor), f"torch: got a {type(first).__name__}"
            assert_identical(to_numpy(got), want, layout)

    run_all(op.sweep(dtype), body)


def _out_like(result):
    """A fresh array (or pair) of the result's shape and dtype, full of junk."""
    if isinstance(result, tuple):
        return tuple(_out_like(r) for r in result)
    junk = np.nan if result.dtype.kind == "f" else 7
    return np.full(result.shape, junk, result.dtype)


def _first(result):
    return result[0] if isinstance(result, tuple) and not hasattr(result, "shape") else result


@pytest.mark.parametrize("name,dtype", [c for c in CASES if BY_NAME[c.values[0]].out])
def test_out(name, dtype):
    """out= (contiguous, and a step-2 view whose gaps must stay untouched) receives the
    result, bit for bit, and is what the call returns."""
    op = BY_NAME[name]

    def body(s):
        want = to_numpy(op.func(*s.args, **s.kwargs))
        target = want if op.out == "pair" else _first(want)
        out = _out_like(target)
        got = op.func(*s.args, **s.kwargs, out=out)
        assert _first(got) is _first(out) if op.out == "array" else got[0] is out[0]
        assert_identical(out, target, "out=")
        for o, t in zip(
            out if op.out == "pair" else (out,),
            target if op.out == "pair" else (target,),
            strict=True,
        ):
            del o, t
        strided = LAYOUTS["step2"](_out_like(target)) if op.out == "array" else None
        if strided is not None:
            base = strided.base
            before = base.copy()
            op.func(*s.args, **s.kwargs, out=strided)
            assert_identical(strided, target, "out= step-2 view")
            gaps = np.ones(base.shape, bool)
            gaps[tuple(slice(1, 1 + 2 * n, 2) for n in strided.shape)] = False
            np.testing.assert_array_equal(base[gaps], before[gaps], "written outside out=")

    run_all(op.sweep(dtype), body)


def test_anchor_modules_load_lazily():
    """The table imports no anchor at import time (so that it runs where they are absent)."""
    for op in OPS:
        if op.anchor:
            assert op.anchor_name in ANCHOR_MODULES, op.name
    importlib.import_module("op_table")


# --------------------------------------------------------------------------------------------
# regressions: bugs the sweep found, kept as plain tests
# --------------------------------------------------------------------------------------------


def test_bounding_rect_of_points_far_apart_in_a_small_dtype():
    """The width was computed in the points' dtype: int8 points 200 apart wrapped around."""
    import foveal

    pts = np.array([[-100, -90], [100, 110]], np.int8)
    assert foveal.bounding_rect(pts) == (-100, -90, 201, 201)
    wide = np.array([[-30000, -27000], [30000, 32000]], np.int16)
    assert foveal.bounding_rect(wide) == (-30000, -27000, 60001, 59001)


def test_reference_bounding_rect_floors_float_points():
    """foveal.reference truncated negative float coordinates toward zero; cv2 floors them."""
    import foveal
    from foveal import reference as R

    pts = np.array([[-1.5, 2.5], [3.2, -0.5]], np.float32)
    assert R.bounding_rect(pts) == foveal.bounding_rect(pts) == (-2, -1, 6, 4)


@pytest.mark.parametrize("name", ["luong_attention", "additive_attention"])
def test_attention_forms_do_not_depend_on_the_layout(name):
    """NumPy's matrix products round differently for F-order operands: the forms and the
    projections now work on C-contiguous copies, so every layout gives the same bits."""
    op = BY_NAME[name]
    s = op.sweep("float32")[3]
    want = to_numpy(op.func(*s.args, **s.kwargs))
    f = relayout(s, "fortran")
    assert_identical(to_numpy(op.func(*f.args, **f.kwargs)), want, name)
