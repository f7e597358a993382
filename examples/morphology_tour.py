"""A tour of foveal's morphology: kernels, operations, borders, dtypes, out=, torch.

    python examples/morphology_tour.py [IMAGE]

Every call below has cv2's meaning (cv2.erode / cv2.dilate / cv2.morphologyEx), with NumPy's
order for sizes and points: a kernel size or an anchor is (rows, cols), not OpenCV's (x, y).
Each line prints the result's shape, dtype and a checksum, so runs can be compared.
"""

import sys
import zlib
from typing import Any

import foveal
import numpy as np


def show(label: str, result: Any) -> None:
    """One line per result: its kind, shape, dtype and a checksum of its bytes."""
    arr = result.numpy() if type(result).__module__.startswith("torch") else np.asarray(result)
    crc = zlib.crc32(np.ascontiguousarray(arr).tobytes())
    print(
        f"{label:<44} {type(result).__name__:<8} {str(arr.shape):<15} {str(arr.dtype):<8} "
        f"crc32={crc:08x}"
    )


def make_image(height: int = 240, width: int = 320) -> np.ndarray:
    """A small gray test image: a gradient, a disc, a bar and a few one-pixel specks."""
    y, x = np.mgrid[0:height, 0:width]
    img = (x * 120 // width + y * 60 // height).astype(np.uint8)
    img[(y - 100) ** 2 + (x - 150) ** 2 < 60**2] = 230  # a disc
    img[180:195, 20:300] = 20  # a dark bar
    rng = np.random.default_rng(0)
    img[rng.integers(0, height, 40), rng.integers(0, width, 40)] = 255  # bright specks
    return img


def load_image(path: str) -> np.ndarray:
    import cv2  # reading files is OpenCV's job; foveal only computes

    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None:
        sys.exit(f"cannot read {path}")
    return img


img = load_image(sys.argv[1]) if len(sys.argv) > 1 else make_image()
print(
    f"foveal {foveal.__version__}, CPU kernels: {foveal.get_isa()}, "
    f"{foveal.get_num_threads()} threads"
)
show("input", img)

# --- Structuring elements: cv2.getStructuringElement's shapes as 0/1 uint8 masks ---------------
ellipse = foveal.structuring_element("ellipse", 7)  # 7x7
cross = foveal.structuring_element("cross", (5, 3))  # 5 rows, 3 columns
print("ellipse 7x7:\n", ellipse)

# --- Erode and dilate: a kernel is an int (square), a (rows, cols) pair or any 0/1 array ------
show("erode 3x3 (the default kernel)", foveal.erode(img))
show("dilate 5x5", foveal.dilate(img, 5))
show("dilate 3 rows x 9 columns", foveal.dilate(img, (3, 9)))
show("dilate 7x7 ellipse", foveal.dilate(img, ellipse))
show("erode 5x3 cross", foveal.erode(img, cross))
diagonal = np.eye(5, dtype=bool)  # any mask works, here a diagonal line
show("dilate with a diagonal line", foveal.dilate(img, diagonal))
show("dilate 3x3, anchor (0, 0)", foveal.dilate(img, 3, anchor=(0, 0)))
show("erode 3x3, 4 iterations", foveal.erode(img, 3, iterations=4))

# --- Compositions: open, close, gradient, top-hat, black-hat ----------------------------------
for op in ("open", "close", "gradient", "tophat", "blackhat"):
    show(f"{op} 7x7 ellipse", foveal.morphology(img, op, ellipse))
specks = foveal.morphology(img, "tophat", 3)
print(f"top-hat 3x3 finds {int((specks > 100).sum())} bright specks")

# --- Borders: what the kernel sees outside the image ------------------------------------------
# "default": outside pixels never win (cv2's default); the others as cv2.BORDER_*. The top-left
# corner of a 15x15 dilation shows what each one brings in.
for border in ("default", "constant", "replicate", "reflect", "reflect101", "wrap"):
    out = foveal.dilate(img, 15, border=border, border_value=200)
    show(f"dilate 15x15, border={border!r}: [0, 0]={out[0, 0]}", out)
show("dilate 15x15, scipy's name 'nearest'", foveal.dilate(img, 15, border="nearest"))

# --- Other dtypes: uint16, int16, float32, float64 and bool keep their dtype --------------------
show("dilate 5x5 float32", foveal.dilate(img.astype(np.float32) / 255, 5))
show("dilate 5x5 uint16", foveal.dilate(img.astype(np.uint16) * 257, 5))
mask = img > 200
show("close 5x5 bool mask", foveal.morphology(mask, "close", 5))

# --- Colour images: (H, W, C), every channel on its own; border_value per channel ---------------
rgb = np.ascontiguousarray(np.stack([img, img[::-1], 255 - img], axis=-1))
show("dilate 5x5 RGB", foveal.dilate(rgb, 5))
show(
    "erode 9x9 RGB, constant border (255, 0, 0)",
    foveal.erode(rgb, 9, border="constant", border_value=(255, 0, 0)),
)

# --- Views, out= and in place: no copies of the caller's data ---------------------------------
show("dilate 5x5 of a flipped strided view", foveal.dilate(img[::-2, ::3], 5))
out = np.empty_like(img)
foveal.dilate(img, 5, out=out)  # writes into out and returns it
work = img.copy()
foveal.erode(work, 5, out=work)  # in place: the result is as if the input were copied first
show("erode 5x5 in place", work)
assert np.array_equal(work, foveal.erode(img, 5))

# --- Threads: the default is every usable core; per thread with the context manager -----------
with foveal.num_threads(1):
    one = foveal.dilate(img, 31)
assert np.array_equal(one, foveal.dilate(img, 31))

# --- torch tensors in, torch tensors out (sharing memory, no copy) -----------------------------
try:
    import torch
except ImportError:
    print("torch is not installed: skipping the torch examples")
else:
    t = torch.from_numpy(img)
    show("dilate 5x5 of a torch tensor", foveal.dilate(t, 5))
    show("gradient 3x3 of a float32 tensor", foveal.morphology(t.float(), "gradient", 3))

# --- Same numbers as OpenCV, when it is installed ---------------------------------------------
try:
    import cv2
except ImportError:
    pass
else:
    ours = foveal.morphology(img, "gradient", ellipse, anchor=(2, 4))
    theirs = cv2.morphologyEx(img, cv2.MORPH_GRADIENT, ellipse, anchor=(4, 2))  # (x, y)
    print("matches cv2.morphologyEx:", np.array_equal(ours, theirs))
