// conv2d's launcher in the GPU modules (see bind_pool.cpp for the conventions). The input
// comes with its element strides (any view); weight, bias and output are contiguous.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bind_util.hpp"
#include "conv.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

ConvType conv_type(const std::string& dtype) {
  if (dtype == "float16") return ConvType::f16;
  if (dtype == "bfloat16") return ConvType::bf16;
  if (dtype == "float32") return ConvType::f32;
  if (dtype == "float64") return ConvType::f64;
  throw TypeError("conv2d: dtype must be float16, bfloat16, float32 or float64, got " + dtype);
}

void bind_conv(py::module_& m) {
  m.def(
      "conv2d",
      [](const std::string& dtype, bool tf32, std::uintptr_t input, i64 in_sn, i64 in_sc, i64 in_sh,
         i64 in_sw, std::uintptr_t weight, std::uintptr_t bias, std::uintptr_t output, i64 n,
         i64 c_in, i64 h, i64 w, i64 c_out, i64 kh, i64 kw, i64 oh, i64 ow, i64 sh, i64 sw,
         i64 pad_top, i64 pad_left, i64 dh, i64 dw, i64 groups, std::uintptr_t stream) {
        ConvArgs a;
        a.dtype = conv_type(dtype);
        a.tf32 = tf32;
        a.input = address(input);
        a.in_sn = in_sn, a.in_sc = in_sc, a.in_sh = in_sh, a.in_sw = in_sw;
        a.weight = address(weight);
        a.bias = address(bias);
        a.output = address(output);
        a.n = n, a.c_in = c_in, a.h = h, a.w = w, a.c_out = c_out, a.kh = kh, a.kw = kw;
        a.oh = oh, a.ow = ow, a.sh = sh, a.sw = sw, a.dh = dh, a.dw = dw;
        a.pad_top = pad_top, a.pad_left = pad_left, a.groups = groups;
        require(n >= 0 && c_in > 0 && h > 0 && w > 0 && c_out > 0 && kh > 0 && kw > 0 && oh > 0 &&
                    ow > 0,
                "conv2d", "bad sizes");
        require(sh > 0 && sw > 0 && dh > 0 && dw > 0 && pad_top >= 0 && pad_left >= 0, "conv2d",
                "bad stride, dilation or padding");
        require(groups > 0 && c_in % groups == 0 && c_out % groups == 0, "conv2d",
                "groups must divide the input and output channels");
        require(input != 0 && weight != 0 && output != 0, "conv2d", "null pointer");
        py::gil_scoped_release release;
        conv2d(a, address(stream));
      },
      py::arg("dtype"), py::arg("tf32"), py::arg("input"), py::arg("in_sn"), py::arg("in_sc"),
      py::arg("in_sh"), py::arg("in_sw"), py::arg("weight"), py::arg("bias"), py::arg("output"),
      py::arg("n"), py::arg("c_in"), py::arg("h"), py::arg("w"), py::arg("c_out"), py::arg("kh"),
      py::arg("kw"), py::arg("oh"), py::arg("ow"), py::arg("sh"), py::arg("sw"), py::arg("pad_top"),
      py::arg("pad_left"), py::arg("dh"), py::arg("dw"), py::arg("groups"), py::arg("stream"));
}

const Family family(&bind_conv);

}  // namespace
}  // namespace gpu
}  // namespace foveal
