// The fused gradient and corner launchers in the GPU modules (see bind_pool.cpp for the
// conventions). What the kernels cover is checked again here (gradients.hpp's limits), and so
// is everything that could reach memory out of bounds.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bind_util.hpp"
#include "border_name.hpp"
#include "gradients.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

// The constant border of each channel in the image's range, as the CPU path takes it: integer
// images round half to even and saturate, float32 rounds to float32.
std::vector<double> saturated(std::vector<double> values, DType dtype) {
  double lo = 0, hi = 0;
  if (dtype == DType::u8) hi = 255;
  if (dtype == DType::u16) hi = 65535;
  if (dtype == DType::s16) lo = -32768, hi = 32767;
  for (double& v : values) {
    if (hi > lo) {
      require(!std::isnan(v), "gradient", "border_value must not be NaN for integer images");
      v = std::clamp(std::nearbyint(v), lo, hi);
    } else if (dtype == DType::f32) {
      v = static_cast<float>(v);
    }
  }
  return values;
}

bool valid_ksize(int ksize) {
  return ksize == -1 || ksize == 1 || ksize == 3 || ksize == 5 || ksize == 7;
}

int radius(int ksize) {
  return ksize > 1 ? ksize / 2 : 1;
}

// Whether tiles x strips of rows (the blocks of one launch, at least 16 rows per strip unless
// `strip` says fewer) stay below 2^31.
bool few_enough_blocks(i64 tiles, i64 rows, i64 strip) {
  const i64 per_strip = strip > 0 && strip < 16 ? strip : 16;
  return tiles * ((rows + per_strip - 1) / per_strip) < (i64{1} << 31);
}

void bind_gradients(py::module_& m) {
  m.def(
      "gradient",
      [](const std::string& dtype, std::uintptr_t src, i64 pitch, std::uintptr_t magnitude,
         std::uintptr_t angle, i64 rows, i64 cols, i64 channels, int ksize, bool degrees,
         const std::string& border, const std::vector<double>& border_value, std::uintptr_t stream,
         int threads, i64 strip) {
        const char* fn = "gradient";
        GradientArgs a;
        a.dtype = image_dtype(dtype, fn);
        a.src = address(src);
        a.pitch = pitch;
        a.magnitude = address(magnitude);
        a.angle = address(angle);
        a.rows = rows, a.cols = cols, a.channels = channels;
        a.ksize = ksize;
        a.degrees = degrees;
        a.border = bindings::border_from_name(border, fn);
        a.threads = threads;
        a.strip = strip;
        require(rows > 0 && cols > 0 && channels > 0, fn, "bad sizes");
        require(rows < kMaxSide && cols < kMaxSide, fn,
                "too many rows or columns for the GPU kernel");
        require(channels <= kMaxGradientChannels, fn, "too many channels for the GPU kernel");
        require(valid_ksize(ksize), fn, "ksize must be 1, 3, 5, 7 or -1");
        require(a.border != Border::Default, fn, "border 'default' is for morphology only");
        require(threads == 0 || (threads >= 1 && threads <= 256), fn, "threads must be 1..256");
        const int t = threads > 0 ? threads : 256;
        require(2 * radius(ksize) * channels <= t, fn, "the row halo does not fit the block");
        require(few_enough_blocks((cols * channels + t - 1) / t, rows, strip), fn,
                "too large for one launch");
        require(strip >= 0, fn, "strip must be >= 0");
        require(std::abs(pitch) >= cols * channels || rows == 1, fn, "rows overlap");
        require(border_value.size() == 1 || border_value.size() == static_cast<size_t>(channels),
                fn, "border_value must have 1 or channels values");
        require(src != 0 && magnitude != 0 && angle != 0, fn, "null pointer");
        std::vector<double> px = saturated(border_value, a.dtype);
        px.resize(static_cast<size_t>(channels), px[0]);
        a.border_pixel = px.data();
        py::gil_scoped_release release;
        gradient(a, address(stream));
      },
      py::arg("dtype"), py::arg("src"), py::arg("pitch"), py::arg("magnitude"), py::arg("angle"),
      py::arg("rows"), py::arg("cols"), py::arg("channels"), py::arg("ksize"), py::arg("degrees"),
      py::arg("border"), py::arg("border_value"), py::arg("stream"), py::arg("threads") = 0,
      py::arg("strip") = 0);

  m.def(
      "corner_response",
      [](const std::string& method, const std::string& dtype, std::uintptr_t src, i64 pitch,
         std::uintptr_t dst, i64 rows, i64 cols, int block_size, int ksize, double k,
         const std::string& border, std::uintptr_t stream, int threads, i64 strip) {
        const char* fn = method == "harris" ? "harris" : "min_eigen";
        require(method == "harris" || method == "min_eigen", fn,
                "method must be harris or min_eigen");
        CornerArgs a;
        a.dtype = image_dtype(dtype, fn);
        a.src = address(src);
        a.pitch = pitch;
        a.dst = address(dst);
        a.rows = rows, a.cols = cols;
        a.block = block_size;
        a.ksize = ksize;
        a.harris = method == "harris";
        a.k = k;
        a.border = bindings::border_from_name(border, fn);
        a.threads = threads;
        a.strip = strip;
        require(rows > 0 && cols > 0, fn, "bad sizes");
        require(rows < kMaxSide && cols < kMaxSide, fn,
                "too many rows or columns for the GPU kernel");
        require(block_size >= 1 && block_size <= kMaxCornerBlock, fn,
                "block_size is outside what the GPU kernel covers (1..7)");
        require(valid_ksize(ksize), fn, "ksize must be 1, 3, 5, 7 or -1");
        require(std::isfinite(k), fn, "k must be finite");
        require(a.border != Border::Default, fn, "border 'default' is for morphology only");
        require(threads == 0 ||
                    (threads >= std::max(block_size + 1, 2 * radius(ksize)) && threads <= 128),
                fn, "threads must be in [max(block_size + 1, 2 radius), 128]");
        require(strip >= 0, fn, "strip must be >= 0");
        const i64 tile = (threads > 0 ? threads : 128) - (block_size - 1);
        require(few_enough_blocks((cols + tile - 1) / tile, rows, strip), fn,
                "too large for one launch");
        require(std::abs(pitch) >= cols || rows == 1, fn, "rows overlap");
        require(src != 0 && dst != 0, fn, "null pointer");
        py::gil_scoped_release release;
        corner_response(a, address(stream));
      },
      py::arg("method"), py::arg("dtype"), py::arg("src"), py::arg("pitch"), py::arg("dst"),
      py::arg("rows"), py::arg("cols"), py::arg("block_size"), py::arg("ksize"), py::arg("k"),
      py::arg("border"), py::arg("stream"), py::arg("threads") = 0, py::arg("strip") = 0);
}

const Family family(&bind_gradients);

}  // namespace
}  // namespace gpu
}  // namespace foveal
