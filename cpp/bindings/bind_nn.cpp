// Neural-network bindings. The Python wrappers (foveal.nn) have validated and normalized the
// arguments and hand in C-contiguous 4-D arrays; this layer maps them to the C++ API and
// releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "array_view.hpp"
#include "foveal/nn.hpp"

namespace py = pybind11;
using foveal::bindings::dtype_of;

namespace {

using i64 = std::int64_t;

template <typename View, typename Array>
View tensor_view(Array& a, const char* fn, const char* arg) {
  if (a.ndim() != 4)
    throw foveal::ValueError(std::string(fn) + ": " + arg + " must be 4-D, got " +
                             std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style))
    throw foveal::ValueError(std::string(fn) + ": " + arg + " must be C-contiguous");
  View v;
  v.dtype = dtype_of(a, fn, arg);
  v.n = a.shape(0), v.c = a.shape(1), v.h = a.shape(2), v.w = a.shape(3);
  return v;
}

foveal::ConstTensorView in_view(const py::array& a, const char* fn, const char* arg) {
  auto v = tensor_view<foveal::ConstTensorView>(a, fn, arg);
  v.data = a.data();
  return v;
}

foveal::TensorView out_view(py::array& a, const char* fn, const char* arg) {
  if (!a.writeable()) throw foveal::ValueError(std::string(fn) + ": " + arg + " is read-only");
  auto v = tensor_view<foveal::TensorView>(a, fn, arg);
  v.data = a.mutable_data();
  return v;
}

// The int64 index output, or null; it must hold one index per output value.
i64* indices_of(py::object indices, const foveal::TensorView& out, const char* fn) {
  if (indices.is_none()) return nullptr;
  auto idx = indices.cast<py::array>();
  if (!idx.writeable() || !(idx.flags() & py::array::c_style) || idx.dtype().kind() != 'i' ||
      idx.itemsize() != 8 || idx.size() != out.size())
    throw foveal::ValueError(std::string(fn) +
                             ": indices must be a writeable C-contiguous int64 "
                             "array of the output's size");
  return static_cast<i64*>(idx.mutable_data());
}

foveal::Pool2dOptions pool_options(i64 kh, i64 kw, i64 sh, i64 sw, i64 ph, i64 pw, i64 dh, i64 dw,
                                   bool ceil_mode) {
  foveal::Pool2dOptions o;
  o.kernel_h = kh, o.kernel_w = kw, o.stride_h = sh, o.stride_w = sw;
  o.pad_h = ph, o.pad_w = pw, o.dilation_h = dh, o.dilation_w = dw;
  o.ceil_mode = ceil_mode;
  return o;
}

}  // namespace

void bind_nn(py::module_& m) {
  m.def("conv_output_size", &foveal::conv_output_size, py::arg("n"), py::arg("k"),
        py::arg("stride"), py::arg("pad_total"), py::arg("dilation"));
  m.def("pool_output_size", &foveal::pool_output_size, py::arg("n"), py::arg("k"),
        py::arg("stride"), py::arg("pad"), py::arg("dilation"), py::arg("ceil_mode"));

  m.def(
      "conv2d",
      [](const py::array& input, const py::array& weight, py::object bias, py::array& out, i64 sh,
         i64 sw, i64 pt, i64 pb, i64 pl, i64 pr, i64 dh, i64 dw, i64 groups) {
        const auto in = in_view(input, "conv2d", "input");
        const auto w = in_view(weight, "conv2d", "weight");
        const auto o = out_view(out, "conv2d", "out");
        const void* b = nullptr;
        py::array bias_arr;
        if (!bias.is_none()) {
          bias_arr = bias.cast<py::array>();
          if (dtype_of(bias_arr, "conv2d", "bias") != in.dtype || bias_arr.ndim() != 1 ||
              bias_arr.shape(0) != w.n || !(bias_arr.flags() & py::array::c_style))
            throw foveal::ValueError(
                "conv2d: bias must be a contiguous 1-D array of C_out "
                "values of the input's dtype");
          b = bias_arr.data();
        }
        foveal::Conv2dOptions opt;
        opt.stride_h = sh, opt.stride_w = sw;
        opt.pad_top = pt, opt.pad_bottom = pb, opt.pad_left = pl, opt.pad_right = pr;
        opt.dilation_h = dh, opt.dilation_w = dw, opt.groups = groups;
        py::gil_scoped_release release;
        foveal::conv2d(in, w, b, o, opt);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("stride_h"),
      py::arg("stride_w"), py::arg("pad_top"), py::arg("pad_bottom"), py::arg("pad_left"),
      py::arg("pad_right"), py::arg("dilation_h"), py::arg("dilation_w"), py::arg("groups"));

  m.def(
      "max_pool2d",
      [](const py::array& input, py::array& out, py::object indices, i64 kh, i64 kw, i64 sh, i64 sw,
         i64 ph, i64 pw, i64 dh, i64 dw, bool ceil_mode) {
        const auto in = in_view(input, "max_pool2d", "input");
        const auto o = out_view(out, "max_pool2d", "out");
        i64* idx = indices_of(indices, o, "max_pool2d");
        const auto opt = pool_options(kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode);
        py::gil_scoped_release release;
        foveal::max_pool2d(in, o, idx, opt);
      },
      py::arg("input"), py::arg("out"), py::arg("indices"), py::arg("kernel_h"),
      py::arg("kernel_w"), py::arg("stride_h"), py::arg("stride_w"), py::arg("pad_h"),
      py::arg("pad_w"), py::arg("dilation_h"), py::arg("dilation_w"), py::arg("ceil_mode"));

  m.def(
      "avg_pool2d",
      [](const py::array& input, py::array& out, i64 kh, i64 kw, i64 sh, i64 sw, i64 ph, i64 pw,
         bool ceil_mode, bool count_include_pad, i64 divisor_override) {
        const auto in = in_view(input, "avg_pool2d", "input");
        const auto o = out_view(out, "avg_pool2d", "out");
        const auto opt = pool_options(kh, kw, sh, sw, ph, pw, 1, 1, ceil_mode);
        py::gil_scoped_release release;
        foveal::avg_pool2d(in, o, opt, count_include_pad, divisor_override);
      },
      py::arg("input"), py::arg("out"), py::arg("kernel_h"), py::arg("kernel_w"),
      py::arg("stride_h"), py::arg("stride_w"), py::arg("pad_h"), py::arg("pad_w"),
      py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("divisor_override"));

  m.def(
      "lp_pool2d",
      [](const py::array& input, py::array& out, double norm_type, i64 kh, i64 kw, i64 sh, i64 sw,
         bool ceil_mode) {
        const auto in = in_view(input, "lp_pool2d", "input");
        const auto o = out_view(out, "lp_pool2d", "out");
        const auto opt = pool_options(kh, kw, sh, sw, 0, 0, 1, 1, ceil_mode);
        py::gil_scoped_release release;
        foveal::lp_pool2d(in, o, norm_type, opt);
      },
      py::arg("input"), py::arg("out"), py::arg("norm_type"), py::arg("kernel_h"),
      py::arg("kernel_w"), py::arg("stride_h"), py::arg("stride_w"), py::arg("ceil_mode"));

  m.def(
      "adaptive_avg_pool2d",
      [](const py::array& input, py::array& out) {
        const auto in = in_view(input, "adaptive_avg_pool2d", "input");
        const auto o = out_view(out, "adaptive_avg_pool2d", "out");
        py::gil_scoped_release release;
        foveal::adaptive_avg_pool2d(in, o);
      },
      py::arg("input"), py::arg("out"));

  m.def(
      "adaptive_max_pool2d",
      [](const py::array& input, py::array& out, py::object indices) {
        const auto in = in_view(input, "adaptive_max_pool2d", "input");
        const auto o = out_view(out, "adaptive_max_pool2d", "out");
        i64* idx = indices_of(indices, o, "adaptive_max_pool2d");
        py::gil_scoped_release release;
        foveal::adaptive_max_pool2d(in, o, idx);
      },
      py::arg("input"), py::arg("out"), py::arg("indices"));

  m.def(
      "patchify",
      [](const py::array& images, py::array& patches, i64 ph, i64 pw) {
        const auto in = in_view(images, "patchify", "images");
        if (!patches.writeable() || !(patches.flags() & py::array::c_style) ||
            patches.size() != in.size() || dtype_of(patches, "patchify", "out") != in.dtype)
          throw foveal::ValueError(
              "patchify: out must be a writeable C-contiguous array of the "
              "images' size and dtype");
        void* dst = patches.mutable_data();
        py::gil_scoped_release release;
        foveal::patchify(in, dst, ph, pw);
      },
      py::arg("images"), py::arg("out"), py::arg("patch_h"), py::arg("patch_w"));

  m.def(
      "unpatchify",
      [](const py::array& patches, py::array& images, i64 ph, i64 pw) {
        const auto o = out_view(images, "unpatchify", "out");
        if (!(patches.flags() & py::array::c_style) || patches.size() != o.size() ||
            dtype_of(patches, "unpatchify", "patches") != o.dtype)
          throw foveal::ValueError(
              "unpatchify: patches must be a C-contiguous array of the "
              "images' size and dtype");
        const void* src = patches.data();
        py::gil_scoped_release release;
        foveal::unpatchify(src, o, ph, pw);
      },
      py::arg("patches"), py::arg("out"), py::arg("patch_h"), py::arg("patch_w"));
}
