"""Writes docs/api.md, foveal's API reference, from the public functions' signatures and
docstrings, grouped by family as in DESIGN.md.

    python docs/gen_api.py           # rewrite docs/api.md
    python docs/gen_api.py --check   # exit 1 if docs/api.md is out of date

tests/test_docs.py runs the check. The page needs the dask extra (for foveal.dask).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pathlib
import re
import sys
import textwrap
import typing

PAGE = pathlib.Path(__file__).resolve().parent / "api.md"

# (title, module, names); None takes the module's __all__.
FAMILIES: list[tuple[str, str, list[str] | None]] = [
    ("Morphology", "foveal", ["structuring_element", "erode", "dilate", "morphology"]),
    (
        "Filters and gradients",
        "foveal",
        [
            "filter2d",
            "sep_filter2d",
            "box_filter",
            "gaussian_blur",
            "sobel",
            "scharr",
            "gradient",
            "canny",
        ],
    ),
    ("Corners", "foveal", ["harris", "min_eigen", "corners"]),
    ("Frequency domain", "foveal", ["spectrum", "bandpass"]),
    (
        "Segmentation",
        "foveal",
        [
            "kmeans",
            "KMeansResult",
            "kmeans_predict",
            "segment_colors",
            "label",
            "component_stats",
            "find_contours",
            "contour_area",
            "arc_length",
            "bounding_rect",
            "draw_contours",
        ],
    ),
    (
        "Neural-network ops",
        "foveal.nn",
        [
            "conv2d",
            "max_pool2d",
            "avg_pool2d",
            "lp_pool2d",
            "adaptive_avg_pool2d",
            "adaptive_max_pool2d",
            "patchify",
            "unpatchify",
        ],
    ),
    (
        "Attention",
        "foveal.nn",
        [
            "scaled_dot_product_attention",
            "multi_head_attention",
            "additive_attention",
            "luong_attention",
            "self_attentive_pooling",
        ],
    ),
    ("Scale-out with Dask", "foveal.dask", None),
    (
        "Threads and configuration",
        "foveal",
        [
            "set_num_threads",
            "get_num_threads",
            "num_threads",
            "set_isa",
            "get_isa",
            "set_output_cache",
            "get_output_cache",
            "show_config",
        ],
    ),
]

SECTIONS = ("Args:", "Returns:", "Yields:", "Fields:")
WIDTH = 92


def members() -> list[tuple[str, str, list[tuple[str, object]]]]:
    """(title, module name, [(name, object)]) per family, in the page's order."""
    found = []
    for title, module_name, names in FAMILIES:
        module = importlib.import_module(module_name)
        chosen = list(module.__all__) if names is None else names
        found.append((title, module_name, [(n, getattr(module, n)) for n in chosen]))
    return found


def _annotation(a: object) -> str:
    """An annotation as written: postponed ones are strings (NamedTuple's, ForwardRefs)."""
    if isinstance(a, typing.ForwardRef):
        return a.__forward_arg__
    return a if isinstance(a, str) else getattr(a, "__name__", repr(a))


def signature(qualname: str, obj: object) -> str:
    """``qualname(params) -> result`` as written in the source (annotations unquoted), one
    parameter per line when it does not fit on one."""
    sig = inspect.signature(obj)  # type: ignore[arg-type]
    params, star = [], False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
        star = star or p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)
        text = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(p.kind.name, "") + p.name
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            eq = " = " if p.annotation is not p.empty else "="
            text += f"{eq}{p.default!r}"
        params.append(text)
    result = ""
    if sig.return_annotation is not sig.empty:
        result = f" -> {_annotation(sig.return_annotation)}"
    one_line = f"{qualname}({', '.join(params)}){result}"
    if len(one_line) <= WIDTH:
        return one_line
    return f"{qualname}(\n" + "".join(f"    {p},\n" for p in params) + f"){result}"


def _inline(text: str) -> str:
    """reST's ``code`` and :func:`name` as Markdown code; other asterisks literal."""
    text = re.sub(r":(?:func|class|mod):`~?([^`]+)`", r"``\1``", text)
    pieces = re.split(r"(``.+?``)", text, flags=re.S)
    return "".join(f"`{p[2:-2]}`" if p.startswith("``") else p.replace("*", r"\*") for p in pieces)


def _section(block: str) -> str:
    """An Args: / Returns: block: its entries (``name: text`` at the first indent) as a list."""
    header, _, body = block.partition("\n")
    lines = textwrap.dedent(body).splitlines()
    if header == "Returns:" or not lines or ":" not in lines[0]:
        return f"**{header[:-1]}**: " + _inline(" ".join(line.strip() for line in lines))
    items: list[str] = []
    for line in lines:
        if line.startswith(" ") and items:
            items[-1] += " " + line.strip()
        else:
            items.append(line.strip())
    out = [f"**{header[:-1]}**", ""]
    for item in items:
        names, _, text = item.partition(": ")
        code = ", ".join(f"`{n.strip()}`" for n in names.split(","))
        out.append(f"- {code}: {_inline(text)}")
    return "\n".join(out)


def docstring(obj: object) -> str:
    """The docstring as Markdown: paragraphs as text, Args/Returns as lists, examples and
    indented formulas as code blocks."""
    blocks = re.split(r"\n\s*\n", inspect.getdoc(obj) or "")
    out = []
    for block in blocks:
        lines = block.splitlines()
        if lines[0].startswith(">>>"):
            out.append("```python\n" + block + "\n```")
        elif lines[0] in SECTIONS:
            out.append(_section(block))
        elif any(line.startswith("  ") for line in lines[1:]):
            out.append("```text\n" + block + "\n```")
        else:
            out.append(_inline(" ".join(lines)))
    return "\n\n".join(out)


def render() -> str:
    families = members()
    typing_doc = inspect.getdoc(importlib.import_module("foveal._typing")) or ""
    parts = [
        "# foveal API reference",
        "",
        "Generated by `docs/gen_api.py` from the signatures and docstrings; do not edit by hand"
        " (after changing a docstring, run `python docs/gen_api.py`; `tests/test_docs.py` fails"
        " while this page is out of date).",
        "",
        "Images are `(H, W)` or `(H, W, C)`, network tensors `(N, C, H, W)`, attention tensors"
        " `(..., L, E)`. Each function's docstring names the function it mirrors; its example"
        " runs as a doctest.",
        "",
        "## Types in the signatures",
        "",
        "\n\n".join(_inline(" ".join(p.split())) for p in typing_doc.split("\n\n")[1:]),
        "",
        "## Contents",
        "",
    ]
    for title, module_name, items in families:
        anchor = title.lower().replace(" ", "-")
        names = ", ".join(f"`{n}`" for n, _ in items)
        parts.append(f"- [{title}](#{anchor}) (`{module_name}`): {names}")
    for title, module_name, items in families:
        parts += ["", f"## {title}"]
        for name, obj in items:
            qualname = f"{module_name}.{name}"
            parts += ["", f"### `{qualname}`", "", "```python", signature(qualname, obj)]
            parts += ["```", "", docstring(obj)]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    args = parser.parse_args()
    page = render()
    if args.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != page:
            print(f"{PAGE} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
