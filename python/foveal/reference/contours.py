"""Border following (Suzuki & Abe 1985) and contour measures, as OpenCV defines them, in NumPy.

Suzuki, S. and Abe, K., "Topological structural analysis of digitized binary images by border
following", CVGIP 30(1), 1985. Reproduces cv2.findContours point for point and its hierarchy.

The image (H, W) is read as f: 1 where nonzero, 0 elsewhere, inside a frame of 0 one pixel
wide (so foreground on the image border is real and its contours are complete). A border gets
the id NBD = 2, 3, ... in the order it starts; the frame is border 1, a hole border.

    scan     rows top to bottom, columns left to right; LNBD = the last marked pixel (|f| > 1)
             met on the row, the frame at each row start. At pixel (x, y):
               outer border starts if f[y, x] == 1 and f[y, x - 1] == 0,
               else a hole border starts if f[y, x] >= 1 and f[y, x + 1] == 0;
             a hole that starts on a pixel already marked (f[y, x] > 1) first takes it as
             LNBD (Suzuki's step 1(b): the pixel lies on the border around the hole, often
             with nothing marked before it on the row); a started border is followed; then
             if |f[y, x]| > 1, LNBD <- (x, y).
    follow   chain codes 0..7 = E, NE, N, NW, W, SW, S, SE (x right, y down). From the start
             i0, look clockwise (decreasing codes) from W (outer) or E (hole) for a nonzero
             i1; none: the border is the point i0, f[i0] = -NBD. Else walk i3 = i0: look
             counter-clockwise (increasing codes) around i3, starting after the direction of
             the previous pixel, for the next nonzero i4; mark f[i3] = -NBD if its E neighbour
             was looked at and is 0, else f[i3] = NBD if f[i3] == 1; stop when i3 == i1 and
             i4 == i0 (back at the start, about to repeat).
    simple   a point is kept only where the walk turns (cv2.CHAIN_APPROX_SIMPLE).
    parent   B' = the border of LNBD when the new border B starts. B' of B's kind (outer or
             hole): parent(B) = parent(B'); else parent(B) = B'.
    modes    tree: those parents. ccomp: outer borders' parent is the frame (two levels).
             list: every parent is the frame. external: only outer borders that do not start
             inside a traced outer border (LNBD pixel > 0) are followed; holes never are.
    order    each border is put FIRST among its parent's children; contours are listed in
             pre-order, depth first, from the frame's children. hierarchy rows are [next,
             previous, first child, parent], -1 for none (the frame is none).

Slow (a Python loop over pixels) but obviously correct; meant for images up to about 100x100.
"""

from __future__ import annotations

import numpy as np

# (dx, dy) of chain codes 0..7: E, NE, N, NW, W, SW, S, SE with y pointing down
_STEPS = ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))
_MODES = ("external", "list", "ccomp", "tree")
_METHODS = ("none", "simple")
_FRAME = 1  # the border id of the frame


def _follow(f: np.ndarray, x0: int, y0: int, start: int, nbd: int, simple: bool) -> list:
    """Follows the border through (x0, y0) in padded f, marks it with +-nbd, returns its points
    (padded coordinates). start: the code of the background neighbour the border starts
    against (4 = W for an outer border, 0 = E for a hole border)."""
    for k in range(1, 9):  # clockwise from just before ``start``
        s1 = (start - k) % 8
        dx, dy = _STEPS[s1]
        if f[y0 + dy, x0 + dx] != 0:
            break
    else:  # no neighbour at all: an isolated pixel
        f[y0, x0] = -nbd
        return [(x0, y0)]
    x1, y1 = x0 + dx, y0 + dy
    x3, y3, s = x0, y0, s1
    prev_s = (s1 + 4) % 8  # the direction the walk will arrive at i0 from i1
    points = []
    while True:
        s_end = s
        for s in range(s_end + 1, s_end + 9):  # counter-clockwise, unwrapped
            dx, dy = _STEPS[s % 8]
            if f[y3 + dy, x3 + dx] != 0:
                break
        east_is_background = s >= 9  # code 8 (E) was passed over
        s %= 8
        x4, y4 = x3 + dx, y3 + dy
        if east_is_background:
            f[y3, x3] = -nbd
        elif f[y3, x3] == 1:
            f[y3, x3] = nbd
        if not simple or s != prev_s:
            points.append((x3, y3))
        prev_s = s
        if (x4, y4) == (x0, y0) and (x3, y3) == (x1, y1):
            return points
        x3, y3, s = x4, y4, (s + 4) % 8


def _borders(binary: np.ndarray, mode: str, simple: bool):
    """Raster scan of the padded image: the traced borders as (points, parent id) by id."""
    h, w = binary.shape
    f = np.zeros((h + 2, w + 2), np.int64)
    f[1:-1, 1:-1] = binary != 0
    is_hole: dict[int, bool | None] = {_FRAME: True}
    parent: dict[int, int | None] = {_FRAME: None}
    points: dict[int, list[tuple[int, int]]] = {}
    nbd = _FRAME
    for y in range(1, h + 1):
        lnbd, lnbd_x = _FRAME, 0  # border id and column of the last marked pixel
        for x in range(1, w + 1):
            if f[y, x] == 1 and f[y, x - 1] == 0:
                hole = False
            elif f[y, x] >= 1 and f[y, x + 1] == 0:
                hole = True
            else:
                hole = None
            follow = hole is not None
            if mode == "external":  # holes and borders inside a followed outer border: no
                follow = hole is False and f[y, lnbd_x] <= 0
            if follow:
                if hole and f[y, x] > 1:  # a hole starting on a marked pixel: B' is its border
                    lnbd, lnbd_x = int(f[y, x]), x
                nbd += 1
                is_hole[nbd] = hole
                if mode == "list" or (mode != "tree" and not hole):
                    parent[nbd] = _FRAME  # list, external, and ccomp's outer borders
                elif is_hole[lnbd] == hole:
                    parent[nbd] = parent[lnbd]
                else:
                    parent[nbd] = lnbd
                points[nbd] = _follow(f, x, y, 0 if hole else 4, nbd, simple)
            if abs(f[y, x]) > 1:
                lnbd, lnbd_x = abs(int(f[y, x])), x
    return points, parent


def find_contours(binary, mode: str = "tree", method: str = "simple"):
    """The borders of the nonzero regions of a 2-D image and their hierarchy, as cv2.findContours.

    mode: "external", "list", "ccomp" or "tree" (cv2.RETR_*); method: "none" (every border
    pixel) or "simple" (only the corners, cv2.CHAIN_APPROX_SIMPLE). Returns ``(contours,
    hierarchy)``: a list of (n, 2) int32 arrays of (x, y) points and an (N, 4) int32 array of
    [next, previous, first child, parent] indices, -1 for none ((0, 4) without contours).
    Unlike cv2 the contours are (n, 2), not (n, 1, 2), and the hierarchy is (N, 4), not
    (1, N, 4) or None.

    >>> contours, hierarchy = find_contours(np.pad(np.ones((3, 3)), 1), method="simple")
    >>> contours[0].tolist()
    [[1, 1], [1, 3], [3, 3], [3, 1]]
    >>> hierarchy
    array([[-1, -1, -1, -1]], dtype=int32)
    """
    img = np.asarray(binary)
    if img.ndim != 2:
        raise ValueError(f"find_contours: expected binary to be 2-D, got {img.ndim}-D")
    if mode not in _MODES:
        raise ValueError(f"find_contours: expected mode in {_MODES}, got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"find_contours: expected method in {_METHODS}, got {method!r}")
    points, parent = _borders(img, mode, method == "simple")
    children: dict[int | None, list[int]] = {_FRAME: []}
    for nbd in points:  # in order of discovery; each new child goes first
        children[nbd] = []
        children[parent[nbd]].insert(0, nbd)
    order = []
    stack = list(reversed(children[_FRAME]))
    while stack:  # pre-order: a node, its subtree, then its next sibling
        nbd = stack.pop()
        order.append(nbd)
        stack.extend(reversed(children[nbd]))
    index = {nbd: i for i, nbd in enumerate(order)}
    index[_FRAME] = -1
    hierarchy = np.full((len(order), 4), -1, np.int32)
    for nbd, i in index.items():
        kids = children[nbd]
        for k, kid in enumerate(kids):
            row = hierarchy[index[kid]]
            row[0] = index[kids[k + 1]] if k + 1 < len(kids) else -1
            row[1] = index[kids[k - 1]] if k > 0 else -1
            row[3] = i
        if kids and i >= 0:
            hierarchy[i, 2] = index[kids[0]]
    contours = [np.array(points[nbd], np.int32).reshape(-1, 2) - 1 for nbd in order]
    return contours, hierarchy


def contour_area(contour, oriented: bool = False) -> float:
    """The area inside a closed polygon (shoelace formula), as cv2.contourArea.

    oriented=True gives the signed area 1/2 sum(x_i y_i+1 - x_i+1 y_i), cv2's sign: negative
    when the points go counter-clockwise as seen on screen (x right, y down), as the outer
    contours of find_contours do, positive for its holes. Fewer than 3 points have area 0.

    >>> contour_area(np.array([[1, 1], [1, 3], [3, 3], [3, 1]]), oriented=True)
    -4.0
    """
    p = np.asarray(contour, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    twice = float(np.sum(x * yn - xn * y))
    return 0.5 * twice if oriented else abs(0.5 * twice)


def arc_length(contour, closed: bool = True) -> float:
    """The length of a polyline through the points, closed back to the first if ``closed``,
    as cv2.arcLength: each segment length is computed in float32 (as cv2 does) and summed in
    float64, in order (the closing segment first).

    >>> arc_length(np.array([[0, 0], [3, 0], [3, 4]]))
    12.0
    """
    p = np.asarray(contour, np.float32).reshape(-1, 2)
    if len(p) < 2:
        return 0.0
    prev = p[-1] if closed else p[0]
    total = 0.0
    for q in p if closed else p[1:]:
        d = q - prev
        total += float(np.sqrt(d[0] * d[0] + d[1] * d[1]))
        prev = q
    return total


def bounding_rect(contour) -> tuple[int, int, int, int]:
    """The smallest upright rectangle (x, y, w, h) holding every point, as cv2.boundingRect;
    (0, 0, 0, 0) for no points.

    >>> bounding_rect(np.array([[1, 1], [1, 3], [3, 3], [3, 1]]))
    (1, 1, 3, 3)
    """
    p = np.asarray(contour).reshape(-1, 2)
    if len(p) == 0:
        return (0, 0, 0, 0)
    if p.dtype.kind == "f":  # float points are floored, as cv2 does (int() truncates)
        p = np.floor(p)
    x0, y0 = int(np.min(p[:, 0])), int(np.min(p[:, 1]))
    return (x0, y0, int(np.max(p[:, 0])) - x0 + 1, int(np.max(p[:, 1])) - y0 + 1)
