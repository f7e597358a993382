"""One table of every public foveal function that computes something, for the generic tests
(test_op_table.py, test_op_properties.py, test_bad_input.py), after PyTorch's OpInfo.

Each :class:`OpInfo` holds, for one function: its supported dtypes; a sample generator
``make(pick, dtype, shape)`` driven by a :class:`Picker` (a seeded NumPy generator for the
table's fixed sweep, hypothesis for the property tests, so that one generator serves both);
the fixed sweep of shapes (1x1, 1xN, Nx1, widths around the SIMD vector widths and around the
kernels' tiles) and the shape space hypothesis draws from; its reference (``foveal.reference``)
and the comparison with it (exact for integer, bool and label outputs, a stated tolerance per
dtype for floats); its anchor (cv2, scipy, torch, scikit-learn) where installed; and its error
inputs, each tagged with one bad-input class of :data:`BAD_CLASSES`. Adding a function means
adding one entry; :func:`coverage_matrix` says which bad-input classes each function has.

Tolerances (every float comparison below): ``|got - expected| <= rtol * max(1, scale) +
eps(dtype) * |expected|`` with rtol 1e-5 for float32 arithmetic and 1e-12 for float64 (a few
roundings of each of O(kernel size) terms, well inside float32's 6e-8 and float64's 1.1e-16
unit roundoff times the term count), ``scale`` the largest magnitude the computation reaches
(sum of |kernel| times max |image|, the pool of |x|, max |value| for attention, ...).
Integer outputs of float arithmetic (filters into uint8, ...) must be equal except where the
unrounded float64 value lies within the tolerance of a .5 tie, where the neighbour integer is
allowed too (conftest.assert_rule, the spec's rule). Integer, bool and label outputs of
integer or comparison arithmetic (morphology, labels, contours, max pools and indices) are
exact.
"""

from __future__ import annotations

import foveal
import foveal.nn
import op_entries_image
import op_entries_nn
import op_entries_segment
from op_core import (  # noqa: F401 - the table's vocabulary, re-exported for the tests
    BAD_CLASSES,
    CANDIDATE_DTYPES,
    LAYOUTS,
    DataPicker,
    ErrorInput,
    OpInfo,
    RngPicker,
    Sample,
    Skip,
    assert_exact,
    assert_identical,
    leaves,
    relayout,
    run_all,
    to_numpy,
)

OPS: list[OpInfo] = [
    *op_entries_image.ENTRIES,
    *op_entries_segment.ENTRIES,
    *op_entries_nn.ENTRIES,
]
BY_NAME = {op.name: op for op in OPS}

# public names that compute nothing (configuration) or are types
NOT_OPS = {
    "KMeansResult",
    "get_isa",
    "get_num_threads",
    "get_output_cache",
    "nn",
    "num_threads",
    "set_isa",
    "set_num_threads",
    "set_output_cache",
    "show_config",
}


def public_functions() -> set[str]:
    """Every computing name of foveal.__all__ and foveal.nn.__all__."""
    return (set(foveal.__all__) | set(foveal.nn.__all__)) - NOT_OPS


def bad_dtypes(op: OpInfo) -> tuple[str, ...]:
    """The candidate dtypes the main input does not support."""
    return tuple(d for d in CANDIDATE_DTYPES if d not in op.dtypes) if op.arrays else ()


def generic_classes(op: OpInfo) -> set[str]:
    """The bad-input classes test_bad_input.py checks for ``op`` from its metadata alone."""
    out = set()
    if op.arrays:
        out |= {"not_array", "empty", "huge_count"}
        if bad_dtypes(op):
            out.add("dtype")
        if op.ranks is not None or op.min_rank:
            out.add("rank")
    if op.out:
        out |= {"shape_mismatch", "out_readonly", "out_alias", "no_partial_write", "dtype"}
    return out


def declared_classes(op: OpInfo) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in op.errors(op.base()):
        counts[e.cls] = counts.get(e.cls, 0) + 1
    return counts


def coverage_matrix() -> dict[str, dict[str, str]]:
    """function -> bad-input class -> "covered" (by the generic tests over the table's
    metadata, "generic", and / or by n declared error inputs), "n/a: why", or "MISSING"."""
    matrix = {}
    for op in OPS:
        generic, declared = generic_classes(op), declared_classes(op)
        row = {}
        for cls in BAD_CLASSES:
            parts = []
            if cls in generic:
                parts.append("generic")
            if declared.get(cls):
                parts.append(f"{declared[cls]} declared")
            if parts:
                row[cls] = "covered (" + " + ".join(parts) + ")"
            elif cls in op.na:
                row[cls] = "n/a: " + op.na[cls]
            else:
                row[cls] = "MISSING"
        matrix[op.name] = row
    return matrix


def format_matrix(matrix=None) -> str:
    """The matrix as a table: C = covered, - = not applicable (reasons listed below)."""
    matrix = matrix or coverage_matrix()
    short = {c: c[:7] for c in BAD_CLASSES}
    width = max(len(n) for n in matrix)
    lines = [" " * width + " " + " ".join(f"{short[c]:>7}" for c in BAD_CLASSES)]
    notes = []
    for name, row in matrix.items():
        cells = []
        for c in BAD_CLASSES:
            v = row[c]
            cells.append("C" if v.startswith("covered") else "-" if v.startswith("n/a") else "??")
            if v.startswith("n/a"):
                notes.append(f"  {name} / {c}: {v[5:]}")
        lines.append(f"{name:<{width}} " + " ".join(f"{x:>7}" for x in cells))
    covered = sum(v.startswith("covered") for row in matrix.values() for v in row.values())
    na = sum(v.startswith("n/a") for row in matrix.values() for v in row.values())
    lines.append(
        f"\n{covered} cells covered, {na} not applicable, "
        f"{len(matrix) * len(BAD_CLASSES) - covered - na} missing"
    )
    return "\n".join(lines + ["", "not applicable:"] + notes)


def case_counts(hypothesis_examples: int = 40, anchors: bool = False) -> dict[str, dict]:
    """Generated cases per function: the fixed sweep (dtype x shape x variant, each against
    the reference), the sweep samples its anchor covers (with ``anchors``: runs the anchors'
    Skip rules, importing cv2 / torch / scikit-learn), the layout cases (each sweep sample in
    every layout), the out= cases, the declared error inputs, and the hypothesis examples of
    the reference comparison (one per example, ``hypothesis_examples`` per function)."""
    out = {}
    for op in OPS:
        sweep = [s for d in op.dtypes for s in op.sweep(d)]
        row = {
            "dtypes": len(op.dtypes),
            "sweep": len(sweep),
            "layouts": len(sweep) * len(LAYOUTS) if op.arrays else 0,
            "out": len(sweep) if op.out else 0,
            "error_inputs": sum(declared_classes(op).values()),
            "hypothesis": hypothesis_examples,
        }
        if anchors:
            row["anchor"] = 0
            if op.anchor:
                for d in op.anchor_dtypes or op.dtypes:
                    for s in op.sweep(d):
                        try:
                            op.anchor(s)
                        except Skip:
                            continue
                        row["anchor"] += 1
        out[op.name] = row
    return out


if __name__ == "__main__":  # python tests/op_table.py: the coverage matrix and the case counts
    print(format_matrix())
    print()
    counts = case_counts(anchors=True)
    keys = ("dtypes", "sweep", "anchor", "layouts", "out", "error_inputs", "hypothesis")
    print(f"{'function':<30}" + "".join(f"{k:>13}" for k in keys))
    for name, c in counts.items():
        print(f"{name:<30}" + "".join(f"{c[k]:>13}" for k in keys))
    print(f"{'total':<30}" + "".join(f"{sum(c[k] for c in counts.values()):>13}" for k in keys))
