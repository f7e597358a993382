// The linear filters' launchers in the GPU modules (_cuda, and _cuda_emu under the SIMT
// emulator): filter2d, sep_filter2d (which gaussian_blur, sobel and scharr use) and box_filter,
// with device pointers and the stream as integers (see bind_pool.cpp). foveal._gpu.filters has
// checked and normalized the arguments and converted the taps and the border pixel; what could
// reach memory out of bounds is checked again here.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bind_util.hpp"
#include "border_name.hpp"
#include "filters.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

// The image, window and border arguments every launcher shares, checked.
template <class Args>
void set_common(Args& a, const char* fn, const std::string& src_dtype, const std::string& dst_dtype,
                std::uintptr_t src, i64 pitch, std::uintptr_t dst, i64 rows, i64 cols, i64 channels,
                int kh, int kw, int ay, int ax, const std::string& border) {
  a.src_type = image_dtype(src_dtype, fn);
  a.dst_type = image_dtype(dst_dtype, fn);
  a.src = address(src);
  a.pitch = pitch;
  a.dst = address(dst);
  a.rows = rows, a.cols = cols, a.channels = channels;
  a.kh = kh, a.kw = kw, a.ay = ay, a.ax = ax;
  a.border = bindings::border_from_name(border, fn);
  require(rows > 0 && cols > 0 && channels > 0, fn, "bad image sizes");
  require(rows == 1 || pitch >= cols * channels || -pitch >= cols * channels, fn,
          "rows overlap (pitch)");
  require(kh > 0 && kw > 0 && ay >= 0 && ay < kh && ax >= 0 && ax < kw, fn, "bad window");
  require(a.border != Border::Default, fn, "border 'default' is for morphology only");
  require(src != 0 && dst != 0, fn, "null pointer");
}

LinearArgs linear_args(const char* fn, const std::string& src_dtype, const std::string& dst_dtype,
                       std::uintptr_t src, i64 pitch, std::uintptr_t dst, i64 rows, i64 cols,
                       i64 channels, int kh, int kw, int ay, int ax, double delta,
                       const std::string& border, std::uintptr_t border_pixel) {
  LinearArgs a;
  set_common(a, fn, src_dtype, dst_dtype, src, pitch, dst, rows, cols, channels, kh, kw, ay, ax,
             border);
  a.wide = a.src_type == DType::f64 || a.dst_type == DType::f64;
  a.delta = delta;
  a.border_pixel = address(border_pixel);
  require(border_pixel != 0, fn, "null pointer");
  return a;
}

void bind_filters(py::module_& m) {
  m.def(
      "filter2d",
      [](const std::string& src_dtype, const std::string& dst_dtype, std::uintptr_t src, i64 pitch,
         std::uintptr_t dst, i64 rows, i64 cols, i64 channels, std::uintptr_t kernel, int kh,
         int kw, int ay, int ax, double delta, const std::string& border,
         std::uintptr_t border_pixel, std::uintptr_t stream) {
        LinearArgs a = linear_args("filter2d", src_dtype, dst_dtype, src, pitch, dst, rows, cols,
                                   channels, kh, kw, ay, ax, delta, border, border_pixel);
        a.kernel = address(kernel);
        require(kernel != 0, "filter2d", "null pointer");
        require(filter2d_fits(a), "filter2d", "the kernel is too large for the GPU tiles");
        py::gil_scoped_release release;
        filter2d(a, address(stream));
      },
      py::arg("src_dtype"), py::arg("dst_dtype"), py::arg("src"), py::arg("pitch"), py::arg("dst"),
      py::arg("rows"), py::arg("cols"), py::arg("channels"), py::arg("kernel"), py::arg("kh"),
      py::arg("kw"), py::arg("ay"), py::arg("ax"), py::arg("delta"), py::arg("border"),
      py::arg("border_pixel"), py::arg("stream"));

  m.def(
      "sep_filter2d",
      [](const std::string& src_dtype, const std::string& dst_dtype, std::uintptr_t src, i64 pitch,
         std::uintptr_t dst, i64 rows, i64 cols, i64 channels, std::uintptr_t kernel_x,
         std::uintptr_t kernel_y, int kh, int kw, int ay, int ax, double delta,
         const std::string& border, std::uintptr_t border_pixel, std::uintptr_t stream) {
        LinearArgs a = linear_args("sep_filter2d", src_dtype, dst_dtype, src, pitch, dst, rows,
                                   cols, channels, kh, kw, ay, ax, delta, border, border_pixel);
        a.kernel_x = address(kernel_x);
        a.kernel_y = address(kernel_y);
        require(kernel_x != 0 && kernel_y != 0, "sep_filter2d", "null pointer");
        require(sep_filter_fits(a), "sep_filter2d", "the kernels are too large for the GPU tiles");
        py::gil_scoped_release release;
        sep_filter(a, address(stream));
      },
      py::arg("src_dtype"), py::arg("dst_dtype"), py::arg("src"), py::arg("pitch"), py::arg("dst"),
      py::arg("rows"), py::arg("cols"), py::arg("channels"), py::arg("kernel_x"),
      py::arg("kernel_y"), py::arg("kh"), py::arg("kw"), py::arg("ay"), py::arg("ax"),
      py::arg("delta"), py::arg("border"), py::arg("border_pixel"), py::arg("stream"));

  m.def(
      "box_filter",
      [](const std::string& src_dtype, const std::string& dst_dtype, std::uintptr_t src, i64 pitch,
         std::uintptr_t dst, i64 rows, i64 cols, i64 channels, int kh, int kw, int ay, int ax,
         bool normalize, const std::string& border, std::uintptr_t border_pixel,
         std::uintptr_t stream) {
        BoxArgs a;
        set_common(a, "box_filter", src_dtype, dst_dtype, src, pitch, dst, rows, cols, channels, kh,
                   kw, ay, ax, border);
        a.normalize = normalize;
        a.border_pixel = static_cast<const double*>(address(border_pixel));
        require(border_pixel != 0, "box_filter", "null pointer");
        require(box_filter_fits(a), "box_filter", "the window is too large for the GPU tiles");
        py::gil_scoped_release release;
        box_filter(a, address(stream));
      },
      py::arg("src_dtype"), py::arg("dst_dtype"), py::arg("src"), py::arg("pitch"), py::arg("dst"),
      py::arg("rows"), py::arg("cols"), py::arg("channels"), py::arg("kh"), py::arg("kw"),
      py::arg("ay"), py::arg("ax"), py::arg("normalize"), py::arg("border"),
      py::arg("border_pixel"), py::arg("stream"));

  m.def(
      "filter_fits",
      [](const std::string& kind, const std::string& src_dtype, const std::string& dst_dtype,
         i64 channels, int kh, int kw) {
        const char* fn = "filter_fits";
        require(channels > 0 && kh > 0 && kw > 0, fn, "bad sizes");
        if (kind == "box") {
          BoxArgs a;
          a.src_type = image_dtype(src_dtype, fn);
          a.dst_type = image_dtype(dst_dtype, fn);
          a.rows = a.cols = 1;
          a.channels = channels, a.kh = kh, a.kw = kw;
          return box_filter_fits(a);
        }
        LinearArgs a;
        a.src_type = image_dtype(src_dtype, fn);
        a.dst_type = image_dtype(dst_dtype, fn);
        a.wide = a.src_type == DType::f64 || a.dst_type == DType::f64;
        a.rows = a.cols = 1;
        a.channels = channels, a.kh = kh, a.kw = kw;
        if (kind == "filter2d") return filter2d_fits(a);
        if (kind == "separable") return sep_filter_fits(a);
        throw ValueError("filter_fits: kind must be filter2d, separable or box, got " + kind);
      },
      py::arg("kind"), py::arg("src_dtype"), py::arg("dst_dtype"), py::arg("channels"),
      py::arg("kh"), py::arg("kw"));
}

const Family family(&bind_filters);

}  // namespace
}  // namespace gpu
}  // namespace foveal
