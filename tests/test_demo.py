"""`python -m foveal`: the demo runs, every case matches the reference, inputs and errors."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import foveal
import numpy as np
import pytest
from foveal.__main__ import CASES, synthetic_scene

_HAVE_CV2 = importlib.util.find_spec("cv2") is not None
_HAVE_MPL = importlib.util.find_spec("matplotlib") is not None


def _demo(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # The foveal this test imported, whether installed or on PYTHONPATH, goes first.
    package_root = str(Path(foveal.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "foveal", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _check_success(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "MISMATCH" not in out
    assert "Traceback" not in proc.stderr
    rows = [line for line in out.splitlines() if line.rstrip().endswith("  OK")]
    assert len(rows) == len(CASES), out
    for case in CASES:
        assert any(row.startswith(case.name + " ") for row in rows), (case.name, out)
    assert out.startswith(f"foveal {foveal.__version__} | ISA ")


def test_quick_run():
    proc = _demo("--quick", "--repeat", "1")
    _check_success(proc)
    assert "270x480" in proc.stdout


def test_size_and_threads():
    proc = _demo("--size", "37x53", "--repeat", "2", "--threads", "1")
    _check_success(proc)
    assert "37x53" in proc.stdout
    assert "| 1 thread |" in proc.stdout


@pytest.mark.skipif(not _HAVE_MPL, reason="matplotlib is not installed")
def test_plot(tmp_path):
    png = tmp_path / "out.png"
    proc = _demo("--quick", "--repeat", "1", "--plot", str(png))
    _check_success(proc)
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _write_png(path: Path, image: np.ndarray) -> None:
    if _HAVE_CV2:
        import cv2

        bgr = image[..., ::-1] if image.ndim == 3 else image
        assert cv2.imwrite(str(path), np.ascontiguousarray(bgr))
    elif _HAVE_MPL:
        import matplotlib.image

        matplotlib.image.imsave(str(path), image, cmap="gray" if image.ndim == 2 else None)
    else:
        pytest.skip("writing a PNG needs OpenCV or matplotlib")


@pytest.mark.parametrize("channels", [3, 1])
def test_image_argument(tmp_path, channels):
    scene = synthetic_scene(45, 70, seed=3)
    image = scene if channels == 3 else scene[..., 1].copy()
    path = tmp_path / "scene.png"
    _write_png(path, image)
    proc = _demo(str(path), "--repeat", "1")
    _check_success(proc)
    assert f"image {path}, 45x70 uint8" in proc.stdout
    assert "45x70x3" in proc.stdout  # the multi-channel case


def test_image_argument_resized(tmp_path):
    path = tmp_path / "scene.png"
    _write_png(path, synthetic_scene(40, 60, seed=4))
    proc = _demo(str(path), "--size", "25x90", "--repeat", "1")
    _check_success(proc)
    assert "25x90" in proc.stdout


@pytest.mark.parametrize("what", ["missing", "directory", "not-an-image"])
def test_bad_image_path(tmp_path, what):
    if what == "missing":
        path = tmp_path / "no-such-image.png"
    elif what == "directory":
        path = tmp_path
    else:
        path = tmp_path / "text.png"
        path.write_text("this is not a PNG\n")
    proc = _demo(str(path))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "error: cannot read image" in proc.stderr or "neither is installed" in proc.stderr
    assert str(path) in proc.stderr or "neither is installed" in proc.stderr


@pytest.mark.parametrize("args", [["--size", "0x10"], ["--size", "big"], ["--repeat", "0"]])
def test_bad_arguments(args):
    proc = _demo(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "error: argument" in proc.stderr


def test_synthetic_scene_is_deterministic():
    a, b = synthetic_scene(60, 90), synthetic_scene(60, 90)
    assert a.dtype == np.uint8 and a.shape == (60, 90, 3)
    assert np.array_equal(a, b)
    assert len(np.unique(a)) > 50  # not flat: gradients, shapes, textures and noise
    for h, w in [(1, 1), (2, 3), (5, 1)]:
        assert synthetic_scene(h, w).shape == (h, w, 3)


def test_mismatch_and_errors_fail(monkeypatch, capsys):
    from foveal import __main__ as demo

    def wrong(img):
        out = foveal.dilate(img, 3).copy()
        out[0, 0] ^= 1
        return out

    def broken(img):
        raise RuntimeError("boom")

    cases = [
        demo.Case("dilate off by one", lambda img: foveal.dilate(img, 3), wrong),
        demo.Case("raises", broken, lambda img: img),
    ]
    monkeypatch.setattr(demo, "CASES", cases)
    assert demo.main(["--size", "20x30", "--repeat", "1"]) == 1
    out = capsys.readouterr().out
    assert "dilate off by one" in out and "MISMATCH: 1 of 600 values differ" in out
    assert "MISMATCH: foveal raised RuntimeError: boom" in out
    assert "2 of 2 results differ" in out


@pytest.mark.skipif(not _HAVE_MPL, reason="matplotlib is not installed")
def test_plot_to_missing_folder(tmp_path):
    proc = _demo("--size", "30x40", "--repeat", "1", "--plot", str(tmp_path / "no" / "out.png"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot write the plot" in proc.stderr
