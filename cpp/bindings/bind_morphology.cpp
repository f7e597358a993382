// Morphology bindings. The Python wrapper (foveal.imgproc) has already validated and
// normalized the arguments; this layer maps them to the C++ API and releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "array_view.hpp"
#include "border_name.hpp"
#include "foveal/morphology.hpp"

namespace py = pybind11;
using foveal::bindings::border_from_name;
using foveal::bindings::const_view;
using foveal::bindings::mutable_view;

namespace {

foveal::MorphOp op_from_name(const std::string& op) {
  if (op == "erode") return foveal::MorphOp::Erode;
  if (op == "dilate") return foveal::MorphOp::Dilate;
  if (op == "open") return foveal::MorphOp::Open;
  if (op == "close") return foveal::MorphOp::Close;
  if (op == "gradient") return foveal::MorphOp::Gradient;
  if (op == "tophat") return foveal::MorphOp::TopHat;
  if (op == "blackhat") return foveal::MorphOp::BlackHat;
  throw foveal::ValueError("morphology: unknown op '" + op + "'");
}

foveal::MorphShape shape_from_name(const std::string& s) {
  if (s == "rect") return foveal::MorphShape::Rect;
  if (s == "ellipse") return foveal::MorphShape::Ellipse;
  if (s == "cross") return foveal::MorphShape::Cross;
  throw foveal::ValueError("structuring_element: unknown shape '" + s + "'");
}

}  // namespace

void bind_morphology(py::module_& m) {
  m.def(
      "structuring_element",
      [](const std::string& shape, int height, int width, int anchor_y, int anchor_x) {
        const foveal::StructuringElement se =
            foveal::structuring_element(shape_from_name(shape), height, width, anchor_y, anchor_x);
        py::array_t<std::uint8_t> out({se.height, se.width});
        std::copy(se.mask.begin(), se.mask.end(), out.mutable_data());
        return out;
      },
      py::arg("shape"), py::arg("height"), py::arg("width"), py::arg("anchor_y") = -1,
      py::arg("anchor_x") = -1);

  m.def(
      "morphology",
      [](const std::string& op, const py::array& src, py::array& dst,
         const py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>& kernel,
         int anchor_y, int anchor_x, int iterations, const std::string& border,
         const std::vector<double>& border_value, bool binary) {
        const foveal::ConstImageView s = const_view(src, "morphology", "image");
        const foveal::ImageView d = mutable_view(dst, "morphology", "out");
        if (kernel.ndim() != 2) throw foveal::ValueError("morphology: kernel must be 2-D");
        foveal::StructuringElement se;
        se.height = static_cast<int>(kernel.shape(0));
        se.width = static_cast<int>(kernel.shape(1));
        se.mask.assign(kernel.data(), kernel.data() + kernel.size());
        foveal::MorphOptions opt;
        opt.anchor_y = anchor_y;
        opt.anchor_x = anchor_x;
        opt.iterations = iterations;
        opt.border = border_from_name(border, "morphology");
        opt.border_value = border_value;
        opt.binary = binary;
        const foveal::MorphOp mop = op_from_name(op);
        py::gil_scoped_release release;
        foveal::morphology(mop, s, d, se, opt);
      },
      py::arg("op"), py::arg("src"), py::arg("dst"), py::arg("kernel"), py::arg("anchor_y"),
      py::arg("anchor_x"), py::arg("iterations"), py::arg("border"), py::arg("border_value"),
      py::arg("binary"));
}
