// The morphology launchers in the GPU modules (_cuda, and _cuda_emu under the SIMT emulator).
// Addresses and the stream arrive as integers; a window is (kh, kw, ay, ax) and its runs as a
// flat [dy, dx, len, ...] list (empty: the full rectangle); border pixels as the bytes of C
// values of the element type. The Python route (foveal._gpu.morphology) has checked the
// image and built the windows; what could reach memory out of bounds is checked again here.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bind_util.hpp"
#include "morphology.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

constexpr const char* kFn = "morphology";

MorphElem elem_of(const std::string& name) {
  if (name == "u8") return MorphElem::u8;
  if (name == "u16") return MorphElem::u16;
  if (name == "s16") return MorphElem::s16;
  if (name == "f32") return MorphElem::f32;
  if (name == "f64") return MorphElem::f64;
  throw TypeError("morphology: element type must be u8, u16, s16, f32 or f64, got " + name);
}

MorphBorder border_of(const std::string& name) {
  if (name == "constant") return MorphBorder::constant;
  if (name == "replicate") return MorphBorder::replicate;
  if (name == "reflect") return MorphBorder::reflect;
  if (name == "reflect101") return MorphBorder::reflect101;
  if (name == "wrap") return MorphBorder::wrap;
  throw ValueError(
      "morphology: border must be constant, replicate, reflect, reflect101 or wrap, "
      "got " +
      name);
}

MorphEpilogue epilogue_of(const std::string& name) {
  if (name == "none") return MorphEpilogue::none;
  if (name == "other_minus") return MorphEpilogue::other_minus;
  if (name == "minus_other") return MorphEpilogue::minus_other;
  throw ValueError("morphology: epilogue must be none, other_minus or minus_other, got " + name);
}

MorphImage image_of(const std::string& elem, i64 h, i64 w, i64 c, const std::string& border) {
  require(h > 0 && w > 0 && c > 0, kFn, "bad image size");
  return MorphImage{elem_of(elem), h, w, c, border_of(border)};
}

// A window with its runs checked against its box.
MorphWindow window_of(int kh, int kw, int ay, int ax, const std::vector<int>& runs) {
  require(kh > 0 && kw > 0 && ay >= 0 && ay < kh && ax >= 0 && ax < kw, kFn, "bad window");
  require(runs.size() % 3 == 0, kFn, "runs must be (dy, dx, len) triples");
  MorphWindow w;
  w.kh = kh, w.kw = kw, w.ay = ay, w.ax = ax;
  for (std::size_t i = 0; i < runs.size(); i += 3) {
    const MorphRun r{runs[i], runs[i + 1], runs[i + 2]};
    require(r.dy >= 0 && r.dy < kh && r.dx >= 0 && r.len > 0 && r.len <= kw - r.dx, kFn,
            "a run outside the window");
    w.runs.push_back(r);
  }
  return w;
}

void set_pixel(MorphWindow& w, const MorphImage& im, const py::bytes& pixel, bool dilate) {
  const std::string bytes = pixel;
  static const int sizes[] = {1, 2, 2, 4, 8};
  const std::size_t want =
      static_cast<std::size_t>(im.c) * static_cast<std::size_t>(sizes[static_cast<int>(im.elem)]);
  require(bytes.size() == want, kFn, "the border pixel must hold one value per channel");
  w.border_pixel.assign(bytes.begin(), bytes.end());
  w.dilate = dilate;
}

void require_images(std::uintptr_t src, std::uintptr_t dst, std::uintptr_t other,
                    const std::string& epilogue) {
  require(src != 0 && dst != 0, kFn, "null pointer");
  require(src != dst && dst != other, kFn, "out must be a separate array");
  require(epilogue == "none" || other != 0, kFn, "the epilogue needs its other image");
}

void bind_morphology(py::module_& m) {
  m.def("morph_max_runs", &morph_max_runs);
  m.def(
      "morph_supported",
      [](const std::string& elem, i64 h, i64 w, i64 c, int kh, int kw, int ay, int ax,
         const std::vector<int>& runs) {
        return morph_pass_supported(image_of(elem, h, w, c, "constant"),
                                    window_of(kh, kw, ay, ax, runs));
      },
      py::arg("elem"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("kh"), py::arg("kw"),
      py::arg("ay"), py::arg("ax"), py::arg("runs"));
  m.def(
      "morph_plan",
      [](const std::string& elem, i64 h, i64 w, i64 c, const std::string& border, int kh, int kw,
         int ay, int ax, const std::vector<int>& runs) {
        const MorphPlanInfo info =
            morph_plan_info(image_of(elem, h, w, c, border), window_of(kh, kw, ay, ax, runs));
        py::dict d;
        d["supported"] = info.supported;
        d["split"] = info.split;
        d["pair"] = info.pair;
        d["tile"] = py::make_tuple(info.th, info.twe);
        d["pair_tile"] = py::make_tuple(info.pair_th, info.pair_twe);
        return d;
      },
      py::arg("elem"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("border"), py::arg("kh"),
      py::arg("kw"), py::arg("ay"), py::arg("ax"), py::arg("runs"));
  m.def(
      "morph_pair_supported",
      [](const std::string& elem, i64 h, i64 w, i64 c, const std::string& border, int kh, int kw,
         int ay, int ax, const std::vector<int>& runs) {
        const MorphImage im = image_of(elem, h, w, c, border);
        const MorphWindow win = window_of(kh, kw, ay, ax, runs);
        return morph_pair_supported(im, win, win);
      },
      py::arg("elem"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("border"), py::arg("kh"),
      py::arg("kw"), py::arg("ay"), py::arg("ax"), py::arg("runs"));
  m.def(
      "morph_pass",
      [](const std::string& elem, i64 h, i64 w, i64 c, const std::string& border, int kh, int kw,
         int ay, int ax, const std::vector<int>& runs, bool dilate, const py::bytes& pixel,
         std::uintptr_t src, std::uintptr_t dst, const std::string& epilogue, std::uintptr_t other,
         std::uintptr_t stream) {
        const MorphImage im = image_of(elem, h, w, c, border);
        MorphWindow win = window_of(kh, kw, ay, ax, runs);
        set_pixel(win, im, pixel, dilate);
        const MorphEpilogue epi = epilogue_of(epilogue);
        require_images(src, dst, other, epilogue);
        require(morph_pass_supported(im, win), kFn, "window too large for the GPU kernels");
        py::gil_scoped_release release;
        morph_pass(im, win, address(src), address(dst), epi, address(other), address(stream));
      },
      py::arg("elem"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("border"), py::arg("kh"),
      py::arg("kw"), py::arg("ay"), py::arg("ax"), py::arg("runs"), py::arg("dilate"),
      py::arg("pixel"), py::arg("src"), py::arg("dst"), py::arg("epilogue"), py::arg("other"),
      py::arg("stream"));
  m.def(
      "morph_pair",
      [](const std::string& elem, i64 h, i64 w, i64 c, const std::string& border, int kh, int kw,
         int ay, int ax, const std::vector<int>& runs, bool first_dilates,
         const py::bytes& first_pixel, const py::bytes& second_pixel, std::uintptr_t src,
         std::uintptr_t dst, const std::string& epilogue, std::uintptr_t other,
         std::uintptr_t stream) {
        const MorphImage im = image_of(elem, h, w, c, border);
        MorphWindow first = window_of(kh, kw, ay, ax, runs);
        MorphWindow second = first;
        set_pixel(first, im, first_pixel, first_dilates);
        set_pixel(second, im, second_pixel, !first_dilates);
        const MorphEpilogue epi = epilogue_of(epilogue);
        require_images(src, dst, other, epilogue);
        require(morph_pair_supported(im, first, second), kFn,
                "windows too large for the GPU kernels' fused pair");
        py::gil_scoped_release release;
        morph_pair(im, first, second, address(src), address(dst), epi, address(other),
                   address(stream));
      },
      py::arg("elem"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("border"), py::arg("kh"),
      py::arg("kw"), py::arg("ay"), py::arg("ax"), py::arg("runs"), py::arg("first_dilates"),
      py::arg("first_pixel"), py::arg("second_pixel"), py::arg("src"), py::arg("dst"),
      py::arg("epilogue"), py::arg("other"), py::arg("stream"));
}

const Family family(&bind_morphology);

}  // namespace
}  // namespace gpu
}  // namespace foveal
