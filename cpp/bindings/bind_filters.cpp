// Filter and gradient bindings. The Python wrappers (foveal.filters) have validated and
// normalized the arguments; this layer maps them to the C++ API and releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "array_view.hpp"
#include "border_name.hpp"
#include "foveal/corners.hpp"
#include "foveal/filters.hpp"

namespace py = pybind11;
using foveal::bindings::border_from_name;
using foveal::bindings::const_view;
using foveal::bindings::mutable_view;

namespace {

using Kernel = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::vector<double> values_of(const Kernel& k) {
  return std::vector<double>(k.data(), k.data() + k.size());
}

foveal::FilterOptions options(int anchor_y, int anchor_x, double delta, const std::string& border,
                              const std::vector<double>& border_value, const char* fn) {
  foveal::FilterOptions o;
  o.anchor_y = anchor_y;
  o.anchor_x = anchor_x;
  o.delta = delta;
  o.border = border_from_name(border, fn);
  o.border_value = border_value;
  return o;
}

py::array_t<double> to_array(const std::vector<double>& v) {
  py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

void bind_filters(py::module_& m) {
  m.def(
      "filter2d",
      [](const py::array& src, py::array& dst, const Kernel& kernel, int anchor_y, int anchor_x,
         double delta, const std::string& border, const std::vector<double>& border_value) {
        const auto s = const_view(src, "filter2d", "image");
        const auto d = mutable_view(dst, "filter2d", "out");
        if (kernel.ndim() != 2) throw foveal::ValueError("filter2d: kernel must be 2-D");
        const std::vector<double> k = values_of(kernel);
        const int kh = static_cast<int>(kernel.shape(0)), kw = static_cast<int>(kernel.shape(1));
        const auto o = options(anchor_y, anchor_x, delta, border, border_value, "filter2d");
        py::gil_scoped_release release;
        foveal::filter2d(s, d, k, kh, kw, o);
      },
      py::arg("src"), py::arg("dst"), py::arg("kernel"), py::arg("anchor_y"), py::arg("anchor_x"),
      py::arg("delta"), py::arg("border"), py::arg("border_value"));

  m.def(
      "sep_filter2d",
      [](const py::array& src, py::array& dst, const Kernel& kx, const Kernel& ky, int anchor_y,
         int anchor_x, double delta, const std::string& border,
         const std::vector<double>& border_value) {
        const auto s = const_view(src, "sep_filter2d", "image");
        const auto d = mutable_view(dst, "sep_filter2d", "out");
        const std::vector<double> x = values_of(kx), y = values_of(ky);
        const auto o = options(anchor_y, anchor_x, delta, border, border_value, "sep_filter2d");
        py::gil_scoped_release release;
        foveal::sep_filter2d(s, d, x, y, o);
      },
      py::arg("src"), py::arg("dst"), py::arg("kernel_x"), py::arg("kernel_y"), py::arg("anchor_y"),
      py::arg("anchor_x"), py::arg("delta"), py::arg("border"), py::arg("border_value"));

  m.def(
      "box_filter",
      [](const py::array& src, py::array& dst, int rows, int cols, bool normalize, int anchor_y,
         int anchor_x, const std::string& border, const std::vector<double>& border_value) {
        const auto s = const_view(src, "box_filter", "image");
        const auto d = mutable_view(dst, "box_filter", "out");
        const auto o = options(anchor_y, anchor_x, 0.0, border, border_value, "box_filter");
        py::gil_scoped_release release;
        foveal::box_filter(s, d, rows, cols, normalize, o);
      },
      py::arg("src"), py::arg("dst"), py::arg("rows"), py::arg("cols"), py::arg("normalize"),
      py::arg("anchor_y"), py::arg("anchor_x"), py::arg("border"), py::arg("border_value"));

  m.def(
      "gaussian_kernel",
      [](int ksize, double sigma) { return to_array(foveal::gaussian_kernel(ksize, sigma)); },
      py::arg("ksize"), py::arg("sigma"));

  m.def(
      "gaussian_blur",
      [](const py::array& src, py::array& dst, int rows, int cols, double sigma_x, double sigma_y,
         const std::string& border, const std::vector<double>& border_value) {
        const auto s = const_view(src, "gaussian_blur", "image");
        const auto d = mutable_view(dst, "gaussian_blur", "out");
        const auto o = options(-1, -1, 0.0, border, border_value, "gaussian_blur");
        py::gil_scoped_release release;
        foveal::gaussian_blur(s, d, rows, cols, sigma_x, sigma_y, o);
      },
      py::arg("src"), py::arg("dst"), py::arg("rows"), py::arg("cols"), py::arg("sigma_x"),
      py::arg("sigma_y"), py::arg("border"), py::arg("border_value"));

  m.def(
      "deriv_kernels",
      [](int dx, int dy, int ksize) {
        std::vector<double> kx, ky;
        foveal::deriv_kernels(dx, dy, ksize, kx, ky);
        return py::make_tuple(to_array(kx), to_array(ky));
      },
      py::arg("dx"), py::arg("dy"), py::arg("ksize"));

  m.def(
      "sobel",
      [](const py::array& src, py::array& dst, int dx, int dy, int ksize, double scale,
         double delta, const std::string& border, const std::vector<double>& border_value) {
        const auto s = const_view(src, "sobel", "image");
        const auto d = mutable_view(dst, "sobel", "out");
        const auto o = options(-1, -1, delta, border, border_value, "sobel");
        py::gil_scoped_release release;
        foveal::sobel(s, d, dx, dy, ksize, scale, o);
      },
      py::arg("src"), py::arg("dst"), py::arg("dx"), py::arg("dy"), py::arg("ksize"),
      py::arg("scale"), py::arg("delta"), py::arg("border"), py::arg("border_value"));

  m.def(
      "gradient",
      [](const py::array& src, py::object magnitude, py::object angle, int ksize, bool degrees,
         const std::string& border, const std::vector<double>& border_value) {
        const auto s = const_view(src, "gradient", "image");
        foveal::ImageView mag{}, ang{};
        if (!magnitude.is_none()) {
          py::array a = magnitude.cast<py::array>();
          mag = mutable_view(a, "gradient", "magnitude");
        }
        if (!angle.is_none()) {
          py::array a = angle.cast<py::array>();
          ang = mutable_view(a, "gradient", "angle");
        }
        const auto o = options(-1, -1, 0.0, border, border_value, "gradient");
        py::gil_scoped_release release;
        foveal::gradient(s, mag, ang, ksize, degrees, o);
      },
      py::arg("src"), py::arg("magnitude"), py::arg("angle"), py::arg("ksize"), py::arg("degrees"),
      py::arg("border"), py::arg("border_value"));

  m.def(
      "corner_response",
      [](const std::string& method, const py::array& src, py::array& dst, int block_size, int ksize,
         double k, const std::string& border) {
        const auto s = const_view(src, method.c_str(), "image");
        const auto d = mutable_view(dst, method.c_str(), "out");
        const foveal::Border b = border_from_name(border, method.c_str());
        const bool is_harris = method == "harris";
        if (!is_harris && method != "min_eigen")
          throw foveal::ValueError("corner_response: unknown method '" + method + "'");
        py::gil_scoped_release release;
        if (is_harris)
          foveal::harris(s, d, block_size, ksize, k, b);
        else
          foveal::min_eigen(s, d, block_size, ksize, b);
      },
      py::arg("method"), py::arg("src"), py::arg("dst"), py::arg("block_size"), py::arg("ksize"),
      py::arg("k"), py::arg("border"));

  m.def(
      "good_features",
      [](const py::array& response, double threshold, py::object mask, std::int64_t max_corners,
         double min_distance) {
        const auto r = const_view(response, "corners", "response");
        foveal::ConstImageView m;
        if (!mask.is_none()) m = const_view(mask.cast<py::array>(), "corners", "mask");
        std::vector<std::int64_t> positions;
        {
          py::gil_scoped_release release;
          positions = foveal::good_features(r, threshold, mask.is_none() ? nullptr : &m,
                                            max_corners, min_distance);
        }
        py::array_t<std::int64_t> out(static_cast<py::ssize_t>(positions.size()));
        std::copy(positions.begin(), positions.end(), out.mutable_data());
        return out;
      },
      py::arg("response"), py::arg("threshold"), py::arg("mask"), py::arg("max_corners"),
      py::arg("min_distance"));

  m.def(
      "canny",
      [](const py::array& src, py::array& dst, double low, double high, int ksize, bool l2) {
        const auto s = const_view(src, "canny", "image");
        const auto d = mutable_view(dst, "canny", "out");
        py::gil_scoped_release release;
        foveal::canny(s, d, low, high, ksize, l2);
      },
      py::arg("src"), py::arg("dst"), py::arg("low"), py::arg("high"), py::arg("ksize"),
      py::arg("l2"));
}
