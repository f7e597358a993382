"""Fuzzes foveal.nn.scaled_dot_product_attention: 0 to 2 leading dimensions, L and S from 1
(and around the kernel's 48-query and 128-key tiles), E != Ev, bool and float masks of every
broadcast shape (-inf rows that leave no key, +inf and NaN entries), is_causal with L != S,
enable_gqa with every divisor of the head count, custom scales (0 too), inputs in any memory
layout and ``out=`` fresh, strided or aliasing the query. Results must equal
``foveal.reference`` within the tolerance of tests/test_attention.py (rtol * max(1, max |v|),
NaN where the reference has NaN). About one call in eight gets an argument drawn invalid and
must be refused by name.

Values lie on a grid (q and k multiples of 1/128 in [-1, 1), v of 1/16 in [-8, 8)) so that
q . k is exact and the scaled scores stay within a few tens: the float32 tolerance is a
relative one and a score's rounding grows with its size. Float masks stay within [-8, 8) plus
+-inf and NaN (finite masks near float32's limits are a known failure kept in
tests/test_attention.py, not re-found here).

    python fuzz/fuzz_attention.py -max_total_time=60      (see fuzz/README.md)
"""

from __future__ import annotations

import numpy as np
from common import REFUSED, Args, Draw, Finding, assert_close, call, foveal, main, reference

FN = "scaled_dot_product_attention"


def length(draw: Draw) -> int:
    return draw.pick((1, draw.int(1, 8), draw.int(1, 24), draw.pick((47, 48, 49, 127, 128, 129))))


def draw_mask(draw: Draw, args: Args, lead: tuple, L: int, S: int, dtype):
    """A bool or float mask whose shape broadcasts to (*lead, L, S): each axis full or 1,
    leading axes dropped."""
    full = (*lead, L, S)
    ndim = draw.int(1, len(full))
    shape = tuple(n if draw.bool() else 1 for n in full[len(full) - ndim :])
    if max(full[-ndim:]) > 1 and args.bad(draw):
        i = draw.int(0, ndim - 1)
        shape = shape[:i] + (full[len(full) - ndim + i] + 1,) + shape[i + 1 :]
    size = int(np.prod(shape))
    if draw.bool():
        return (draw.bytes(size) % 8 < draw.density()).reshape(shape)
    values = draw.floats(shape, np.float64, specials=False)
    codes = draw.bytes(size).reshape(shape)
    values[codes < draw.int(0, 255)] = -np.inf  # keys left out, whole rows too
    if draw.chance(0.1):
        values.flat[draw.int(0, size - 1)] = draw.pick((np.inf, np.nan))
    mask_dtype = (
        dtype if not args.bad(draw) else (np.float32 if dtype == np.float64 else np.float64)
    )
    return values.astype(mask_dtype)


def test_one_input(data: bytes) -> None:
    draw = Draw(data)
    args = Args()
    dtype = np.dtype(draw.pick(("float32", "float64")))
    lead_dims = draw.pick((0, 1, 2, 2))
    L, S = length(draw), length(draw)
    E, Ev = draw.pick((1, draw.int(1, 16))), draw.pick((1, draw.int(1, 16)))
    gqa = draw.bool()
    batch = tuple(draw.int(1, 2) for _ in range(lead_dims - 1))
    hq = draw.pick((1, 2, 3, 4, 6, 8)) if lead_dims else 1
    divisors = [d for d in range(1, hq + 1) if hq % d == 0]
    hkv = draw.pick(divisors) if gqa and lead_dims else hq
    if lead_dims and args.bad(draw):
        hkv = hq + 1 if gqa else max(hq - 1, 1) if hq > 1 else 2
    q_lead = (*batch, hq) if lead_dims else ()
    kv_lead = (*batch, hkv) if lead_dims else ()
    q = draw.floats((*q_lead, L, E), np.float64) / 8
    k = draw.floats((*kv_lead, S, E if not args.bad(draw) else E + 1), np.float64) / 8
    v = draw.floats((*kv_lead, S, Ev), np.float64)
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if args.bad(draw):
        v = v.astype(np.float32 if dtype == np.float64 else np.float64)

    is_causal = draw.chance(0.3)
    mask = None
    if draw.chance(0.6):
        mask = draw_mask(draw, args, q_lead, L, S, dtype)
        if is_causal and not args.bad(draw):
            is_causal = False
    elif is_causal and draw.chance(0.1):
        is_causal = 1  # a truthy int is taken as a flag, as torch does
    scale = draw.pick((None, None, 0.0, -0.5, 1.0, draw.int(1, 16) / 16))
    dropout_p = 0.0 if not args.bad(draw) else 0.5
    if mask is not None and is_causal:
        args.valid = False

    out_kind = draw.pick(("none", "none", "fresh", "reversed", "query"))
    shape = (*q_lead, L, Ev)
    out = None
    if out_kind == "fresh" or (out_kind == "query" and (E != Ev or not args.valid)):
        out = np.full(shape, 7.0, dtype)
    elif out_kind == "reversed":
        out = np.full(shape, 7.0, dtype)[::-1]
    q_arg, k_arg, v_arg = draw.layout(q), draw.layout(k), draw.layout(v)
    if out_kind == "query" and out is None:
        q_arg = out = q.copy()

    expected = None
    if args.valid:
        with np.errstate(invalid="ignore", over="ignore"):
            expected = reference.scaled_dot_product_attention(
                q, k, v, mask, 0.0, bool(is_causal), scale, gqa
            )
    kw = dict(attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale, enable_gqa=gqa)
    got = call(
        FN,
        lambda: foveal.nn.scaled_dot_product_attention(q_arg, k_arg, v_arg, **kw, out=out),
        valid=args.valid,
    )
    if got is REFUSED:
        return
    if not args.valid:
        raise Finding(f"{FN}: invalid arguments accepted: q{q.shape} k{k.shape} v{v.shape}")
    mask_what = None if mask is None else f"{mask.dtype}{mask.shape}"
    what = (
        f"{FN}(q{q.shape}, k{k.shape}, v{v.shape}, {dtype}, mask {mask_what}, "
        f"causal={is_causal}, scale={scale}, gqa={gqa}, out={out_kind})"
    )
    if out is not None and got is not out:
        raise Finding(f"{what}: the result is not out")
    assert_close(got, expected, dtype, float(np.abs(v).max(initial=0.0)), what)


if __name__ == "__main__":
    main(test_one_input)
