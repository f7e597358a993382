"""The bad-input contract over the op table: every public function x every bad-input class of
op_core.BAD_CLASSES. An exception whose message starts with the function's name and names the
argument (TypeError for types and dtypes, ValueError for shapes, sizes and values), or a
correct answer; never a crash, a hang, or a partial write to out=.

The classes every entry gets from its metadata (non-array objects, unsupported dtypes, wrong
ranks, empty dimensions, out= of the wrong shape, dtype or kind, read-only, aliasing an input,
never partially written, arrays at offsets past 2**31 bytes) are generated here; the others are
the error inputs each entry declares. ``python tests/op_table.py`` prints the coverage matrix.
"""

from __future__ import annotations

import math
import mmap
import re

import numpy as np
import pytest
from op_table import (
    BAD_CLASSES,
    BY_NAME,
    OPS,
    Sample,
    assert_identical,
    bad_dtypes,
    coverage_matrix,
    format_matrix,
    leaves,
    run_all,
    to_numpy,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
]

WITH_ARRAYS = [op.name for op in OPS if op.arrays]
WITH_OUT = [op.name for op in OPS if op.out]


def expect_error(op, sample: Sample, exc, match: str) -> Exception:
    """The call raises ``exc``; its message starts with the function's name and matches
    ``match`` (which names the argument)."""
    try:
        op.func(*sample.args, **sample.kwargs)
    except exc as e:
        msg = str(e)
        assert msg.startswith(f"{op.name}:"), f"the message does not name {op.name}: {msg!r}"
        assert re.search(match, msg), f"{msg!r} does not match {match!r}"
        return e
    raise AssertionError(f"no {exc} for {sample.desc or 'the call'} (match {match!r})")


def replaced(sample: Sample, key, value) -> Sample:
    return sample.with_arg(key, value).replace(desc=f"{key} = {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------


def test_coverage_matrix_is_complete(capsys):
    """Every function x bad-input class is covered or marked not applicable, with a reason."""
    matrix = coverage_matrix()
    missing = [(f, c) for f, row in matrix.items() for c, v in row.items() if v == "MISSING"]
    with capsys.disabled():
        print("\n" + format_matrix(matrix))
    assert not missing, missing
    for row in matrix.values():
        assert set(row) == set(BAD_CLASSES)


@pytest.mark.parametrize("name", [op.name for op in OPS])
def test_declared_error_inputs(name):
    """Each declared error input raises its exception (or, with none, gives the reference's
    answer)."""
    op = BY_NAME[name]
    errors = op.errors(op.base())

    def body(s):
        e = next(e for e in errors if e.sample is s)
        if e.exc is None:
            op.check(op.func(*s.args, **s.kwargs), op.ref(s), s)
        else:
            expect_error(op, s, e.exc, e.match)

    run_all([e.sample for e in errors], body)


# --------------------------------------------------------------------------------------------
# the main input and the other array arguments
# --------------------------------------------------------------------------------------------

NOT_ARRAYS = (None, object(), "image", {"a": 1}, 3.5)


@pytest.mark.parametrize("name", WITH_ARRAYS)
def test_not_an_array(name):
    op = BY_NAME[name]
    base = op.base()
    cases = []
    for key, arg in op.arrays.items():
        values = NOT_ARRAYS if key == op.main else (object(), "text")
        if key == op.main and not op.lists_ok:
            values = (*values, [[1, 2], [3, 4]])
        cases += [(replaced(base, key, v), arg) for v in values]
    if op.lists_ok:  # lists of points are contours; a list of strings is not
        cases = [(s, a) for s, a in cases if not isinstance(s.arg(op.main), float)]

    def body(s):
        arg = next(a for c, a in cases if c is s)
        expect_error(op, s, (TypeError, ValueError) if op.lists_ok else TypeError, arg)

    run_all([s for s, _ in cases], body)


def _zeros(shape, dtype: str) -> np.ndarray:
    return np.zeros(shape, object) if dtype == "object" else np.zeros(shape, dtype)


@pytest.mark.parametrize("name", WITH_ARRAYS)
def test_unsupported_dtype(name):
    """A TypeError that names the argument and the dtypes it takes."""
    op = BY_NAME[name]
    base = op.base()
    x = base.arg(op.main)
    pattern = op.dtype_message or (
        rf"{op.main_name} dtype .* not supported.*{re.escape(', '.join(op.dtypes))}"
    )
    cases = [replaced(base, op.main, _zeros(np.shape(x), d)) for d in (*bad_dtypes(op), "object")]
    cases = [c.replace(desc=f"dtype {c.arg(op.main).dtype}") for c in cases]
    try:
        import torch
    except ImportError:
        pass
    else:  # a torch dtype NumPy has no name for
        bf16 = torch.zeros(np.shape(x), dtype=torch.bfloat16)
        cases.append(replaced(base, op.main, bf16).replace(desc="torch.bfloat16"))

    def body(s):
        bf16 = s.desc == "torch.bfloat16"
        expect_error(op, s, TypeError, rf"{op.main_name} dtype .*bfloat16" if bf16 else pattern)

    run_all(cases, body)


def _with_rank(x: np.ndarray, rank: int) -> np.ndarray:
    """``x``'s values with ``rank`` dimensions (the trailing ones merged or padded with 1)."""
    if rank == 0:
        return np.asarray(x.reshape(-1)[0] if x.size else 0, x.dtype).reshape(())
    if rank <= x.ndim:
        return x.reshape(*x.shape[: rank - 1], -1)
    return x.reshape(*x.shape, *(1,) * (rank - x.ndim))


@pytest.mark.parametrize(
    "name", [n for n in WITH_ARRAYS if BY_NAME[n].ranks or BY_NAME[n].min_rank]
)
def test_wrong_rank(name):
    op = BY_NAME[name]
    base = op.base()
    x = np.asarray(base.arg(op.main))
    if op.ranks is None:
        bad = range(op.min_rank)
    else:
        bad = [r for r in range(max(op.ranks) + 2) if r not in op.ranks]
    cases = [replaced(base, op.main, _with_rank(x, r)).replace(desc=f"rank {r}") for r in bad]
    run_all(cases, lambda s: expect_error(op, s, ValueError, op.main_name))


@pytest.mark.parametrize("name", WITH_ARRAYS)
def test_empty_dimensions(name):
    """A zero-size dimension: a ValueError naming the argument, or (where documented, a batch
    of zero images, a contour of no points) the reference's empty result."""
    op = BY_NAME[name]
    base = op.base()
    x = np.asarray(base.arg(op.main))
    cases = []
    for axis in range(x.ndim):
        empty = x[(slice(None),) * axis + (slice(0, 0),)]
        cases.append(replaced(base, op.main, empty).replace(desc=f"axis {axis} of {x.shape}"))

    def body(s):
        axis = int(s.desc.split()[1])
        if axis in op.empty_ok_axes:
            op.check(op.func(*s.args, **s.kwargs), op.ref(s), s)
        else:
            expect_error(op, s, ValueError, rf"{op.main_name}|empty")

    run_all(cases, body)


# --------------------------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------------------------


def _result(op, sample):
    """The call's result: an array, or for out="pair" a pair of arrays."""
    r = to_numpy(op.func(*sample.args, **sample.kwargs))
    return tuple(r) if op.out == "pair" else (r[0] if isinstance(r, tuple) else r)


def _sentinel(like: np.ndarray) -> np.ndarray:
    return (
        np.full(like.shape, 7, like.dtype)
        if like.dtype.kind != "f"
        else np.full(like.shape, -0.5, like.dtype)
    )


def _sentinel_out(op, want):
    return tuple(_sentinel(w) for w in want) if op.out == "pair" else _sentinel(want)


@pytest.mark.parametrize("name", WITH_OUT)
def test_bad_out(name):
    """out= of another shape, dtype, byte order or kind, or read-only: refused, naming out,
    and a read-only out= is left as it was."""
    op = BY_NAME[name]
    base = op.base()
    want = _result(op, base)
    one = want[0] if op.out == "pair" else want
    wrong = {
        "shape": (ValueError, np.empty((*one.shape[:-1], one.shape[-1] + 1), one.dtype)),
        "dtype": (TypeError, np.empty(one.shape, np.complex64)),
        "byte order": (TypeError, np.empty(one.shape, one.dtype.newbyteorder())),
        "kind": (TypeError, [[0]]),
    }
    if one.dtype.itemsize == 1:
        del wrong["byte order"]
    cases = []
    for what, (exc, bad) in wrong.items():
        outs = [bad] if op.out == "array" else [(bad, want[1].copy()), (want[0].copy(), bad)]
        cases += [(base.replace(kwargs={**base.kwargs, "out": o}, desc=what), exc) for o in outs]

    def body(s):
        expect_error(op, s, next(e for c, e in cases if c is s), "out")

    run_all([c for c, _ in cases], body)
    ro = _sentinel_out(op, want)
    for a in leaves(ro):
        a.flags.writeable = False
    before = [a.copy() for a in leaves(ro)]
    expect_error(op, base.replace(kwargs={**base.kwargs, "out": ro}), ValueError, "out.*read-only")
    for a, b in zip(leaves(ro), before, strict=True):
        assert_identical(a, b, "read-only out= was written")


def _overlapping(x: np.ndarray, like: np.ndarray, shift: int):
    """(a copy of x, an array of like's shape and dtype) in one buffer, the second starting
    ``shift`` items of like's dtype after the first: partly overlapping memory."""
    step = math.lcm(x.itemsize, like.itemsize)
    start = shift * like.itemsize // step * step
    size = max(x.nbytes, start + like.nbytes) + step
    buf = np.zeros(size, np.uint8)
    xin = buf[: x.nbytes].view(x.dtype).reshape(x.shape)
    xin[...] = x
    out = buf[start : start + like.nbytes].view(like.dtype).reshape(like.shape)
    return xin, out


@pytest.mark.parametrize("name", WITH_OUT)
def test_out_aliasing_an_input(name):
    """out= sharing memory with an input (the input itself where shape and dtype allow, or a
    shifted view into the same buffer): the right answer, or a refusal naming out."""
    op = BY_NAME[name]

    def body(s):
        want = _result(op, s)
        for key, value in [*enumerate(s.args), *s.kwargs.items()]:
            if not isinstance(value, np.ndarray) or value.ndim == 0 or value.size == 0:
                continue
            targets = want if op.out == "pair" else (want,)
            for i, target in enumerate(targets):
                variants = [(shift, target) for shift in (0, 1, max(1, target.size // 2))]
                if value.shape == target.shape and value.dtype == target.dtype:
                    variants.append(("same", target))
                for shift, t in variants:
                    if shift == "same":
                        xin = value.copy()
                        out = xin
                    else:
                        xin, out = _overlapping(value, t, shift)
                    outs = (
                        out
                        if op.out == "array"
                        else tuple(out if j == i else np.empty_like(w) for j, w in enumerate(want))
                    )
                    call = s.with_arg(key, xin)
                    try:
                        got = op.func(*call.args, **call.kwargs, out=outs)
                    except (TypeError, ValueError) as e:
                        assert "out" in str(e), f"{key} shift {shift}: {e}"
                        continue
                    res = to_numpy(got)
                    res = res[i] if op.out == "pair" or isinstance(res, tuple) else res
                    assert_identical(np.asarray(res), t, f"{key} aliased (shift {shift})")

    run_all(op.sweep(op.dtypes[-1])[:6], body)


@pytest.mark.parametrize("name", WITH_OUT)
def test_no_partial_write_on_error(name):
    """Every declared error input, and the generic bad main inputs, called with out= full of a
    sentinel: the error is raised and out= is untouched."""
    op = BY_NAME[name]
    base = op.base()
    want = _result(op, base)
    x = base.arg(op.main)
    bad = [e.sample for e in op.errors(base) if e.exc is not None and "out" not in e.sample.kwargs]
    bad.append(replaced(base, op.main, object()))
    bad += [replaced(base, op.main, _zeros(np.shape(x), d)) for d in bad_dtypes(op)[:3]]

    def body(s):
        out = _sentinel_out(op, want)
        before = [a.copy() for a in leaves(out)]
        with pytest.raises((TypeError, ValueError)):
            op.func(*s.args, **s.kwargs, out=out)
        for a, b in zip(leaves(out), before, strict=True):
            assert_identical(a, b, "out= was written before the error")

    run_all(bad, body)


# --------------------------------------------------------------------------------------------
# offsets past 2**31 bytes: 64-bit index arithmetic, with no memory behind the gaps
# --------------------------------------------------------------------------------------------

HUGE_STRIDE = (1 << 31) + 192  # bytes between rows; a multiple of every itemsize


def _far_apart(x: np.ndarray):
    """``x``'s values in an array whose first axis longer than 1 (the last kept contiguous)
    strides HUGE_STRIDE bytes, in an anonymous mapping that is reserved, not committed:
    only the touched pages take memory. 32 bytes of 0xFF (NaN, -1, max) on either side of each
    contiguous block change the result of any read just outside it. Returns (array,
    mapping)."""
    axis = next((a for a in range(x.ndim - 1) if x.shape[a] > 1), 0)
    strides = [0] * x.ndim
    step = x.itemsize
    for a in range(x.ndim - 1, -1, -1):
        strides[a] = HUGE_STRIDE if a == axis else step
        step = strides[a] * x.shape[a]
    size = step + 4096
    flags = (
        mmap.MAP_PRIVATE
        | getattr(mmap, "MAP_ANONYMOUS", 0x20)
        | getattr(mmap, "MAP_NORESERVE", 0x4000)
    )
    mem = mmap.mmap(-1, size, flags=flags)
    block = x.itemsize * math.prod(x.shape[axis + 1 :])
    junk = np.lib.stride_tricks.as_strided(
        np.frombuffer(mem, np.uint8, count=1, offset=64 - 32),
        (*x.shape[: axis + 1], block + 64),
        (*strides[: axis + 1], 1),
        writeable=True,
    )
    junk[...] = 0xFF
    view = np.lib.stride_tricks.as_strided(
        np.frombuffer(mem, x.dtype, count=1, offset=64), x.shape, strides, writeable=True
    )
    view[...] = x
    return view, mem


@pytest.mark.parametrize("name", WITH_ARRAYS)
def test_offsets_past_2_to_31_bytes(name):
    """The main input with rows more than 2 GiB apart: the contiguous call's result, bit for
    bit (a 32-bit offset would read the wrong memory or crash)."""
    op = BY_NAME[name]

    def body(s):
        x = s.arg(op.main)
        if not isinstance(x, np.ndarray) or x.size == 0:
            return
        want = to_numpy(op.func(*s.args, **s.kwargs))
        far, mem = _far_apart(x)
        assert far.strides[next((a for a in range(x.ndim - 1) if x.shape[a] > 1), 0)] > 1 << 31
        call = s.with_arg(op.main, far)
        assert_identical(to_numpy(op.func(*call.args, **call.kwargs)), want, "far apart")
        del far, call

    run_all([op.base(d) for d in op.dtypes], body)


# --------------------------------------------------------------------------------------------
# regressions: bugs these tests found, kept as plain tests
# --------------------------------------------------------------------------------------------


def test_draw_contours_errors_leave_out_untouched():
    """The image was copied into out= before C++ checked find_contours-style int32 contours."""
    import foveal

    img = np.arange(20, dtype=np.uint8).reshape(4, 5)
    for bad in (np.ones((2, 3), np.int32), np.array([[0, 0], [(1 << 31) - 1, 0]], np.int32)):
        out = np.full_like(img, 99)
        with pytest.raises(ValueError, match=r"draw_contours: contours\[0\]"):
            foveal.draw_contours(img, [bad], out=out)
        assert (out == 99).all()
    out = np.full_like(img, 99)
    near = np.array([[0, 0], [(1 << 20) - 1, 0]], np.int32)  # in range, but not with the offset
    with pytest.raises(ValueError, match="with offset"):
        foveal.draw_contours(img, [near], offset=(2, 0), out=out)
    assert (out == 99).all()


def test_draw_contours_out_overlapping_the_image():
    """out= sharing the image's buffer one pixel on was taken for the image itself (not
    copied), drawing onto shifted pixels."""
    import foveal

    buf = np.arange(40, dtype=np.uint8)
    img, out = buf[:20].reshape(4, 5), buf[1:21].reshape(4, 5)
    c = [np.array([[1, 1], [3, 1], [3, 2]], np.int32)]
    want = foveal.draw_contours(img.copy(), c, color=200)
    np.testing.assert_array_equal(foveal.draw_contours(img, c, color=200, out=out), want)


def test_draw_contours_refuses_a_hierarchy_with_no_top_level_contour():
    import foveal

    pt = np.array([[0, 0], [2, 3]], np.int32)
    cyclic = np.array([[-1, -1, 1, 1], [-1, -1, 0, 0]], np.int32)
    with pytest.raises(ValueError, match="draw_contours: hierarchy has a cycle"):
        foveal.draw_contours(np.zeros((4, 4), np.uint8), [pt, pt], -1, hierarchy=cyclic)


def test_sdpa_out_sharing_memory_with_the_mask():
    """out= over a float attn_mask's memory was written while the kernel read the mask."""
    import foveal.nn as fnn

    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 8, 4)) for _ in range(3))
    mask = rng.standard_normal((2, 8, 8))
    want = fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    m = mask.copy()
    out = m.reshape(-1)[: want.size].reshape(want.shape)
    got = fnn.scaled_dot_product_attention(q, k, v, attn_mask=m, out=out)
    np.testing.assert_array_equal(got, want)


def test_segment_colors_names_itself_and_refuses_wrong_ranks_with_value_error():
    import foveal

    img = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match="^segment_colors: k must be >= 1"):
        foveal.segment_colors(img, 0)
    with pytest.raises(ValueError, match="^segment_colors: image must be 2-D"):
        foveal.segment_colors(img[None], 2)
    with pytest.raises(TypeError, match="^segment_colors: image dtype int32"):
        foveal.segment_colors(img.astype(np.int32), 2)


@pytest.mark.parametrize("size", [1 << 31, (1 << 16, 1 << 15), ((1 << 31) - 1, (1 << 31) - 1)])
def test_adaptive_pool_refuses_output_planes_past_2_to_31(size):
    """NumPy's "array is too big" (or an 8 GiB allocation) came before any check."""
    import foveal.nn as fnn

    x = np.ones((1, 1, 4, 4), np.float32)
    for fn in (fnn.adaptive_avg_pool2d, fnn.adaptive_max_pool2d):
        with pytest.raises(ValueError, match="output_size"):
            fn(x, size)


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


@pytest.mark.parametrize("fn", ["erode", "box_filter"])
def test_element_count_past_2_to_31(thorough, fn):
    """A uint8 image of 2**31 + 2**16 pixels (a broadcast view: one byte of memory) through
    the row kernels: a constant image stays constant, every pixel written (64-bit counts).
    2 GiB out and ~25 s: FOVEAL_HYPOTHESIS_PROFILE=thorough only, with 6 GiB available."""
    if not thorough:
        pytest.skip("FOVEAL_HYPOTHESIS_PROFILE=thorough only (2 GiB, ~25 s)")
    if _available_bytes() < 6 << 30:
        pytest.skip("needs 6 GiB of available memory")
    import foveal

    img = np.broadcast_to(np.full(1, 7, np.uint8), (1 << 16, (1 << 15) + 1))
    out = np.zeros(img.shape, np.uint8)
    if fn == "erode":
        foveal.erode(img, 3, out=out)
    else:
        foveal.box_filter(img, 3, out=out)
    assert out.min() == 7 and out.max() == 7
