// The pooling launcher in the GPU modules (_cuda, and _cuda_emu under the SIMT emulator). As in
// every bind_*.cpp of cuda/, device pointers and the stream arrive as integers (CuPy's
// ``data.ptr`` and stream ``ptr``), so the module needs neither CuPy nor torch; the Python
// wrappers have checked every argument, and what could reach memory out of bounds is checked
// again here.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bind_util.hpp"
#include "pool.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

PoolKind pool_kind(const std::string& kind) {
  if (kind == "max") return PoolKind::max;
  if (kind == "avg") return PoolKind::avg;
  if (kind == "lp") return PoolKind::lp;
  throw ValueError("pool2d: kind must be max, avg or lp, got " + kind);
}

void bind_pool(py::module_& m) {
  m.def(
      "pool2d",
      [](const std::string& kind, bool adaptive, const std::string& dtype, std::uintptr_t input,
         std::uintptr_t output, std::uintptr_t indices, i64 planes, i64 h, i64 w, i64 oh, i64 ow,
         i64 kh, i64 kw, i64 sh, i64 sw, i64 ph, i64 pw, i64 dh, i64 dw, bool count_include_pad,
         i64 divisor_override, double norm_type, std::uintptr_t stream) {
        PoolArgs a;
        a.kind = pool_kind(kind);
        a.adaptive = adaptive;
        a.dtype = real_of(dtype, "pool2d");
        a.input = address(input);
        a.output = address(output);
        a.indices = static_cast<i64*>(address(indices));
        a.planes = planes, a.h = h, a.w = w, a.oh = oh, a.ow = ow;
        a.kh = kh, a.kw = kw, a.sh = sh, a.sw = sw, a.ph = ph, a.pw = pw, a.dh = dh, a.dw = dw;
        a.count_include_pad = count_include_pad;
        a.divisor_override = divisor_override;
        a.norm_type = norm_type;
        require(planes >= 0 && h > 0 && w > 0 && oh > 0 && ow > 0, "pool2d", "bad sizes");
        require(adaptive || (kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0 && ph >= 0 &&
                             pw >= 0 && ph <= kh / 2 && pw <= kw / 2),
                "pool2d", "bad window");
        require(adaptive || ((oh - 1) * sh - ph < h && (ow - 1) * sw - pw < w), "pool2d",
                "a window starts past the input");
        require(input != 0 && output != 0, "pool2d", "null pointer");
        py::gil_scoped_release release;
        pool2d(a, address(stream));
      },
      py::arg("kind"), py::arg("adaptive"), py::arg("dtype"), py::arg("input"), py::arg("output"),
      py::arg("indices"), py::arg("planes"), py::arg("h"), py::arg("w"), py::arg("oh"),
      py::arg("ow"), py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("ph"),
      py::arg("pw"), py::arg("dh"), py::arg("dw"), py::arg("count_include_pad"),
      py::arg("divisor_override"), py::arg("norm_type"), py::arg("stream"));
}

const Family family(&bind_pool);

}  // namespace
}  // namespace gpu
}  // namespace foveal
