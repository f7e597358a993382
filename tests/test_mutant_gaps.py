"""Tests for the gaps that planted faults (tools/mutants.py, tools/MUTANTS.md) found: each
case here failed to be caught by the family's own tests when its mutant was planted.

- corners-min-distance-edge: a corner at exactly min_distance from a stronger kept one is kept
  (cv2.goodFeaturesToTrack rejects only those strictly closer).
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest


def _two_dots(offset):
    """Single bright pixels at (20, 20) (weaker) and (20 + dy, 20 + dx) (stronger)."""
    img = np.zeros((64, 64), np.float32)
    img[20, 20] = 1.0
    img[20 + offset[0], 20 + offset[1]] = 2.0
    return img


# (dy, dx) from the weaker dot to the stronger; squared distance 100 = min_distance^2 except
# (7, 7) (98, closer: rejected)
EDGE_CASES = {(0, 10): True, (10, 0): True, (6, 8): True, (8, 6): True, (7, 7): False}


@pytest.mark.parametrize("offset", list(EDGE_CASES))
def test_corner_at_exactly_min_distance_is_kept(offset):
    img = _two_dots(offset)
    got = foveal.corners(img, 10, 0.01, 10)
    stronger = [20.0 + offset[1], 20.0 + offset[0]]  # (x, y)
    expected = [stronger, [20.0, 20.0]] if EDGE_CASES[offset] else [stronger]
    assert got.tolist() == expected


@pytest.mark.parametrize("offset", list(EDGE_CASES))
def test_corner_at_exactly_min_distance_matches_cv2(offset, cv2):
    img = _two_dots(offset)
    expected = cv2.goodFeaturesToTrack(img, 10, 0.01, 10).reshape(-1, 2)
    np.testing.assert_array_equal(foveal.corners(img, 10, 0.01, 10), expected)
