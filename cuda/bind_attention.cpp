// The fused attention launcher in the GPU modules (_cuda, and _cuda_emu under the SIMT
// emulator). Device pointers and the stream arrive as integers (CuPy's ``data.ptr``, torch's
// ``data_ptr()``, a stream's handle), strides in elements as (batch, head, row) triples; the
// Python route (foveal._gpu.attention) has checked shapes and dtypes, and what could reach
// memory out of bounds is checked again here and in the launcher.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>

#include "attention.hpp"
#include "bind_util.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

const char* const kFn = "scaled_dot_product_attention";

AttentionDtype attention_dtype(const std::string& dtype) {
  if (dtype == "float16") return AttentionDtype::f16;
  if (dtype == "bfloat16") return AttentionDtype::bf16;
  if (dtype == "float32") return AttentionDtype::f32;
  throw TypeError(std::string(kFn) + ": dtype must be float16, bfloat16 or float32, got " + dtype);
}

AttentionMaskKind mask_kind(const std::string& kind) {
  if (kind == "none") return AttentionMaskKind::none;
  if (kind == "bool") return AttentionMaskKind::boolean;
  if (kind == "additive") return AttentionMaskKind::additive;
  throw ValueError(std::string(kFn) + ": mask_kind must be none, bool or additive, got " + kind);
}

void copy3(i64 (&to)[3], const std::array<i64, 3>& from) {
  for (int i = 0; i < 3; ++i) to[i] = from[i];
}

void bind_attention(py::module_& m) {
  m.def(
      "scaled_dot_product_attention",
      [](const std::string& dtype, std::uintptr_t q, std::uintptr_t k, std::uintptr_t v,
         std::uintptr_t out, std::uintptr_t mask, const std::string& mask_kind_name,
         std::uintptr_t lse, i64 b, i64 hq, i64 hkv, i64 l, i64 s, i64 e, i64 ev,
         std::array<i64, 3> q_strides, std::array<i64, 3> k_strides, std::array<i64, 3> v_strides,
         std::array<i64, 3> out_strides, std::array<i64, 4> mask_strides, double scale, bool causal,
         double empty_row, std::uintptr_t stream) {
        AttentionArgs a;
        a.dtype = attention_dtype(dtype);
        a.mask_kind = mask_kind(mask_kind_name);
        require(b >= 0 && hq >= 1 && hkv >= 1 && hq % hkv == 0 && l >= 1 && s >= 1, kFn,
                "bad sizes");
        require(e >= 1 && ev >= 1 && e <= kAttentionMaxHead && ev <= kAttentionMaxHead, kFn,
                "head sizes must be 1..256");
        require(q != 0 && k != 0 && v != 0 && out != 0, kFn, "null pointer");
        require((a.mask_kind == AttentionMaskKind::none) == (mask == 0), kFn,
                "mask and mask_kind disagree");
        a.q = address(q), a.k = address(k), a.v = address(v), a.out = address(out);
        a.mask = address(mask);
        a.lse = static_cast<float*>(address(lse));
        a.b = b, a.hq = hq, a.hkv = hkv, a.l = l, a.s = s, a.e = e, a.ev = ev;
        copy3(a.q_stride, q_strides);
        copy3(a.k_stride, k_strides);
        copy3(a.v_stride, v_strides);
        copy3(a.out_stride, out_strides);
        for (int i = 0; i < 4; ++i) a.mask_stride[i] = mask_strides[i];
        a.scale = static_cast<float>(scale);
        a.causal = causal;
        a.empty_row = static_cast<float>(empty_row);
        py::gil_scoped_release release;
        scaled_dot_product_attention(a, address(stream));
      },
      py::arg("dtype"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("out"), py::arg("mask"),
      py::arg("mask_kind"), py::arg("lse"), py::arg("b"), py::arg("hq"), py::arg("hkv"),
      py::arg("l"), py::arg("s"), py::arg("e"), py::arg("ev"), py::arg("q_strides"),
      py::arg("k_strides"), py::arg("v_strides"), py::arg("out_strides"), py::arg("mask_strides"),
      py::arg("scale"), py::arg("causal"), py::arg("empty_row"), py::arg("stream"));
}

const Family family(&bind_attention);

}  // namespace
}  // namespace gpu
}  // namespace foveal
