"""The k-means assignment pass on CuPy arrays (the fallback for builds without the _cuda
module): the same outputs as foveal._core.kmeans_assign, computed with the array module
``xp`` in blocks of points so that no more than ``BLOCK_BYTES`` of point-to-center distances
exist at once. Written against the API NumPy and CuPy share (the tests run it with NumPy).
"""

from __future__ import annotations

import numpy as np

#: Most bytes of one block's (points x centers) distances.
BLOCK_BYTES = 64 << 20


def assign(x, w, centers, labels, sums, counts, xp=None) -> tuple[float, int]:
    """Writes each point's nearest center (ties: the lowest index) into ``labels`` (int32),
    the weighted per-cluster sums (float64, (k, d)) into ``sums`` and the weights into
    ``counts``; returns the inertia (float64) and the number of labels that changed."""
    if xp is None:
        import cupy

        xp = cupy
    n, d = x.shape
    k = centers.shape[0]
    c_norms = (centers * centers).sum(axis=1)
    rows = max(1, BLOCK_BYTES // (k * x.itemsize))
    sums[...] = 0
    counts[...] = 0
    inertia = 0.0
    changed = 0
    for r0 in range(0, n, rows):
        block = x[r0 : r0 + rows]
        dist = c_norms[None, :] - 2 * (block @ centers.T)
        lab = dist.argmin(axis=1).astype(np.int32)
        changed += int((labels[r0 : r0 + rows] != lab).sum())
        labels[r0 : r0 + rows] = lab
        wb = (
            xp.ones(block.shape[0], np.float64)
            if w is None
            else w[r0 : r0 + rows].astype(np.float64)
        )
        xb = block.astype(np.float64)
        diff = xb - centers[lab].astype(np.float64)
        inertia += float(((diff * diff).sum(axis=1) * wb).sum())
        counts += xp.bincount(lab, weights=wb, minlength=k)
        for e in range(d):
            sums[:, e] += xp.bincount(lab, weights=wb * xb[:, e], minlength=k)
    return inertia, changed
