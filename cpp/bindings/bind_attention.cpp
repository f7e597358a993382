// Attention bindings. The Python wrapper (foveal.attention) has validated and normalized the
// arguments: 4-D C-contiguous query, key, value and out, a float mask broadcast (by strides)
// to (b, hq, l, s) or None.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "array_view.hpp"
#include "foveal/attention.hpp"

namespace py = pybind11;
using foveal::bindings::dtype_of;

namespace {

using i64 = std::int64_t;
const char* const kFn = "scaled_dot_product_attention";

foveal::ConstTensorView input(const py::array& a, const char* arg) {
  if (a.ndim() != 4 || !(a.flags() & py::array::c_style))
    throw foveal::ValueError(std::string(kFn) + ": " + arg + " must be 4-D and C-contiguous");
  foveal::ConstTensorView t;
  t.data = a.data();
  t.dtype = dtype_of(a, kFn, arg);
  t.n = a.shape(0), t.c = a.shape(1), t.h = a.shape(2), t.w = a.shape(3);
  return t;
}

}  // namespace

void bind_attention(py::module_& m) {
  m.def(
      "scaled_dot_product_attention",
      [](const py::array& q, const py::array& k, const py::array& v, py::array& out,
         py::object mask, double scale, bool causal, double empty_row) {
        const auto qt = input(q, "query"), kt = input(k, "key"), vt = input(v, "value");
        if (!out.writeable()) throw foveal::ValueError(std::string(kFn) + ": out is read-only");
        const auto ot_in = input(out, "out");
        foveal::TensorView ot{out.mutable_data(), ot_in.dtype, ot_in.n, ot_in.c, ot_in.h, ot_in.w};
        foveal::AttentionMask am;
        py::array mask_arr;
        if (!mask.is_none()) {
          mask_arr = mask.cast<py::array>();
          if (mask_arr.ndim() != 4 || dtype_of(mask_arr, kFn, "attn_mask") != qt.dtype ||
              mask_arr.shape(0) != qt.n || mask_arr.shape(1) != qt.c || mask_arr.shape(2) != qt.h ||
              mask_arr.shape(3) != kt.h)
            throw foveal::ValueError(std::string(kFn) +
                                     ": attn_mask must be a (b, hq, l, s) view of the query's "
                                     "dtype");
          const i64 item = static_cast<i64>(mask_arr.itemsize());
          for (int d = 0; d < 4; ++d)
            if (mask_arr.strides(d) % item)
              throw foveal::ValueError(std::string(kFn) +
                                       ": attn_mask strides must be whole "
                                       "values");
          am.data = mask_arr.data();
          am.stride_b = mask_arr.strides(0) / item, am.stride_h = mask_arr.strides(1) / item;
          am.stride_l = mask_arr.strides(2) / item, am.stride_s = mask_arr.strides(3) / item;
        }
        foveal::AttentionOptions o;
        o.scale = scale, o.causal = causal, o.empty_row = empty_row;
        py::gil_scoped_release release;
        foveal::scaled_dot_product_attention(qt, kt, vt, ot, am, o);
      },
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("out"), py::arg("mask"),
      py::arg("scale"), py::arg("causal"), py::arg("empty_row"));
}
