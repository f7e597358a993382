// Segmentation bindings. The Python wrappers (foveal.segment) have validated the arguments and
// hand in C-contiguous arrays of one dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "array_view.hpp"
#include "foveal/segment.hpp"

namespace py = pybind11;
using foveal::bindings::const_view;
using foveal::bindings::dtype_of;
using foveal::bindings::mutable_view;

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw foveal::ValueError(std::string("kmeans: ") + what);
}

// cv2.connectedComponentsWithStats's two tables: (n, 5) int32 [left, top, width, height, area]
// and (n, 2) float64 centroids (NaN for a label without pixels).
py::tuple stats_arrays(const std::vector<foveal::ComponentStat>& stats) {
  const auto n = static_cast<py::ssize_t>(stats.size());
  py::array_t<std::int32_t> table({n, py::ssize_t{5}});
  py::array_t<double> centroids({n, py::ssize_t{2}});
  auto t = table.mutable_unchecked<2>();
  auto c = centroids.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const auto& s = stats[static_cast<std::size_t>(i)];
    t(i, 0) = s.left, t(i, 1) = s.top, t(i, 2) = s.width, t(i, 3) = s.height;
    t(i, 4) = static_cast<std::int32_t>(s.area);
    const double area = static_cast<double>(s.area);
    c(i, 0) = s.area ? s.sum_x / area : std::numeric_limits<double>::quiet_NaN();
    c(i, 1) = s.area ? s.sum_y / area : std::numeric_limits<double>::quiet_NaN();
  }
  return py::make_tuple(table, centroids);
}

foveal::ContourMode contour_mode(const std::string& name) {
  if (name == "external") return foveal::ContourMode::external;
  if (name == "list") return foveal::ContourMode::list;
  if (name == "ccomp") return foveal::ContourMode::ccomp;
  if (name == "tree") return foveal::ContourMode::tree;
  throw foveal::ValueError(
      "find_contours: mode must be one of 'external', 'list', 'ccomp', "
      "'tree', got '" +
      name + "'");
}

foveal::ContourMethod contour_method(const std::string& name) {
  if (name == "none") return foveal::ContourMethod::none;
  if (name == "simple") return foveal::ContourMethod::simple;
  throw foveal::ValueError("find_contours: method must be 'none' or 'simple', got '" + name + "'");
}

void labels_array(const py::array& labels, const char* fn) {
  if (labels.ndim() != 2 || labels.dtype().kind() != 'i' || labels.itemsize() != 4 ||
      (labels.shape(1) > 1 && labels.strides(1) != 4) || labels.strides(0) % 4 != 0)
    throw foveal::ValueError(std::string(fn) +
                             ": labels must be a 2-D int32 array with contiguous rows");
}

}  // namespace

// A writeable, C-contiguous float64 array of n values handed in from Python (null for None).
// The array is the caller's own object, so the pointer lives as long as the call.
double* float64_values(const py::object& o, std::int64_t n, const char* what) {
  if (o.is_none()) return nullptr;
  auto arr = o.cast<py::array>();
  require(arr.ndim() == 1 && arr.shape(0) == n && arr.dtype().kind() == 'f' &&
              arr.itemsize() == 8 && arr.writeable() && (arr.flags() & py::array::c_style),
          what);
  return static_cast<double*>(arr.mutable_data());
}

// The arrays both k-means entry points take, checked: C-contiguous (n, d) data, (k, d)
// centers and optional n weights of one float dtype, n int32 labels, optional n float64
// distances.
struct KMeansArgs {
  foveal::DType dtype;
  std::int64_t n, d, k;
  const void* data;
  const void* centers;
  const void* weights = nullptr;
  double* distances = nullptr;

  KMeansArgs(const py::array& x, const py::array& c, const py::object& w, const py::array& labels,
             const py::object& dist, bool labels_written) {
    dtype = dtype_of(x, "kmeans", "data");
    require(x.ndim() == 2 && (x.flags() & py::array::c_style),
            "data must be a C-contiguous (n, d) array");
    require(c.ndim() == 2 && (c.flags() & py::array::c_style) && c.shape(1) == x.shape(1) &&
                dtype_of(c, "kmeans", "centers") == dtype,
            "centers must be a C-contiguous (k, d) array of the data's dtype");
    n = x.shape(0), d = x.shape(1), k = c.shape(0);
    data = x.data(), centers = c.data();
    if (!w.is_none()) {
      const auto a = w.cast<py::array>();
      require(a.ndim() == 1 && a.shape(0) == n && (a.flags() & py::array::c_style) &&
                  dtype_of(a, "kmeans", "sample_weight") == dtype,
              "sample_weight must be n contiguous values of the data's dtype");
      weights = a.data();  // w keeps the array alive
    }
    require(labels.ndim() == 1 && labels.shape(0) == n && labels.dtype().kind() == 'i' &&
                labels.itemsize() == 4 && (labels.flags() & py::array::c_style) &&
                (!labels_written || labels.writeable()),
            "labels must be a writeable int32 array of n values");
    distances = float64_values(dist, n, "distances must be a writeable float64 array of n values");
  }
};

void bind_segment(py::module_& m) {
  m.def(
      "kmeans_assign",
      [](const py::array& data, const py::array& centers, py::object weights, py::array& labels,
         py::array& sums, py::array& counts, py::object distances, bool want_inertia,
         bool changes_only, py::object upper, py::object lower, py::object norms,
         py::object shift) {
        const KMeansArgs a(data, centers, weights, labels, distances, true);
        double* up = float64_values(upper, a.n, "upper must be a writeable float64 array of n");
        double* lo = float64_values(lower, a.n, "lower must be a writeable float64 array of n");
        double* nm = float64_values(norms, a.n, "norms must be a writeable float64 array of n");
        const double* sh = float64_values(shift, a.k, "shift must be a float64 array of k");
        require(sums.ndim() == 2 && sums.shape(0) == a.k && sums.shape(1) == a.d &&
                    sums.dtype().kind() == 'f' && sums.itemsize() == 8 && sums.writeable() &&
                    (sums.flags() & py::array::c_style),
                "sums must be a writeable float64 (k, d) array");
        double* cnt =
            float64_values(counts, a.k, "counts must be a writeable float64 array of k values");
        auto* lab = static_cast<std::int32_t*>(labels.mutable_data());
        auto* s = static_cast<double*>(sums.mutable_data());
        std::int64_t changed = 0;
        double inertia;
        {
          py::gil_scoped_release release;
          inertia = foveal::kmeans_assign(a.data, a.centers, a.weights, a.dtype, a.n, a.d, a.k, lab,
                                          s, cnt, a.distances, &changed, want_inertia, changes_only,
                                          up, lo, nm, sh);
        }
        return py::make_tuple(inertia, changed);
      },
      py::arg("data"), py::arg("centers"), py::arg("weights"), py::arg("labels"), py::arg("sums"),
      py::arg("counts"), py::arg("distances"), py::arg("want_inertia") = true,
      py::arg("changes_only") = false, py::arg("upper") = py::none(), py::arg("lower") = py::none(),
      py::arg("norms") = py::none(), py::arg("shift") = py::none());

  m.def(
      "kmeans_inertia",
      [](const py::array& data, const py::array& centers, py::object weights,
         const py::array& labels, py::object distances) {
        const KMeansArgs a(data, centers, weights, labels, distances, false);
        const auto* lab = static_cast<const std::int32_t*>(labels.data());
        py::gil_scoped_release release;
        return foveal::kmeans_inertia(a.data, a.centers, a.weights, a.dtype, a.n, a.d, a.k, lab,
                                      a.distances);
      },
      py::arg("data"), py::arg("centers"), py::arg("weights"), py::arg("labels"),
      py::arg("distances") = py::none());

  m.def("_set_label_stripe_pixels", &foveal::set_label_stripe_pixels, py::arg("pixels"),
        "Test hook: the fewest pixels per stripe before label and component_stats use several "
        "threads (default 768 Ki); returns the previous value.");

  m.def(
      "label",
      [](const py::array& binary, int connectivity, py::array& labels, bool with_stats) {
        const auto view = const_view(binary, "label", "binary");
        labels_array(labels, "label");
        if (!labels.writeable() || labels.shape(0) != view.rows || labels.shape(1) != view.cols)
          throw foveal::ValueError(
              "label: out must be a writeable int32 array of the image's "
              "shape");
        auto* out = static_cast<std::int32_t*>(labels.mutable_data());
        const std::int64_t stride = labels.strides(0) / 4;
        std::vector<foveal::ComponentStat> stats;
        std::int32_t count;
        {
          py::gil_scoped_release release;
          count = foveal::label_components(view, connectivity, out, stride,
                                           with_stats ? &stats : nullptr);
        }
        if (!with_stats) return py::object(py::make_tuple(count));
        const py::tuple tables = stats_arrays(stats);
        return py::object(py::make_tuple(count, tables[0], tables[1]));
      },
      py::arg("binary"), py::arg("connectivity"), py::arg("labels"), py::arg("with_stats"));

  m.def(
      "component_stats",
      [](py::array& labels) {
        labels_array(labels, "component_stats");
        const auto* data = static_cast<const std::int32_t*>(labels.data());
        const std::int64_t rows = labels.shape(0), cols = labels.shape(1);
        const std::int64_t stride = labels.strides(0) / 4;
        std::vector<foveal::ComponentStat> stats;
        {
          py::gil_scoped_release release;
          stats = foveal::component_stats(data, rows, cols, stride);
        }
        return stats_arrays(stats);
      },
      py::arg("labels"));

  m.def(
      "find_contours",
      [](const py::array& binary, const std::string& mode, const std::string& method,
         std::int32_t offset_x, std::int32_t offset_y) {
        const auto view = const_view(binary, "find_contours", "binary");
        const auto m = contour_mode(mode);
        const auto a = contour_method(method);
        foveal::Contours c;
        {
          py::gil_scoped_release release;
          c = foveal::find_contours(view, m, a, offset_x, offset_y);
        }
        const auto n_points = static_cast<py::ssize_t>(c.xy.size() / 2);
        const auto n = static_cast<py::ssize_t>(c.hierarchy.size());
        py::array_t<std::int32_t> xy({n_points, py::ssize_t{2}});
        py::array_t<std::int32_t> hierarchy({n, py::ssize_t{4}});
        if (!c.xy.empty())  // an empty vector's data() may be null, which memcpy must not get
          std::memcpy(xy.mutable_data(), c.xy.data(), c.xy.size() * sizeof(std::int32_t));
        if (n)
          std::memcpy(hierarchy.mutable_data(), c.hierarchy.data(),
                      c.hierarchy.size() * 4 * sizeof(std::int32_t));
        // Each contour a view of one shared array: a list of many small arrays is built here
        // at a fraction of what slicing costs in Python.
        py::list contours(n);
        const std::int32_t* base = xy.data();
        for (py::ssize_t i = 0; i < n; ++i) {
          const std::int64_t from = c.starts[i], count = c.starts[i + 1] - from;
          contours[i] =
              py::array_t<std::int32_t>({static_cast<py::ssize_t>(count), py::ssize_t{2}},
                                        {py::ssize_t{8}, py::ssize_t{4}}, base + 2 * from, xy);
        }
        return py::make_tuple(contours, hierarchy);
      },
      py::arg("binary"), py::arg("mode"), py::arg("method"), py::arg("offset_x"),
      py::arg("offset_y"));

  m.def(
      "draw_contours",
      [](py::array& image, const py::list& contours, const py::object& chosen,
         const std::vector<double>& color, int thickness, std::int32_t dx, std::int32_t dy) {
        constexpr std::int64_t kLimit = std::int64_t{1} << 20;
        auto view = mutable_view(image, "draw_contours", "image");
        if (static_cast<int>(color.size()) != view.channels)
          throw foveal::ValueError("draw_contours: color needs one value per channel");
        std::vector<std::int64_t> which;
        if (chosen.is_none()) {
          which.resize(contours.size());
          for (std::size_t i = 0; i < which.size(); ++i) which[i] = static_cast<std::int64_t>(i);
        } else {
          which = chosen.cast<std::vector<std::int64_t>>();
        }
        // Gather the chosen contours' points (with the offset) into one table, checking each.
        std::vector<std::int32_t> xy;
        std::vector<std::int64_t> starts{0};
        for (const std::int64_t i : which) {
          const py::handle item = contours[static_cast<std::size_t>(i)];
          auto name = [&] { return "draw_contours: contours[" + std::to_string(i) + "]"; };
          if (!py::isinstance<py::array_t<std::int32_t>>(item))
            throw foveal::TypeError(name() + " must be an int32 array");
          const auto a = py::reinterpret_borrow<py::array>(item);
          const bool points = (a.ndim() == 2 && a.shape(1) == 2) ||
                              (a.ndim() == 3 && a.shape(1) == 1 && a.shape(2) == 2);
          if (!points || !(a.flags() & py::array::c_style))
            throw foveal::ValueError(name() + " must be a contiguous (n, 2) or (n, 1, 2) array");
          const auto* p = static_cast<const std::int32_t*>(a.data());
          const auto n = static_cast<std::int64_t>(a.shape(0));
          for (std::int64_t k = 0; k < n; ++k) {
            const std::int64_t x = std::int64_t{p[2 * k]} + dx, y = std::int64_t{p[2 * k + 1]} + dy;
            if (x < -kLimit || x > kLimit || y < -kLimit || y > kLimit)
              throw foveal::ValueError(name() + " has points (with offset) beyond +-2**20");
            xy.push_back(static_cast<std::int32_t>(x));
            xy.push_back(static_cast<std::int32_t>(y));
          }
          starts.push_back(starts.back() + n);
        }
        py::gil_scoped_release release;
        foveal::draw_polygons(view, xy.data(), starts.data(),
                              static_cast<std::int64_t>(starts.size()) - 1, color.data(),
                              thickness);
      },
      py::arg("image"), py::arg("contours"), py::arg("chosen"), py::arg("color"),
      py::arg("thickness"), py::arg("dx"), py::arg("dy"));
}
