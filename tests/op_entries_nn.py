"""The op table's entries for foveal.nn: convolution, pooling, patches and attention (see
op_table.py for what an entry holds).

The references compute in float64; a float result must lie within rtol * max(1, scale) of the
reference rounded to the op's dtype (rtol 1e-5 for float32, 1e-12 for float64, test_nn's and
test_attention's rule), where scale is the largest magnitude the same computation reaches on
|inputs| (conv2d of |x| and |w| plus |b|, the pool of |x|, max |value| for attention, whose
outputs are convex combinations of values). Max pools, their indices and the patch layouts are
exact.
"""

from __future__ import annotations

import math

import foveal.nn as fnn
import numpy as np
from foveal.reference import attention as RA
from foveal.reference import nn as RN
from op_core import (
    RTOL,
    E,
    ErrorInput,
    OpInfo,
    Picker,
    Sample,
    assert_close,
    assert_exact,
    big_broadcast,
    to_numpy,
)

FLOAT_DTYPES = ("float32", "float64")

# (N, C, H, W) and unbatched (C, H, W): 1x1, 1xN, Nx1, widths around the vector widths (8
# float32 / 4 float64 lanes with AVX2, 16-column panels), enough channels for K = C / groups
# * kh * kw past the GEMM's K blocks
NN_SHAPES = (
    (1, 1, 1, 1),
    (1, 2, 1, 33),
    (2, 1, 33, 1),
    (1, 3, 5, 31),
    (2, 2, 4, 32),
    (1, 1, 3, 33),
    (1, 2, 6, 63),
    (1, 1, 2, 64),
    (1, 1, 7, 65),
    (3, 9, 11),
    (1, 24, 7, 9),
)


def draw_nn_shape(p: Picker) -> tuple:
    shape = (p.integer(1, 3), p.integer(1, 6), p.integer(1, 20), p.integer(1, 70))
    return shape[1:] if p.coin(0.2) else shape


def nn_input(p: Picker, shape, dtype, nan: bool = False) -> np.ndarray:
    x = p.normal(shape, dtype, 3.0)
    if nan and x.size > 2 and p.coin(0.2):
        x.flat[p.integer(0, x.size - 1)] = np.nan
    return x


def nn_spec(value, dtype, scale: float, exact: bool = False) -> dict:
    return {"value": value, "dtype": np.dtype(dtype), "scale": scale, "exact": exact}


def _cast(value, dtype):
    if isinstance(value, tuple):
        return tuple(_cast(v, dtype) for v in value)
    if value is None:
        return None
    v = np.asarray(value)
    return v.astype(dtype) if v.dtype.kind == "f" else v


def check_nn(got, spec: dict, s: Sample) -> None:
    """Float results within rtol * max(1, scale) of the float64 reference (rounded to the op's
    dtype); integer results (indices) and exact ops exactly."""
    got = to_numpy(got)
    want = _cast(spec["value"], spec["dtype"])
    atol = RTOL[spec["dtype"].name] * max(1.0, spec["scale"])
    items = zip(got, want, strict=True) if isinstance(want, tuple) else [(got, want)]
    assert isinstance(got, tuple) == isinstance(want, tuple), s.desc
    for i, (g, w) in enumerate(items):
        if w is None:
            assert g is None, f"{s.desc}[{i}]"
        elif spec["exact"]:
            assert_exact(g, w, f"{s.desc}[{i}]")
        else:
            assert_close(g, w, atol, f"{s.desc}[{i}]")


def torch_anchor(fn):
    """fn(torch, sample) on torch tensors made from the sample's arrays; results as NumPy."""

    def anchor(s: Sample):
        import torch

        conv = lambda v: torch.from_numpy(v) if isinstance(v, np.ndarray) else v  # noqa: E731
        res = fn(
            torch.nn.functional,
            *(conv(a) for a in s.args),
            **{k: conv(v) for k, v in s.kwargs.items()},
        )
        spec = NN_ENTRY_REFS[fn.__name__](s)
        value = tuple(r.numpy() for r in res) if isinstance(res, tuple) else res.numpy()
        # torch rounds too: twice the tolerance
        return {**spec, "value": value, "scale": 2 * spec["scale"]}

    return anchor


NN_ENTRY_REFS: dict = {}


def nn_errors_common(base: Sample, name: str = "input") -> list[ErrorInput]:
    x = base.args[0]
    return [
        E(
            "huge_count",
            base,
            ValueError,
            f"{name} of shape .* too large",
            args={0: big_broadcast((1, 1, 1, (1 << 31) + 3), x.dtype)},
        ),
        E(
            "huge_count",
            base,
            ValueError,
            f"{name} of shape .* too large",
            args={0: big_broadcast((1, 1, 1 << 31, 1), x.dtype)},
        ),
    ]


NN_NA = {
    "nonfinite": "floats are data: NaN and inf propagate as in torch",
    "option": "no option string",
}


def nn_entry(name, make, ref, errors, *, anchor=None, arrays=None, na=None, **extra):
    return OpInfo(
        name=name,
        func=getattr(fnn, name),
        dtypes=FLOAT_DTYPES,
        make=make,
        shapes=NN_SHAPES,
        draw_shape=draw_nn_shape,
        ref=ref,
        check=check_nn,
        anchor=anchor,
        anchor_name="torch" if anchor else "",
        errors=errors,
        arrays=arrays or {0: "input"},
        ranks=(3, 4),
        empty_ok_axes=(0,),
        out="array",
        na={k: v for k, v in {**NN_NA, **(na or {})}.items() if v},
        **extra,
    )


# --------------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------------


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def make_conv2d(p: Picker, dtype: str, shape) -> Sample:
    x = nn_input(p, shape, dtype)
    c, h, w = shape[-3:]
    groups = p.choice(_divisors(c))
    c_out = groups * p.choice((1, 2, 3, 5, 6, 7)) if p.coin(0.8) else groups * 13
    stride = p.choice((1, 1, 2, 3, (1, 2), (2, 1)))
    dilation = p.choice((1, 1, 2, (1, 2)))
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    dh, dw = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    mode = p.choice(("int", "pair", "same", "valid")) if (sh, sw) == (1, 1) else "int"
    ph, pw = (p.integer(0, 2), p.integer(0, 2)) if mode == "pair" else (p.integer(0, 2),) * 2
    if mode in ("same", "valid"):
        ph = pw = 0
    kh = min(p.integer(1, 5), (h + 2 * ph - 1) // dh + 1)
    kw = min(p.integer(1, 5), (w + 2 * pw - 1) // dw + 1)
    padding = {"int": ph, "pair": (ph, pw), "same": "same", "valid": "valid"}[mode]
    wt = p.normal((c_out, c // groups, kh, kw), dtype)
    b = p.normal((c_out,), dtype) if p.coin() else None
    return Sample(
        (x, wt, b), {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    )


def ref_conv2d(s: Sample) -> dict:
    x, w, b = s.args
    value = RN.conv2d(x, w, b, **s.kwargs)
    bound = RN.conv2d(np.abs(x), np.abs(w), None if b is None else np.abs(b), **s.kwargs)
    return nn_spec(value, x.dtype, float(np.max(bound, initial=0.0)))


def _conv2d_torch(F, x, w, b, **kw):  # noqa: N803
    return F.conv2d(x, w, b, **kw)


def conv2d_errors(base: Sample) -> list[ErrorInput]:
    x, w, b = base.args
    dt = x.dtype
    other = np.float32 if dt == np.float64 else np.float64
    return [
        *nn_errors_common(base),
        E("not_array", base, TypeError, "weight must be an array", args={1: object()}),
        E("dtype", base, TypeError, "weight dtype .* differs", args={1: w.astype(other)}),
        E("rank", base, ValueError, "weight must be 4-D", args={1: w[0]}),
        E("empty", base, ValueError, "weight must not be empty", args={1: w[:0]}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "expects .* input channels",
            args={1: np.ones((2, x.shape[-3] + 1, 1, 1), dt)},
            groups=1,
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "bias must have",
            args={2: np.ones(w.shape[0] + 1, dt)},
        ),
        E("rank", base, ValueError, "bias must be 1-D", args={2: np.ones((1, w.shape[0]), dt)}),
        E("size", base, ValueError, "groups", groups=0),
        E(
            "size",
            base,
            ValueError,
            "groups=.* must divide",
            args={1: np.ones((3, 1, 1, 1), dt)},
            groups=3 if x.shape[-3] % 3 else 2 * x.shape[-3],
        ),
        E("size", base, ValueError, "stride", stride=0),
        E("size", base, ValueError, "stride", stride=(1, 1 << 32)),
        E("size", base, ValueError, "dilation", dilation=-1),
        E("size", base, ValueError, "padding", padding=-1),
        E(
            "option",
            base,
            ValueError,
            "padding must be an int, a pair, 'same' or 'valid'",
            padding="full",
        ),
        E("size", base, ValueError, "padding='same' needs stride 1", padding="same", stride=2),
        E(
            "kernel_too_large",
            base,
            ValueError,
            "larger than the input",
            args={1: np.ones((1, x.shape[-3], x.shape[-2] + 1, 1), dt)},
            groups=1,
            padding=0,
            dilation=1,
        ),
        E(
            "kernel_too_large",
            base,
            ValueError,
            "larger than the input",
            args={1: np.ones((1, x.shape[-3], 2, 2), dt)},
            groups=1,
            padding=0,
            dilation=x.shape[-1] + 1,
        ),
    ]


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


def pick_pool(p: Picker, h: int, w: int, *, dilation: bool, padding: bool) -> dict:
    """Kernel, stride, padding (<= half the kernel), dilation and ceil_mode with at least one
    output."""
    dh, dw = (p.choice((1, 1, 2)), p.choice((1, 1, 2))) if dilation else (1, 1)
    kh = min(p.integer(1, 5), (h - 1) // dh + 1)
    kw = min(p.integer(1, 5), (w - 1) // dw + 1)
    kw_args: dict = {"kernel_size": (kh, kw) if kh != kw or p.coin() else kh}
    if p.coin(0.6):
        kw_args["stride"] = p.choice((1, 2, 3, (1, 2), (3, 1)))
    if padding:
        kw_args["padding"] = (p.integer(0, kh // 2), p.integer(0, kw // 2))
    if dilation and (dh, dw) != (1, 1):
        kw_args["dilation"] = (dh, dw)
    kw_args["ceil_mode"] = p.coin()
    return kw_args


def make_max_pool2d(p: Picker, dtype: str, shape) -> Sample:
    x = nn_input(p, shape, dtype, nan=True)
    kw = pick_pool(p, *shape[-2:], dilation=True, padding=True)
    kw["return_indices"] = p.coin(0.4)
    return Sample((x,), kw)


def ref_max_pool2d(s: Sample) -> dict:
    return nn_spec(RN.max_pool2d(*s.args, **s.kwargs), s.args[0].dtype, 0.0, exact=True)


def _max_pool2d_torch(F, x, **kw):  # noqa: N803
    return F.max_pool2d(x, **kw)


def pool_errors(base: Sample, *, dilation: bool = True, padding: bool = True):
    plain = {"stride": 1, "ceil_mode": False}  # no padding or dilation to grow the input
    plain.update({"padding": 0} if padding else {})
    plain.update({"dilation": 1} if dilation else {})
    e = [
        *nn_errors_common(base),
        E("size", base, ValueError, "kernel_size", kernel_size=0),
        E("size", base, ValueError, "kernel_size", kernel_size=(2, 1 << 32)),
        E("size", base, TypeError, "kernel_size", kernel_size=2.0),
        E("size", base, ValueError, "stride", stride=(0, 1)),
        E(
            "kernel_too_large",
            base,
            ValueError,
            "output would be empty",
            kernel_size=(base.args[0].shape[-2] + 3, 1),
            **plain,
        ),
    ]
    if padding:
        e += [
            E("size", base, ValueError, "padding must be at most half", kernel_size=2, padding=2),
            E("size", base, ValueError, "padding", padding=-1),
        ]
    if dilation:
        e.append(E("size", base, ValueError, "dilation", dilation=0))
    return e


def make_avg_pool2d(p: Picker, dtype: str, shape) -> Sample:
    x = nn_input(p, shape, dtype)
    kw = pick_pool(p, *shape[-2:], dilation=False, padding=True)
    kw["count_include_pad"] = p.coin()
    if p.coin(0.25):
        kw["divisor_override"] = p.integer(1, 9)
    return Sample((x,), kw)


def ref_avg_pool2d(s: Sample) -> dict:
    x = s.args[0]
    bound = RN.avg_pool2d(np.abs(x), **s.kwargs)
    return nn_spec(RN.avg_pool2d(*s.args, **s.kwargs), x.dtype, float(np.max(bound, initial=0)))


def _avg_pool2d_torch(F, x, **kw):  # noqa: N803
    return F.avg_pool2d(x, **kw)


def make_lp_pool2d(p: Picker, dtype: str, shape) -> Sample:
    x = nn_input(p, shape, dtype)
    norm = p.choice((1, 2, 3, 1.5, 0.5))
    if norm != int(norm) and p.coin(0.7):
        x = np.abs(x)  # fractional powers of negatives are NaN (as torch): sometimes
    kw = pick_pool(p, *shape[-2:], dilation=False, padding=False)
    return Sample((x, norm), kw)


def ref_lp_pool2d(s: Sample) -> dict:
    x, norm = s.args
    bound = RN.lp_pool2d(np.abs(x), norm, **s.kwargs)
    return nn_spec(RN.lp_pool2d(x, norm, **s.kwargs), x.dtype, float(np.nanmax(bound, initial=0)))


def _lp_pool2d_torch(F, x, norm, **kw):  # noqa: N803
    return F.lp_pool2d(x, norm, **kw)


def lp_pool2d_errors(base: Sample) -> list[ErrorInput]:
    return [
        *pool_errors(base, dilation=False, padding=False),
        E("size", base, ValueError, "norm_type must be > 0", args={1: 0}),
        E("nonfinite", base, ValueError, "norm_type must be finite", args={1: np.inf}),
        E("nonfinite", base, ValueError, "norm_type must be finite", args={1: np.nan}),
    ]


def pick_output_size(p: Picker, h: int, w: int):
    form = p.choice(("int", "pair", "none"))
    if form == "int":
        return p.integer(1, max(h, w) + 2)
    oh, ow = p.integer(1, h + 2), p.integer(1, w + 2)
    return (oh, None) if form == "none" else (oh, ow)


def make_adaptive(max_: bool):
    def make(p: Picker, dtype: str, shape) -> Sample:
        x = nn_input(p, shape, dtype, nan=max_)
        kw = {"return_indices": p.coin(0.4)} if max_ else {}
        return Sample((x, pick_output_size(p, *shape[-2:])), kw)

    return make


def ref_adaptive_avg(s: Sample) -> dict:
    x, size = s.args
    bound = RN.adaptive_avg_pool2d(np.abs(x), size)
    return nn_spec(RN.adaptive_avg_pool2d(x, size), x.dtype, float(np.max(bound, initial=0)))


def ref_adaptive_max(s: Sample) -> dict:
    return nn_spec(RN.adaptive_max_pool2d(*s.args, **s.kwargs), s.args[0].dtype, 0.0, True)


def _adaptive_avg_pool2d_torch(F, x, size):  # noqa: N803
    return F.adaptive_avg_pool2d(x, size)


def _adaptive_max_pool2d_torch(F, x, size, **kw):  # noqa: N803
    return F.adaptive_max_pool2d(x, size, **kw)


def adaptive_errors(base: Sample) -> list[ErrorInput]:
    return [
        *nn_errors_common(base),
        E("size", base, ValueError, "output_size", args={1: 0}),
        E("size", base, ValueError, "output_size", args={1: (2, -1)}),
        E("size", base, ValueError, "output_size", args={1: (1, 2, 3)}),
        E("size", base, ValueError, "output_size", args={1: 1 << 31}),
        E("size", base, TypeError, "output_size", args={1: 2.5}),
        E("kernel_too_large", base, None, args={1: (base.args[0].shape[-2] * 3 + 1, 2)}),
    ]


# --------------------------------------------------------------------------------------------
# patches
# --------------------------------------------------------------------------------------------


def make_patchify(p: Picker, dtype: str, shape) -> Sample:
    x = nn_input(p, shape, dtype)
    ph, pw = p.choice(_divisors(shape[-2])), p.choice(_divisors(shape[-1]))
    return Sample((x, (ph, pw) if ph != pw or p.coin() else ph))


def make_unpatchify(p: Picker, dtype: str, shape) -> Sample:
    s = make_patchify(p, dtype, shape)
    x, patch = s.args
    patches = RN.patchify(x, patch).astype(dtype)
    return Sample((patches, patch), {"image_size": shape[-2:]})


def patchify_errors(base: Sample) -> list[ErrorInput]:
    x = base.args[0]
    return [
        *nn_errors_common(base, "images"),
        E("size", base, ValueError, "patch_size", args={1: 0}),
        E("size", base, ValueError, "not a multiple of patch_size", args={1: (x.shape[-2] + 1, 1)}),
        E(
            "kernel_too_large",
            base,
            ValueError,
            "not a multiple of patch_size",
            args={1: (1, 2 * x.shape[-1])},
        ),
    ]


def unpatchify_errors(base: Sample) -> list[ErrorInput]:
    patches = base.args[0]
    return [
        E("size", base, ValueError, "patch_size", args={1: (0, 1)}),
        E(
            "size",
            base,
            ValueError,
            "features per patch are not a multiple",
            args={1: (patches.shape[-1] + 1, 1)},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "image_size .* does not hold",
            image_size=(patches.shape[-2] + 1, 1),
        ),
        E("size", base, ValueError, "image_size", image_size=(0, 4)),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "do not form a square grid",
            args={
                0: patches[..., :2, :] if patches.shape[-2] in (3, 5, 6, 7) else patches[..., :3, :]
            },
            image_size=None,
        ),
    ]


# --------------------------------------------------------------------------------------------
# attention
# --------------------------------------------------------------------------------------------

# (leading dims, L, S, E, Ev): L around the 48-query tiles, S around the 128-key tiles, E and
# Ev around the 16 / 8 columns of a panel
SDPA_SHAPES = (
    ((), 1, 1, 1, 1),
    ((2,), 1, 17, 3, 2),
    ((1, 2), 47, 48, 8, 8),
    ((2, 1), 48, 127, 16, 17),
    ((1, 1), 49, 128, 17, 3),
    ((3,), 5, 129, 64, 16),
    ((1, 2), 96, 33, 5, 5),
    ((2, 2, 1), 3, 257, 8, 1),
    ((), 129, 2, 1, 4),
    ((1, 4), 16, 16, 8, 8),
)


def draw_sdpa_shape(p: Picker) -> tuple:
    lead = tuple(p.integer(1, 3) for _ in range(p.integer(0, 2)))
    return (lead, p.integer(1, 140), p.integer(1, 270), p.integer(1, 24), p.integer(1, 24))


def make_sdpa(p: Picker, dtype: str, shape) -> Sample:
    lead, L, S, E_, Ev = shape
    kv_lead = lead
    kw: dict = {}
    if len(lead) >= 1 and lead[-1] > 1 and p.coin(0.4):
        groups = p.choice([g for g in _divisors(lead[-1]) if g > 1])
        kv_lead = (*lead[:-1], lead[-1] // groups)
        kw["enable_gqa"] = True
    q = p.normal((*lead, L, E_), dtype)
    k = p.normal((*kv_lead, S, E_), dtype)
    v = p.normal((*kv_lead, S, Ev), dtype, 2.0)
    mask = p.choice(("none", "causal", "bool", "float", "bool_row", "float_inf"))
    if mask == "causal":
        kw["is_causal"] = True
    elif mask != "none":
        mshape = {"bool": (L, S), "float": (*lead, L, S), "bool_row": (1, S)}.get(mask, (L, S))
        if mask.startswith("bool"):
            kw["attn_mask"] = p.binary(mshape, p.choice((0.3, 0.8, 1.0)))
        else:
            m = p.normal(mshape, dtype)
            if mask == "float_inf":
                m[p.rng().random(mshape) < 0.5] = -np.inf
            kw["attn_mask"] = m
    if p.coin(0.25):
        kw["scale"] = round(p.real(0.0, 1.0), 3)
    return Sample((q, k, v), kw)


def ref_sdpa(s: Sample) -> dict:
    q, k, v = s.args
    value = RA.scaled_dot_product_attention(q, k, v, **s.kwargs)
    return nn_spec(value, q.dtype, float(np.max(np.abs(v), initial=0.0)))


def _scaled_dot_product_attention_torch(F, q, k, v, **kw):  # noqa: N803
    return F.scaled_dot_product_attention(q, k, v, **kw)


def sdpa_errors(base: Sample) -> list[ErrorInput]:
    q, k, v = base.args
    dt = q.dtype
    other = np.float32 if dt == np.float64 else np.float64
    L, S = q.shape[-2], k.shape[-2]
    return [
        E("not_array", base, TypeError, "key must be an array", args={1: [[1.0]]}),
        E("dtype", base, TypeError, "key dtype .* differs", args={1: k.astype(other)}),
        E("dtype", base, TypeError, "value dtype", args={2: v.astype(np.int32)}),
        E(
            "rank",
            base,
            ValueError,
            "query, key and value must have the same rank",
            args={1: k[None]},
        ),
        E("rank", base, ValueError, "value must have at least 2", args={2: v.reshape(-1)}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "key must be",
            args={1: np.ones((*k.shape[:-1], k.shape[-1] + 1), dt)},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "key must be",
            args={1: np.ones((*k.shape[:-2], S + 1, k.shape[-1]), dt)},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "same leading dimensions",
            args={
                1: np.ones((3, *k.shape), dt),
                2: np.ones((3, *v.shape), dt),
                0: np.ones((2, *q.shape), dt),
            },
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "attn_mask of shape .* does not broadcast",
            attn_mask=np.ones((L + 1, S), bool),
            is_causal=False,
        ),
        E(
            "dtype",
            base,
            TypeError,
            "attn_mask",
            attn_mask=np.ones((L, S), np.int32),
            is_causal=False,
        ),
        E(
            "dtype",
            base,
            TypeError,
            "attn_mask dtype .* differs",
            attn_mask=np.ones((L, S), other),
            is_causal=False,
        ),
        E(
            "option",
            base,
            ValueError,
            "attn_mask and is_causal",
            attn_mask=np.ones((L, S), bool),
            is_causal=True,
        ),
        E("size", base, ValueError, "dropout_p must be 0", dropout_p=0.1),
        E("nonfinite", base, ValueError, "scale must be finite", scale=np.nan),
        E("nonfinite", base, ValueError, "dropout_p must be finite", dropout_p=np.inf),
        E(
            "empty",
            base,
            ValueError,
            "sequence lengths and head sizes must be >= 1",
            args={1: k[..., :0, :], 2: v[..., :0, :]},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "with enable_gqa",
            args={
                1: np.ones((3, 3, S, q.shape[-1]), dt),
                2: np.ones((3, 3, S, 2), dt),
                0: np.ones((3, 4, L, q.shape[-1]), dt),
            },
            enable_gqa=True,
            attn_mask=None,
            is_causal=False,
        ),
    ]


SDPA = OpInfo(
    name="scaled_dot_product_attention",
    func=fnn.scaled_dot_product_attention,
    dtypes=FLOAT_DTYPES,
    make=make_sdpa,
    shapes=SDPA_SHAPES,
    draw_shape=draw_sdpa_shape,
    ref=ref_sdpa,
    check=check_nn,
    errors=sdpa_errors,
    arrays={0: "query", 1: "key", 2: "value"},
    ranks=None,
    min_rank=2,
    out="array",
    na={"kernel_too_large": "no window (any L and S)"},
)


def _mha_shapes():
    # (N or None, L, S, D, heads)
    return (
        (None, 1, 1, 1, 1),
        (1, 1, 3, 4, 2),
        (2, 5, 7, 6, 3),
        (1, 48, 49, 8, 2),
        (2, 17, 129, 16, 4),
        (None, 9, 4, 12, 1),
        (3, 3, 3, 2, 2),
    )


def make_mha(p: Picker, dtype: str, shape) -> Sample:
    n, L, S, d, heads = shape
    lead = () if n is None else (n,)
    q = p.normal((*lead, L, d), dtype)
    kv = p.normal((*lead, S, d), dtype)
    same = p.coin(0.3) and L == S
    k = q if same else kv
    v = q if same else p.normal((*lead, S, d), dtype)
    w_in = p.normal((3 * d, d), dtype, 1 / math.sqrt(d))
    b_in = p.normal((3 * d,), dtype, 0.1) if p.coin() else None
    w_out = p.normal((d, d), dtype, 1 / math.sqrt(d))
    b_out = p.normal((d,), dtype, 0.1) if p.coin() else None
    kw: dict = {"need_weights": p.coin(0.4)}
    mask = p.choice(("none", "bool", "float", "causal", "per_head"))
    if mask == "bool":
        kw["attn_mask"] = p.binary((L, S), 0.3)
    elif mask == "float":
        kw["attn_mask"] = p.normal((L, S), dtype)
    elif mask == "causal":
        kw["attn_mask"] = ~np.tril(np.ones((L, S), bool))
        kw["is_causal"] = True
    elif mask == "per_head":
        kw["attn_mask"] = p.normal(((n or 1) * heads, L, S), dtype)
    if p.coin(0.3):
        kw["key_padding_mask"] = p.binary((*lead, S), 0.2)
    return Sample((q, k, v, heads, w_in, b_in, w_out, b_out), kw)


def ref_mha(s: Sample) -> dict:
    q, k, v, heads, w_in, b_in, w_out, b_out = s.args
    out, weights = RA.multi_head_attention(*s.args, **s.kwargs)
    d = q.shape[-1]
    vproj = np.abs(v.astype(np.float64) @ w_in[2 * d :].T.astype(np.float64))
    if b_in is not None:
        vproj = vproj + np.abs(b_in[2 * d :])
    scale = float(vproj.max()) * float(np.abs(w_out).sum(axis=1).max())
    scale += 0.0 if b_out is None else float(np.abs(b_out).max())
    return nn_spec((out, weights), q.dtype, 3 * scale)


def mha_errors(base: Sample) -> list[ErrorInput]:
    q, k, v, heads, w_in, b_in, w_out, b_out = base.args
    d = q.shape[-1]
    dt = q.dtype
    return [
        E("rank", base, ValueError, "query must be 2-D or 3-D", args={0: q.reshape(-1)}),
        E("rank", base, ValueError, "key must be", args={1: k[None]}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "key and value must be",
            args={2: np.ones((*v.shape[:-1], d + 1), dt)},
        ),
        E("size", base, ValueError, "num_heads", args={3: 0}),
        E("size", base, ValueError, "num_heads=.* must divide", args={3: d + 1}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "in_proj_weight must have shape",
            args={4: w_in[:-1]},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "out_proj_bias must have shape",
            args={7: np.ones(d + 1, dt)},
        ),
        E("not_array", base, TypeError, "in_proj_weight must be an array", args={4: "w"}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "attn_mask has shape",
            attn_mask=np.ones((q.shape[-2] + 1, k.shape[-2]), bool),
            is_causal=False,
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "key_padding_mask has shape",
            key_padding_mask=np.ones((k.shape[-2] + 1,), bool),
        ),
        E(
            "dtype",
            base,
            TypeError,
            "attn_mask",
            attn_mask=np.ones((q.shape[-2], k.shape[-2]), np.int8),
            is_causal=False,
        ),
        E("option", base, ValueError, "is_causal is a hint", attn_mask=None, is_causal=True),
        E(
            "empty",
            base,
            ValueError,
            "must not be empty",
            args={1: k[..., :0, :], 2: v[..., :0, :]},
            attn_mask=None,
            key_padding_mask=None,
            is_causal=False,
        ),
    ]


MHA = OpInfo(
    name="multi_head_attention",
    func=fnn.multi_head_attention,
    dtypes=FLOAT_DTYPES,
    make=make_mha,
    shapes=_mha_shapes(),
    draw_shape=lambda p: (
        lambda h, hd: (p.choice((None, 1, 2)), p.integer(1, 60), p.integer(1, 60), h * hd, h)
    )(p.integer(1, 4), p.integer(1, 6)),
    ref=ref_mha,
    check=check_nn,
    errors=mha_errors,
    arrays={0: "query", 1: "key", 2: "value", 4: "in_proj_weight", 6: "out_proj_weight"},
    ranks=(2, 3),
    na={
        "kernel_too_large": "no window",
        "nonfinite": "floats are data; NaN propagates as in torch",
        "out_readonly": "no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


# additive, Luong and self-attentive forms: (N or None, S, Dq, Dk, Dv, H)
FORM_SHAPES = (
    (None, 1, 1, 1, 1, 1),
    (1, 1, 2, 3, 4, 5),
    (2, 7, 3, 3, 2, 4),
    (3, 33, 8, 8, 5, 6),
    (None, 65, 4, 4, 16, 3),
    (5, 2, 1, 1, 1, 2),
)


def draw_form_shape(p: Picker) -> tuple:
    dq = p.integer(1, 9)
    return (
        p.choice((None, 1, 3)),
        p.integer(1, 70),
        dq,
        p.choice((dq, p.integer(1, 9))),
        p.integer(1, 9),
        p.integer(1, 9),
    )


def _form_inputs(p: Picker, dtype, shape):
    n, S, dq, dk, dv, h = shape
    lead = () if n is None else (n,)
    q = p.normal((*lead, dq), dtype)
    k = p.normal((*lead, S, dk), dtype)
    v = p.normal((*lead, S, dv), dtype, 2.0)
    mask = p.binary((*lead, S), p.choice((0.5, 1.0, 0.0))) if p.coin(0.4) else None
    return q, k, v, h, mask


def make_additive(p: Picker, dtype: str, shape) -> Sample:
    q, k, v, h, mask = _form_inputs(p, dtype, shape)
    wq = p.normal((h, q.shape[-1]), dtype)
    wk = p.normal((h, k.shape[-1]), dtype)
    vv = p.normal((h,), dtype)
    return Sample((q, k, v, wq, wk, vv), {"mask": mask})


def make_luong(p: Picker, dtype: str, shape) -> Sample:
    q, k, v, h, mask = _form_inputs(p, dtype, shape)
    dq, dk = q.shape[-1], k.shape[-1]
    score = p.choice(("dot", "general", "concat") if dq == dk else ("general", "concat"))
    kw: dict = {"mask": mask}
    if score == "general":
        kw["weight"] = p.normal((dk, dq), dtype, 1 / math.sqrt(dq))
    elif score == "concat":
        kw["weight"] = p.normal((h, dq + dk), dtype)
        kw["v"] = p.normal((h,), dtype)
    return Sample((q, k, v, score), kw)


def form_spec(fn):
    def ref(s: Sample) -> dict:
        value = getattr(RA, fn)(*s.args, **s.kwargs)
        v = s.args[2]
        return nn_spec(tuple(value), v.dtype, float(np.max(np.abs(v), initial=1.0)))

    return ref


def form_errors(base: Sample, params: dict) -> list[ErrorInput]:
    q, k, v = base.args[:3]
    dt = q.dtype
    batched = q.ndim == 2
    mask_shape = k.shape[:-1]
    e = [
        E("rank", base, ValueError, "query must be 1-D or 2-D", args={0: q[None, None]}),
        E("rank", base, ValueError, "keys must be", args={1: k[None]}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "keys and values must be",
            args={2: np.ones((*v.shape[:-2], v.shape[-2] + 1, v.shape[-1]), dt)},
        ),
        E("dtype", base, TypeError, "mask must be bool", mask=np.ones(mask_shape, np.float32)),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "mask must have shape",
            mask=np.ones((*mask_shape[:-1], mask_shape[-1] + 1), bool),
        ),
        E(
            "empty",
            base,
            ValueError,
            "keys and values must not be empty",
            args={1: k[..., :0, :], 2: v[..., :0, :]},
            mask=None,
        ),
    ]
    for key, (name, shape) in params.items():
        e.append(
            E(
                "shape_mismatch",
                base,
                ValueError,
                f"{name} must have shape",
                args={key: np.ones((*shape[:-1], shape[-1] + 1), dt)}
                if isinstance(key, int)
                else None,
                **(
                    {} if isinstance(key, int) else {key: np.ones((*shape[:-1], shape[-1] + 1), dt)}
                ),
            )
        )
    del batched
    return e


def additive_errors(base: Sample) -> list[ErrorInput]:
    q, k, v, wq, wk, vv = base.args
    return form_errors(base, {3: ("w_query", wq.shape), 4: ("w_key", wk.shape), 5: ("v", vv.shape)})


def luong_errors(base: Sample) -> list[ErrorInput]:
    q, k, v, score = base.args
    dq = q.shape[-1]
    e = form_errors(base, {})
    return [
        *e,
        E(
            "option",
            base,
            ValueError,
            "score must be 'dot', 'general' or 'concat'",
            args={3: "cosine"},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "score='general' needs weight",
            args={3: "general"},
            weight=None,
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "weight must have shape",
            args={3: "general"},
            weight=np.ones((k.shape[-1], dq + 1), q.dtype),
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "score='concat' needs",
            args={3: "concat"},
            weight=np.ones((2, dq + k.shape[-1]), q.dtype),
            v=None,
        ),
    ]


def make_self_attentive(p: Picker, dtype: str, shape) -> Sample:
    n, S, dq, dk, dv, h = shape
    lead = () if n is None else (n,)
    hidden = p.normal((*lead, S, dk), dtype)
    w1 = p.normal((h, dk), dtype)
    w2 = p.normal((dv, h), dtype)
    mask = p.binary((*lead, S), p.choice((0.5, 1.0, 0.0))) if p.coin(0.4) else None
    return Sample((hidden, w1, w2), {"mask": mask})


def ref_self_attentive(s: Sample) -> dict:
    hidden, w1, w2 = s.args
    value = RA.self_attentive_pooling(*s.args, **s.kwargs)
    r = w2.shape[0]
    scale = max(float(np.max(np.abs(hidden), initial=1.0)), r + r * r)
    return nn_spec(tuple(value), hidden.dtype, scale)


def self_attentive_errors(base: Sample) -> list[ErrorInput]:
    hidden, w1, w2 = base.args
    dt = hidden.dtype
    return [
        E("rank", base, ValueError, "hidden must be 2-D or 3-D", args={0: hidden.reshape(-1)}),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "w_s1 must have shape",
            args={1: np.ones((w1.shape[0], w1.shape[1] + 1), dt)},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "w_s2 must have shape",
            args={2: np.ones((w2.shape[0], w2.shape[1] + 1), dt)},
        ),
        E(
            "empty",
            base,
            ValueError,
            "w_s1 and w_s2 must not be empty",
            args={2: np.ones((0, w1.shape[0]), dt)},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "mask must have shape",
            mask=np.ones((*hidden.shape[:-2], hidden.shape[-2] + 1), bool),
        ),
        E("dtype", base, TypeError, "w_s1 dtype", args={1: w1.astype(np.int16)}),
    ]


FORM_NA = {
    "size": "sizes come from the arrays",
    "kernel_too_large": "no window",
    "nonfinite": "floats are data",
    "out_readonly": "no out=",
    "out_alias": "no out=",
    "no_partial_write": "no out=",
}


def form_entry(name, make, ref, errors, arrays, **extra) -> OpInfo:
    return OpInfo(
        name=name,
        func=getattr(fnn, name),
        dtypes=FLOAT_DTYPES,
        make=make,
        shapes=FORM_SHAPES,
        draw_shape=draw_form_shape,
        ref=ref,
        check=check_nn,
        errors=errors,
        arrays=arrays,
        ranks=(1, 2) if name != "self_attentive_pooling" else (2, 3),
        na={**FORM_NA, **extra.pop("na", {})},
        **extra,
    )


NN_ENTRY_REFS.update(
    {
        "_conv2d_torch": ref_conv2d,
        "_max_pool2d_torch": ref_max_pool2d,
        "_avg_pool2d_torch": ref_avg_pool2d,
        "_lp_pool2d_torch": ref_lp_pool2d,
        "_adaptive_avg_pool2d_torch": ref_adaptive_avg,
        "_adaptive_max_pool2d_torch": ref_adaptive_max,
        "_scaled_dot_product_attention_torch": ref_sdpa,
    }
)
SDPA.anchor = torch_anchor(_scaled_dot_product_attention_torch)
SDPA.anchor_name = "torch"

ENTRIES = [
    nn_entry(
        "conv2d",
        make_conv2d,
        ref_conv2d,
        conv2d_errors,
        anchor=torch_anchor(_conv2d_torch),
        arrays={0: "input", 1: "weight"},
        na={"option": None},
    ),
    nn_entry(
        "max_pool2d",
        make_max_pool2d,
        ref_max_pool2d,
        pool_errors,
        anchor=torch_anchor(_max_pool2d_torch),
    ),
    nn_entry(
        "avg_pool2d",
        make_avg_pool2d,
        ref_avg_pool2d,
        lambda b: [
            *pool_errors(b, dilation=False),
            E("size", b, ValueError, "divisor_override", divisor_override=0),
        ],
        anchor=torch_anchor(_avg_pool2d_torch),
    ),
    nn_entry(
        "lp_pool2d",
        make_lp_pool2d,
        ref_lp_pool2d,
        lp_pool2d_errors,
        anchor=torch_anchor(_lp_pool2d_torch),
        na={"nonfinite": None},
    ),
    nn_entry(
        "adaptive_avg_pool2d",
        make_adaptive(False),
        ref_adaptive_avg,
        adaptive_errors,
        anchor=torch_anchor(_adaptive_avg_pool2d_torch),
    ),
    nn_entry(
        "adaptive_max_pool2d",
        make_adaptive(True),
        ref_adaptive_max,
        adaptive_errors,
        anchor=torch_anchor(_adaptive_max_pool2d_torch),
    ),
    nn_entry(
        "patchify",
        make_patchify,
        lambda s: nn_spec(RN.patchify(*s.args), s.args[0].dtype, 0.0, True),
        patchify_errors,
        arrays={0: "images"},
    ),
    OpInfo(
        name="unpatchify",
        func=fnn.unpatchify,
        dtypes=FLOAT_DTYPES,
        make=make_unpatchify,
        shapes=tuple(s for s in NN_SHAPES),
        draw_shape=draw_nn_shape,
        ref=lambda s: nn_spec(RN.unpatchify(*s.args, **s.kwargs), s.args[0].dtype, 0.0, True),
        check=check_nn,
        errors=unpatchify_errors,
        arrays={0: "patches"},
        ranks=(2, 3),
        empty_ok_axes=(0,),  # a batch of no patch sequences
        out="array",
        na={
            "kernel_too_large": "patches must tile the image exactly (size class)",
            "nonfinite": "floats are data",
            "option": "no option string",
        },
    ),
    SDPA,
    MHA,
    form_entry(
        "additive_attention",
        make_additive,
        form_spec("additive_attention"),
        additive_errors,
        {0: "query", 1: "keys", 2: "values", 3: "w_query"},
        na={"option": "no option"},
    ),
    form_entry(
        "luong_attention",
        make_luong,
        form_spec("luong_attention"),
        luong_errors,
        {0: "query", 1: "keys", 2: "values"},
    ),
    form_entry(
        "self_attentive_pooling",
        make_self_attentive,
        ref_self_attentive,
        self_attentive_errors,
        {0: "hidden", 1: "w_s1", 2: "w_s2"},
        na={"option": "no option"},
    ),
]
