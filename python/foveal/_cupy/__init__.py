"""CuPy fallbacks: every function on CuPy arrays for builds without the _cuda module, written
on CuPy arithmetic and cupyx.scipy.ndimage. Each takes its array module and ndimage module as
parameters where it can, so the same code is tested here with NumPy and scipy.ndimage."""
