"""foveal on Dask arrays: images larger than one machine's memory, chunk by chunk.

Every function takes a Dask array (a NumPy array is taken as one chunk) and the arguments of
its in-memory namesake, checks them when it is called, and returns a lazy Dask array (or Dask
arrays) whose values are those of the in-memory call on the whole array:

- morphology, filters, gradients and corner responses map over the chunks with the halo their
  kernel reaches (iterations included) and the caller's border at the array's own edges;
- ``canny`` thins each chunk with a halo and runs its hysteresis across chunks;
- ``label`` merges chunk-local labels across chunk faces and numbers the components in
  OpenCV's order; ``find_contours`` traces every component once, whole;
- ``bandpass`` and ``spectrum`` take the 2-D FFT as two passes of 1-D FFTs, rechunking
  between them (the transform is global, so nothing is approximated);
- ``kmeans`` runs Lloyd's iterations with per-chunk partial sums reduced by Dask.

Each task runs foveal with a share of the cores (see :func:`set_threads_per_task`); foveal
releases the GIL, so the threaded scheduler runs chunks in parallel. ``dask.distributed``
works too (the functions and their arguments pickle).

>>> import dask.array as da, numpy as np, foveal, foveal.dask
>>> img = da.from_array(np.arange(48, dtype=np.uint8).reshape(6, 8), chunks=(4, 3))
>>> bool((foveal.dask.dilate(img, 3).compute() == foveal.dilate(img.compute(), 3)).all())
True
"""

from __future__ import annotations

from ._blocks import set_threads_per_task
from ._contours import find_contours
from ._frequency import bandpass, spectrum
from ._image import (
    box_filter,
    dilate,
    erode,
    filter2d,
    gaussian_blur,
    gradient,
    harris,
    min_eigen,
    morphology,
    scharr,
    sep_filter2d,
    sobel,
)
from ._kmeans import kmeans, kmeans_predict, segment_colors
from ._label import canny, label

__all__ = [
    "bandpass",
    "box_filter",
    "canny",
    "dilate",
    "erode",
    "filter2d",
    "find_contours",
    "gaussian_blur",
    "gradient",
    "harris",
    "kmeans",
    "kmeans_predict",
    "label",
    "min_eigen",
    "morphology",
    "scharr",
    "segment_colors",
    "sep_filter2d",
    "set_threads_per_task",
    "sobel",
    "spectrum",
]
