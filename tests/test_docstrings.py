"""The examples in the public docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import foveal
import numpy as np
import pytest

MODULES = [
    "foveal",
    "foveal.imgproc",
    "foveal.filters",
    "foveal.corners",
    "foveal.frequency",
    "foveal.nn",
    "foveal.attention",
    "foveal.segment",
    "foveal.components",
    "foveal.contours",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name, globs={"np": np, "foveal": foveal})
    assert tests, f"{name} has no examples"
    for test in tests:
        if test.name.split(".")[-1].startswith("_"):
            continue
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
