"""The public docstrings: each names its arguments and the function it mirrors (its anchor), and
carries an example that runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re

import foveal
import foveal.nn
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
    "foveal._config",
]

# The function (or paper) each public name mirrors; its docstring must name it. A new public
# function without an entry here fails test_every_public_name_has_an_anchor.
ANCHORS = {
    "foveal": {
        "KMeansResult": "sklearn.cluster.KMeans",
        "arc_length": "cv2.arcLength",
        "bandpass": "numpy.fft.fft2",
        "bounding_rect": "cv2.boundingRect",
        "box_filter": "cv2.boxFilter",
        "canny": "cv2.Canny",
        "component_stats": "cv2.connectedComponentsWithStats",
        "contour_area": "cv2.contourArea",
        "corners": "cv2.goodFeaturesToTrack",
        "dilate": "cv2.dilate",
        "draw_contours": "cv2.drawContours",
        "erode": "cv2.erode",
        "filter2d": "cv2.filter2D",
        "find_contours": "cv2.findContours",
        "gaussian_blur": "cv2.GaussianBlur",
        "get_isa": "torch.backends.cpu.get_cpu_capability",
        "get_num_threads": "torch.get_num_threads",
        "gradient": "cv2.cartToPolar",
        "harris": "cv2.cornerHarris",
        "kmeans": "sklearn.cluster.KMeans",
        "kmeans_predict": "sklearn.cluster.KMeans.predict",
        "label": "cv2.connectedComponentsWithStats",
        "min_eigen": "cv2.cornerMinEigenVal",
        "morphology": "cv2.morphologyEx",
        "num_threads": "threadpoolctl.threadpool_limits",
        "scharr": "cv2.Scharr",
        "segment_colors": "sklearn.cluster.KMeans",
        "sep_filter2d": "cv2.sepFilter2D",
        "get_output_cache": "cupy.cuda.MemoryPool.total_bytes",
        "set_isa": "ATEN_CPU_CAPABILITY",
        "set_output_cache": "cupy.cuda.MemoryPool.set_limit",
        "set_num_threads": "torch.set_num_threads",
        "show_config": "numpy.show_config",
        "sobel": "cv2.Sobel",
        "spectrum": "numpy.fft.fft2",
        "structuring_element": "cv2.getStructuringElement",
    },
    "foveal.nn": {
        "adaptive_avg_pool2d": "torch.nn.functional.adaptive_avg_pool2d",
        "adaptive_max_pool2d": "torch.nn.functional.adaptive_max_pool2d",
        "additive_attention": "Bahdanau et al.",
        "avg_pool2d": "torch.nn.functional.avg_pool2d",
        "conv2d": "torch.nn.functional.conv2d",
        "lp_pool2d": "torch.nn.functional.lp_pool2d",
        "luong_attention": "Luong et al.",
        "max_pool2d": "torch.nn.functional.max_pool2d",
        "multi_head_attention": "torch.nn.MultiheadAttention",
        "patchify": "torch.nn.functional.unfold",
        "scaled_dot_product_attention": "torch.nn.functional.scaled_dot_product_attention",
        "self_attentive_pooling": "Lin et al.",
        "unpatchify": "torch.nn.functional.fold",
    },
}


def _public() -> list[tuple[str, object]]:
    """(qualified name, object) for every function and class in foveal's and foveal.nn's
    ``__all__`` (the submodule ``foveal.nn`` itself excluded)."""
    found = []
    for module in (foveal, foveal.nn):
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.ismodule(obj):
                found.append((f"{module.__name__}.{name}", obj))
    return found


PUBLIC = _public()


def _doc(obj: object) -> str:
    return inspect.getdoc(obj) or ""


def _runner() -> doctest.DocTestRunner:
    return doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = _runner()
    tests = finder.find(module, name, globs={"np": np, "foveal": foveal})
    assert tests, f"{name} has no examples"
    for test in tests:
        if test.name.split(".")[-1].startswith("_"):
            continue
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0


def test_every_public_name_has_an_anchor():
    listed = {f"{m}.{n}" for m, names in ANCHORS.items() for n in names}
    public = {name for name, _ in PUBLIC}
    assert public - listed == set(), "public names without an anchor in ANCHORS"
    assert listed - public == set(), "ANCHORS lists names that are not public"


@pytest.mark.parametrize("qualname, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_docstring(qualname, obj):
    """A docstring that names the anchor and every argument, with an example that runs and
    prints something (a statement alone checks nothing)."""
    module, name = qualname.rsplit(".", 1)
    doc = _doc(obj)
    assert doc, f"{qualname} has no docstring"
    anchor = ANCHORS[module][name]
    assert anchor in doc, f"{qualname}'s docstring does not name its anchor {anchor}"
    if inspect.isroutine(obj):
        for param in inspect.signature(obj).parameters.values():
            if param.kind is param.VAR_KEYWORD:
                continue
            assert re.search(rf"\b{param.name}\b", doc), f"{qualname}: {param.name} undocumented"
    examples = doctest.DocTestParser().get_examples(doc)
    assert examples, f"{qualname}'s docstring has no example"
    assert any(ex.want.strip() for ex in examples), f"{qualname}'s example shows no result"
    test = doctest.DocTestParser().get_doctest(doc, {"np": np, "foveal": foveal}, qualname, None, 0)
    runner = _runner()
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_the_check_sees_a_missing_example_and_anchor():
    """The checks above can fail: a docstring without example or anchor is caught."""

    def bare(image):
        """Dilates ``image``."""

    with pytest.raises(AssertionError, match="anchor"):
        test_public_docstring("foveal.dilate", bare)
    bare.__doc__ = "Dilates ``image``, as cv2.dilate."
    with pytest.raises(AssertionError, match="no example"):
        test_public_docstring("foveal.dilate", bare)
