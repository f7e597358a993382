"""Plain, vectorized NumPy implementations of every foveal function.

They are the executable specification (the tests compare every kernel with them) and the
NumPy baseline that the benchmarks time. Each takes the same arguments as its foveal
counterpart, already validated, and returns a new NumPy array.
"""

from .border import pad
from .morphology import dilate, erode, morphology, structuring_element

__all__ = ["dilate", "erode", "morphology", "pad", "structuring_element"]
