// Filter drivers: argument checks, OpenCV's kernels (Gaussian, Sobel / Scharr derivatives),
// border maps and the border pixel, and the kernels of the active instruction set.
#include "foveal/filters.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "filter_plan.hpp"
#include "foveal/corners.hpp"
#include "foveal/error.hpp"
#include "foveal/parallel.hpp"
#include "hysteresis.hpp"
#include "isa_table.hpp"

FOVEAL_FOR_EACH_ISA(FOVEAL_DECLARE_FILTER_KERNELS)

namespace foveal {
namespace {

using i64 = std::int64_t;

struct FilterKernels {
  decltype(&baseline::filter2d) filter2d;
  decltype(&baseline::sep_filter) sep_filter;
  decltype(&baseline::box_filter) box_filter;
  decltype(&baseline::gradient) gradient;
  decltype(&baseline::sobel3) sobel3;
  decltype(&baseline::corner_response) corner_response;
  decltype(&baseline::corner_maxima_row) corner_maxima_row;
  decltype(&baseline::canny_classify) canny_classify;
};

#define FOVEAL_FILTER_KERNELS(isa)                                                    \
  FilterKernels {                                                                     \
    &isa::filter2d, &isa::sep_filter, &isa::box_filter, &isa::gradient, &isa::sobel3, \
        &isa::corner_response, &isa::corner_maxima_row, &isa::canny_classify          \
  }

FOVEAL_KERNEL_TABLE(FilterKernels, FOVEAL_FILTER_KERNELS)

std::string str(i64 v) {
  return std::to_string(v);
}

void check_images(const char* fn, const ConstImageView& src, const ImageView& dst) {
  if (src.rows <= 0 || src.cols <= 0 || src.channels <= 0)
    throw ValueError(std::string(fn) + ": image must not be empty");
  if (dst.rows != src.rows || dst.cols != src.cols || dst.channels != src.channels)
    throw ValueError(std::string(fn) + ": out must have the image's shape (" + str(src.rows) +
                     ", " + str(src.cols) + ", " + str(src.channels) + "), got (" + str(dst.rows) +
                     ", " + str(dst.cols) + ", " + str(dst.channels) + ")");
}

void check_border(const char* fn, Border border) {
  if (border == Border::Default)
    throw ValueError(std::string(fn) + ": border 'default' is for morphology only");
}

// The border constant of each channel, saturated to the source's dtype as OpenCV does.
std::vector<double> border_pixel(const char* fn, const ConstImageView& src,
                                 const std::vector<double>& value) {
  const auto C = static_cast<std::size_t>(src.channels);
  if (value.size() != 1 && value.size() != C)
    throw ValueError(std::string(fn) + ": border_value must have 1 or " + str(src.channels) +
                     " values, got " + str(static_cast<i64>(value.size())));
  std::vector<double> px(C);
  for (std::size_t c = 0; c < C; ++c) {
    double v = value.size() == 1 ? value[0] : value[c];
    double lo = 0, hi = 0;
    switch (src.dtype) {
      case DType::u8:
        lo = 0, hi = 255;
        break;
      case DType::u16:
        lo = 0, hi = 65535;
        break;
      case DType::s16:
        lo = -32768, hi = 32767;
        break;
      case DType::f32:
        v = static_cast<double>(static_cast<float>(v));
        break;
      case DType::f64:
        break;
    }
    if (hi > lo) {
      if (std::isnan(v))
        throw ValueError(std::string(fn) + ": border_value must not be NaN for integer images");
      v = std::min(std::max(std::nearbyint(v), lo), hi);
    }
    px[c] = v;
  }
  return px;
}

// index + offset -> the source index that virtual position index - origin reads.
std::vector<i64> border_map(i64 n, i64 before, i64 after, Border border) {
  std::vector<i64> map(static_cast<std::size_t>(n + before + after));
  for (i64 i = 0; i < n + before + after; ++i)
    map[static_cast<std::size_t>(i)] = border_index(i - before, n, border);
  return map;
}

bool overlaps(const ConstImageView& a, const ImageView& b) {
  auto span = [](const void* data, i64 rows, i64 stride, i64 row_bytes, std::uintptr_t& lo,
                 std::uintptr_t& hi) {
    const auto p = reinterpret_cast<std::uintptr_t>(data);
    const i64 last = (rows - 1) * stride;
    lo = p + static_cast<std::uintptr_t>(std::min<i64>(0, last));
    hi = p + static_cast<std::uintptr_t>(std::max<i64>(0, last)) + row_bytes;
  };
  std::uintptr_t alo, ahi, blo, bhi;
  span(a.data, a.rows, a.row_stride, a.cols * a.channels * static_cast<i64>(dtype_size(a.dtype)),
       alo, ahi);
  span(b.data, b.rows, b.row_stride, b.cols * b.channels * static_cast<i64>(dtype_size(b.dtype)),
       blo, bhi);
  return alo < bhi && blo < ahi;
}

// A private copy of src when an output overlaps it (the kernels read rows that other bands
// write). `other` is a second output, or empty.
class SourceGuard {
 public:
  SourceGuard(const ConstImageView& src, const ImageView& dst, const ImageView& other = {})
      : view_(src) {
    if (!(dst.data && overlaps(src, dst)) && !(other.data && overlaps(src, other))) return;
    const i64 row_bytes = src.cols * src.channels * static_cast<i64>(dtype_size(src.dtype));
    copy_.resize(static_cast<std::size_t>(row_bytes * src.rows));
    for (i64 y = 0; y < src.rows; ++y)
      std::memcpy(copy_.data() + y * row_bytes, src.row<const char>(y),
                  static_cast<std::size_t>(row_bytes));
    view_.data = copy_.data();
    view_.row_stride = row_bytes;
  }
  const ConstImageView& view() const { return view_; }

 private:
  ConstImageView view_;
  std::vector<char> copy_;
};

void resolve_anchor(const char* fn, int kh, int kw, const FilterOptions& o, int& ay, int& ax) {
  ay = o.anchor_y < 0 ? kh / 2 : o.anchor_y;
  ax = o.anchor_x < 0 ? kw / 2 : o.anchor_x;
  if (o.anchor_y < -1 || o.anchor_x < -1 || ay >= kh || ax >= kw)
    throw ValueError(std::string(fn) + ": anchor (" + str(o.anchor_y) + ", " + str(o.anchor_x) +
                     ") is outside the " + str(kh) + "x" + str(kw) + " kernel");
}

// A non-empty kernel of `expected` values (0: any number), all finite.
void check_kernel(const char* fn, const char* name, const std::vector<double>& k,
                  std::size_t expected = 0) {
  if (k.empty() || (expected && k.size() != expected))
    throw ValueError(std::string(fn) + ": " + name + " must have " +
                     (expected ? str(static_cast<i64>(expected)) : std::string("some")) +
                     " values, got " + str(static_cast<i64>(k.size())));
  for (double v : k)
    if (!std::isfinite(v))
      throw ValueError(std::string(fn) + ": " + name + " must be finite (no NaN or inf)");
}

bool is_wide(const ConstImageView& src, const ImageView& dst) {
  return src.dtype == DType::f64 || dst.dtype == DType::f64;
}

// The linear filter with maps for a kh x kw window anchored at (ay, ax).
void run_linear(const char* fn, const ConstImageView& src_in, const ImageView& dst,
                const std::vector<double>* kernel, const std::vector<double>* kx,
                const std::vector<double>* ky, int kh, int kw, const FilterOptions& o) {
  check_images(fn, src_in, dst);
  check_border(fn, o.border);
  int ay, ax;
  resolve_anchor(fn, kh, kw, o, ay, ax);
  if (!std::isfinite(o.delta)) throw ValueError(std::string(fn) + ": delta must be finite");
  const std::vector<double> px = border_pixel(fn, src_in, o.border_value);
  SourceGuard guard(src_in, dst);
  const ConstImageView& src = guard.view();
  const std::vector<i64> rows = border_map(src.rows, ay, kh - 1 - ay, o.border);
  const std::vector<i64> cols = border_map(src.cols, ax, kw - 1 - ax, o.border);
  detail::FilterPlan plan;
  plan.kh = kh;
  plan.kw = kw;
  plan.ay = ay;
  plan.ax = ax;
  plan.kernel = kernel ? kernel->data() : nullptr;
  plan.kernel_x = kx ? kx->data() : nullptr;
  plan.kernel_y = ky ? ky->data() : nullptr;
  plan.delta = o.delta;
  plan.wide = is_wide(src, dst);
  plan.row_map = rows.data();
  plan.col_map = cols.data();
  plan.border_pixel = px.data();
  if (kernel)
    kernels().filter2d(plan, src, dst);
  else
    kernels().sep_filter(plan, src, dst);
}

// The size-n kernel of derivative order d: (n - 1 - d) factors [1, 1] and d factors [-1, 1].
std::vector<double> deriv_kernel(int n, int d) {
  std::vector<double> k(1, 1.0);
  for (int f = 0; f < n - 1; ++f) {
    const double a = f < n - 1 - d ? 1.0 : -1.0;  // the factor is [a, 1]
    std::vector<double> next(k.size() + 1, 0.0);
    for (std::size_t i = 0; i < k.size(); ++i) {
      next[i] += a * k[i];
      next[i + 1] += k[i];
    }
    k.swap(next);
  }
  return k;
}

// The plan of both first derivatives (Sobel or Scharr, ksize as cv2.Sobel), with its kernels
// and border maps; the plan points into this object.
struct GradientSetup {
  std::vector<double> gxx, gxy, gyx, gyy;
  std::vector<i64> rows, cols;
  detail::GradientPlan plan;

  GradientSetup(const ConstImageView& src, int ksize, double scale, Border border,
                const std::vector<double>& border_pixel) {
    deriv_kernels(1, 0, ksize, gxx, gxy);
    deriv_kernels(0, 1, ksize, gyx, gyy);
    const auto longest = std::max({gxx.size(), gxy.size(), gyx.size(), gyy.size()});
    const int radius = static_cast<int>(longest - 1) / 2;
    rows = border_map(src.rows, radius, radius, border);
    cols = border_map(src.cols, radius, radius, border);
    plan.x_of_gx = gxx.data();
    plan.y_of_gx = gxy.data();
    plan.x_of_gy = gyx.data();
    plan.y_of_gy = gyy.data();
    plan.nx_of_gx = static_cast<int>(gxx.size());
    plan.ny_of_gx = static_cast<int>(gxy.size());
    plan.nx_of_gy = static_cast<int>(gyx.size());
    plan.ny_of_gy = static_cast<int>(gyy.size());
    plan.radius = radius;
    plan.scale = scale;
    plan.row_map = rows.data();
    plan.col_map = cols.data();
    plan.border_pixel = border_pixel.data();
  }
  GradientSetup(const GradientSetup&) = delete;
  GradientSetup& operator=(const GradientSetup&) = delete;
};

}  // namespace

void filter2d(const ConstImageView& src, const ImageView& dst, const std::vector<double>& kernel,
              int kernel_rows, int kernel_cols, const FilterOptions& options) {
  if (kernel_rows <= 0 || kernel_cols <= 0) throw ValueError("filter2d: kernel must not be empty");
  check_kernel("filter2d", "kernel", kernel,
               static_cast<std::size_t>(kernel_rows) * static_cast<std::size_t>(kernel_cols));
  run_linear("filter2d", src, dst, &kernel, nullptr, nullptr, kernel_rows, kernel_cols, options);
}

void sep_filter2d(const ConstImageView& src, const ImageView& dst,
                  const std::vector<double>& kernel_x, const std::vector<double>& kernel_y,
                  const FilterOptions& options) {
  check_kernel("sep_filter2d", "kernel_x", kernel_x);
  check_kernel("sep_filter2d", "kernel_y", kernel_y);
  run_linear("sep_filter2d", src, dst, nullptr, &kernel_x, &kernel_y,
             static_cast<int>(kernel_y.size()), static_cast<int>(kernel_x.size()), options);
}

void box_filter(const ConstImageView& src_in, const ImageView& dst, int rows, int cols,
                bool normalize, const FilterOptions& o) {
  const char* fn = "box_filter";
  if (rows <= 0 || cols <= 0)
    throw ValueError(std::string(fn) + ": ksize must be positive, got (" + str(rows) + ", " +
                     str(cols) + ")");
  check_images(fn, src_in, dst);
  check_border(fn, o.border);
  int ay, ax;
  resolve_anchor(fn, rows, cols, o, ay, ax);
  const std::vector<double> px = border_pixel(fn, src_in, o.border_value);
  SourceGuard guard(src_in, dst);
  const ConstImageView& src = guard.view();
  const std::vector<i64> rmap = border_map(src.rows, ay, rows - 1 - ay, o.border);
  const std::vector<i64> cmap = border_map(src.cols, ax, cols - 1 - ax, o.border);
  detail::BoxPlan plan;
  plan.kh = rows;
  plan.kw = cols;
  plan.ay = ay;
  plan.ax = ax;
  plan.normalize = normalize;
  plan.row_map = rmap.data();
  plan.col_map = cmap.data();
  plan.border_pixel = px.data();
  kernels().box_filter(plan, src, dst);
}

std::vector<double> gaussian_kernel(int ksize, double sigma) {
  if (ksize <= 0 || ksize % 2 == 0)
    throw ValueError("gaussian_kernel: ksize must be odd and positive, got " + str(ksize));
  // OpenCV's fixed kernels for small sizes (binomial coefficients).
  static const double k1[] = {1.0};
  static const double k3[] = {0.25, 0.5, 0.25};
  static const double k5[] = {0.0625, 0.25, 0.375, 0.25, 0.0625};
  static const double k7[] = {0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125};
  static const double k9[] = {4 / 256.0,  13 / 256.0, 30 / 256.0, 51 / 256.0, 60 / 256.0,
                              51 / 256.0, 30 / 256.0, 13 / 256.0, 4 / 256.0};
  static const double* fixed[] = {k1, k3, k5, k7, k9};
  if (ksize <= 9 && sigma <= 0) {
    const double* k = fixed[ksize / 2];
    return std::vector<double>(k, k + ksize);
  }
  const double s = sigma > 0 ? sigma : ((ksize - 1) * 0.5 - 1) * 0.3 + 0.8;
  const double scale2 = -0.5 / (s * s);
  std::vector<double> k(static_cast<std::size_t>(ksize));
  double sum = 0;
  for (int i = 0; i < ksize; ++i) {
    const double x = i - (ksize - 1) * 0.5;
    k[static_cast<std::size_t>(i)] = std::exp(scale2 * x * x);
    sum += k[static_cast<std::size_t>(i)];
  }
  for (double& v : k) v /= sum;
  return k;
}

void gaussian_blur(const ConstImageView& src, const ImageView& dst, int ksize_rows, int ksize_cols,
                   double sigma_x, double sigma_y, const FilterOptions& o) {
  const char* fn = "gaussian_blur";
  if (!std::isfinite(sigma_x) || !std::isfinite(sigma_y))
    throw ValueError(std::string(fn) + ": sigma must be finite");
  if (sigma_y <= 0) sigma_y = sigma_x;
  const double factor = src.dtype == DType::u8 ? 3.0 : 4.0;
  auto derive = [&](int k, double s) {
    if (k <= 0 && s > 0) {
      const double v = std::nearbyint(s * factor * 2 + 1);
      if (v > (1 << 20)) throw ValueError(std::string(fn) + ": sigma is too large");
      k = static_cast<int>(v) | 1;
    }
    return k;
  };
  ksize_cols = derive(ksize_cols, sigma_x);
  ksize_rows = derive(ksize_rows, sigma_y);
  if (ksize_rows <= 0 || ksize_cols <= 0 || ksize_rows % 2 == 0 || ksize_cols % 2 == 0)
    throw ValueError(std::string(fn) +
                     ": ksize must be odd and positive (or 0 with sigma > 0), got (" +
                     str(ksize_rows) + ", " + str(ksize_cols) + ")");
  if (src.dtype != dst.dtype)
    throw TypeError(std::string(fn) + ": out must have the image's dtype");
  const std::vector<double> kx = gaussian_kernel(ksize_cols, std::max(sigma_x, 0.0));
  const std::vector<double> ky = gaussian_kernel(ksize_rows, std::max(sigma_y, 0.0));
  FilterOptions opt = o;
  opt.anchor_x = opt.anchor_y = -1;
  opt.delta = 0;
  run_linear(fn, src, dst, nullptr, &kx, &ky, ksize_rows, ksize_cols, opt);
}

void deriv_kernels(int dx, int dy, int ksize, std::vector<double>& kernel_x,
                   std::vector<double>& kernel_y) {
  const char* fn = "deriv_kernels";
  if (dx < 0 || dy < 0)
    throw ValueError(std::string(fn) + ": dx and dy must be >= 0, got " + str(dx) + ", " + str(dy));
  if (ksize == -1) {
    if (!((dx == 1 && dy == 0) || (dx == 0 && dy == 1)))
      throw ValueError(std::string(fn) +
                       ": Scharr (ksize -1) needs (dx, dy) = (1, 0) or (0, 1), got (" + str(dx) +
                       ", " + str(dy) + ")");
    const std::vector<double> smooth = {3, 10, 3}, deriv = {-1, 0, 1};
    kernel_x = dx ? deriv : smooth;
    kernel_y = dy ? deriv : smooth;
    return;
  }
  if (ksize != 1 && ksize != 3 && ksize != 5 && ksize != 7)
    throw ValueError(std::string(fn) + ": ksize must be 1, 3, 5, 7 or -1 (Scharr), got " +
                     str(ksize));
  auto one = [&](int order, const char* name) {
    int n = ksize;
    if (n == 1 && order > 0) n = 3;
    if (order >= n)
      throw ValueError(std::string(fn) + ": " + name + " = " + str(order) +
                       " is too high for ksize " + str(ksize));
    return deriv_kernel(n, order);
  };
  kernel_x = one(dx, "dx");
  kernel_y = one(dy, "dy");
}

void sobel(const ConstImageView& src, const ImageView& dst, int dx, int dy, int ksize, double scale,
           const FilterOptions& options) {
  if (dx + dy <= 0 && dx >= 0 && dy >= 0)
    throw ValueError("sobel: dx + dy must be > 0, got dx = " + str(dx) + ", dy = " + str(dy));
  std::vector<double> kx, ky;
  deriv_kernels(dx, dy, ksize, kx, ky);
  if (!std::isfinite(scale)) throw ValueError("sobel: scale must be finite");
  FilterOptions opt = options;
  opt.anchor_x = opt.anchor_y = -1;
  // uint8, ksize 3, one first derivative, unscaled into a float or int16 image: in integers,
  // exact as the row engine's result is.
  const bool first = (dx == 1 && dy == 0) || (dx == 0 && dy == 1);
  if (src.dtype == DType::u8 && ksize == 3 && first && scale == 1.0 && options.delta == 0.0 &&
      (dst.dtype == DType::f32 || dst.dtype == DType::f64 || dst.dtype == DType::s16)) {
    check_images("sobel", src, dst);
    check_border("sobel", opt.border);
    const std::vector<double> px = border_pixel("sobel", src, opt.border_value);
    SourceGuard guard(src, dst);
    GradientSetup g(guard.view(), 3, 1.0, opt.border, px);
    g.plan.sobel3 = true;
    kernels().sobel3(g.plan, guard.view(), dst, dy);
    return;
  }
  for (double& v : ky) v *= scale;
  run_linear("sobel", src, dst, nullptr, &kx, &ky, static_cast<int>(ky.size()),
             static_cast<int>(kx.size()), opt);
}

void gradient(const ConstImageView& src_in, const ImageView& magnitude, const ImageView& angle,
              int ksize, bool angle_in_degrees, const FilterOptions& o) {
  const char* fn = "gradient";
  const ImageView& any = magnitude.data ? magnitude : angle;
  if (!any.data) throw ValueError(std::string(fn) + ": no output wanted");
  check_images(fn, src_in, any);
  check_border(fn, o.border);
  const DType out_type = src_in.dtype == DType::f64 ? DType::f64 : DType::f32;
  for (const ImageView* v : {&magnitude, &angle}) {
    if (!v->data) continue;
    check_images(fn, src_in, *v);
    if (v->dtype != out_type)
      throw TypeError(std::string(fn) + ": outputs must be " + dtype_name(out_type) + ", got " +
                      dtype_name(v->dtype));
  }
  const std::vector<double> px = border_pixel(fn, src_in, o.border_value);
  SourceGuard guard(src_in, magnitude, angle);
  const ConstImageView& src = guard.view();
  GradientSetup g(src, ksize, 1.0, o.border, px);
  g.plan.wide = out_type == DType::f64;
  g.plan.degrees = angle_in_degrees;
  g.plan.sobel3 = ksize == 3 && src.dtype == DType::u8;
  kernels().gradient(g.plan, src, magnitude, angle);
}

namespace {

void corner(const char* fn, bool is_harris, const ConstImageView& src_in, const ImageView& dst,
            int block_size, int ksize, double k, Border border) {
  check_images(fn, src_in, dst);
  check_border(fn, border);
  if (src_in.channels != 1)
    throw ValueError(std::string(fn) + ": image must have one channel, got " +
                     str(src_in.channels));
  const DType out_type = src_in.dtype == DType::f64 ? DType::f64 : DType::f32;
  if (dst.dtype != out_type)
    throw TypeError(std::string(fn) + ": out must be " + dtype_name(out_type) + ", got " +
                    dtype_name(dst.dtype));
  if (block_size < 1 || block_size > (1 << 16))
    throw ValueError(std::string(fn) + ": block_size must be in [1, 65536], got " +
                     str(block_size));
  if (!std::isfinite(k)) throw ValueError(std::string(fn) + ": k must be finite");
  // cv2's normalization of the derivatives.
  double scale = static_cast<double>(1 << ((ksize > 0 ? ksize : 3) - 1)) * block_size;
  if (ksize < 0) scale *= 2.0;
  if (src_in.dtype == DType::u8) scale *= 255.0;
  scale = 1.0 / scale;
  SourceGuard guard(src_in, dst);
  const ConstImageView& src = guard.view();
  const std::vector<double> zero(1, 0.0);
  GradientSetup g(src, ksize, scale, border, zero);
  g.plan.wide = out_type == DType::f64;
  detail::CornerPlan plan;
  plan.gradient = g.plan;
  plan.block = block_size;
  plan.anchor = block_size / 2;
  plan.harris = is_harris;
  plan.k = k;
  const std::vector<i64> rows =
      border_map(src.rows, plan.anchor, block_size - 1 - plan.anchor, border);
  const std::vector<i64> cols =
      border_map(src.cols, plan.anchor, block_size - 1 - plan.anchor, border);
  plan.product_rows = rows.data();
  plan.product_cols = cols.data();
  kernels().corner_response(plan, src, dst);
}

}  // namespace

void harris(const ConstImageView& src, const ImageView& dst, int block_size, int ksize, double k,
            Border border) {
  corner("harris", true, src, dst, block_size, ksize, k, border);
}

void min_eigen(const ConstImageView& src, const ImageView& dst, int block_size, int ksize,
               Border border) {
  corner("min_eigen", false, src, dst, block_size, ksize, 0.0, border);
}

void canny(const ConstImageView& src_in, const ImageView& dst, double low, double high, int ksize,
           bool l2_gradient) {
  const char* fn = "canny";
  if (src_in.rows <= 0 || src_in.cols <= 0 || src_in.channels <= 0)
    throw ValueError(std::string(fn) + ": image must not be empty");
  if (src_in.dtype != DType::u8)
    throw TypeError(std::string(fn) + ": image dtype " + dtype_name(src_in.dtype) +
                    " is not supported (uint8)");
  if (dst.dtype != DType::u8 || dst.channels != 1 || dst.rows != src_in.rows ||
      dst.cols != src_in.cols)
    throw ValueError(std::string(fn) + ": out must be uint8 of shape (" + str(src_in.rows) + ", " +
                     str(src_in.cols) + ")");
  if (ksize != 3 && ksize != 5 && ksize != 7)
    throw ValueError(std::string(fn) + ": ksize must be 3, 5 or 7, got " + str(ksize));
  if (std::isnan(low) || std::isnan(high))
    throw ValueError(std::string(fn) + ": thresholds must not be NaN");
  // OpenCV's integer thresholds: /16 with ksize 7 (its derivatives are scaled so), ordered,
  // clamped and squared for L2, floored; then clamped to what a magnitude can reach.
  if (ksize == 7) low /= 16, high /= 16;
  if (low > high) std::swap(low, high);
  if (l2_gradient) {
    low = std::min(32767.0, low), high = std::min(32767.0, high);
    if (low > 0) low *= low;
    if (high > 0) high *= high;
  }
  const double top = l2_gradient ? 4294967296.0 : 131072.0;
  detail::CannyPlan plan;
  plan.low = static_cast<i64>(std::floor(std::min(std::max(low, -1.0), top)));
  plan.high = static_cast<i64>(std::floor(std::min(std::max(high, -1.0), top)));
  plan.l2 = l2_gradient;
  SourceGuard guard(src_in, dst);
  const ConstImageView& src = guard.view();
  const std::vector<double> zero(static_cast<std::size_t>(src.channels), 0.0);
  GradientSetup g(src, ksize, ksize == 7 ? 1.0 / 16 : 1.0, Border::Replicate, zero);
  plan.gradient = g.plan;
  plan.gradient.sobel3 = ksize == 3;
  // The classification goes into a map framed by zeros (see hysteresis.hpp); the hysteresis
  // writes dst.
  detail::FramedMap map(src.rows, src.cols);
  kernels().canny_classify(plan, src, map.view());
  detail::hysteresis(map, dst);
}

namespace detail {

void corner_maxima_row(const void* up, const void* mid, const void* down, bool wide,
                       double threshold, std::int64_t cols, void* colmax, std::uint8_t* hit) {
  kernels().corner_maxima_row(up, mid, down, wide, threshold, cols, colmax, hit);
}

}  // namespace detail
}  // namespace foveal
