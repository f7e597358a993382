"""docs/api.md is what docs/gen_api.py makes of the current signatures and docstrings, and it
covers every public function."""

from __future__ import annotations

import importlib.util
import pathlib

import foveal
import foveal.nn
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_api", ROOT / "docs" / "gen_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_api = _generator()


def test_api_page_is_up_to_date():
    pytest.importorskip("dask.array", reason="the page documents foveal.dask")
    committed = (ROOT / "docs" / "api.md").read_text()
    assert gen_api.render() == committed, "docs/api.md is out of date: run python docs/gen_api.py"


def test_api_page_lists_every_public_function_once():
    listed = [
        (module, name)
        for _, module, names in gen_api.FAMILIES
        if names is not None
        for name in names
    ]
    assert len(listed) == len(set(listed)), "a function is listed in two families"
    public = {
        (module.__name__, name)
        for module in (foveal, foveal.nn)
        for name in module.__all__
        if name != "nn"
    }
    assert set(listed) == public


def test_api_page_renders_signatures_and_sections():
    """A long signature goes one parameter a line, annotations unquoted; Args become a list."""

    def f(image: int, *, border: str = "reflect101", out: None = None) -> None:
        """Does nothing, as ``cv2.nothing``.

        Args:
            image: the image,
                on two lines.
            border, out: as :func:`g`.

        >>> 1
        1
        """

    assert gen_api.signature("f", f) == (
        "f(image: int, *, border: str = 'reflect101', out: None = None) -> None"
    )
    assert gen_api.signature("a_module_name_long_enough_to_wrap.f", f).count("\n") == 5
    text = gen_api.docstring(f)
    assert "- `image`: the image, on two lines." in text
    assert "- `border`, `out`: as `g`." in text
    assert "```python\n>>> 1\n1\n```" in text
