// Segmentation: k-means clustering (the assignment and accumulation step of Lloyd's algorithm;
// the iterations, initialisation and convergence live in the Python layer, foveal.segment),
// connected components and contours.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "foveal/image.hpp"

namespace foveal {

// One Lloyd step, fused: every point of data (n x d, contiguous, float32 or float64) is
// assigned to its nearest center (k x d, same dtype; ties go to the lowest index) into
// labels, and the weighted sums of the points of each cluster (k x d) and their weights (k) are
// accumulated in float64 without an n x k matrix. weights: n values of the data's dtype or null
// (all 1). distances (n values, or null) gets each point's squared distance to its center;
// changed (or null) the number of points whose new label differs from what labels held.
// Returns the inertia, sum_i w_i |x_i - c_label|^2, or 0 when want_inertia is false (which
// saves work in the passes whose inertia Lloyd's loop never reads). Deterministic for a given
// thread count.
//
// Repeated passes (Lloyd's loop) can save most of the work once the labels settle. With
// changes_only, labels holds the last pass's labels (one outside [0, k) counts as a new point)
// and sums and counts receive the changes to that pass's sums and counts: only the points
// whose label changed move them (in to the new cluster, out of the old). Hamerly's bounds, in the general path, skip searches too: upper,
// lower and norms (n values each, or null) receive, per point, a bound above its distance to
// its center, one below its distance to any other, and |x|; on the next pass, shift (k values:
// how far each center moved since; it needs changes_only) lets a point whose bounds stay apart
// keep its label unsearched and unread, and one they do not settle is compared with the
// centers near its own alone when few are. A point is kept only when a full search would find
// the same center despite rounding, so the labels are always those of a full search.
double kmeans_assign(const void* data, const void* centers, const void* weights, DType dtype,
                     std::int64_t n, std::int64_t d, std::int64_t k, std::int32_t* labels,
                     double* sums, double* counts, double* distances, std::int64_t* changed,
                     bool want_inertia = true, bool changes_only = false, double* upper = nullptr,
                     double* lower = nullptr, double* norms = nullptr,
                     const double* shift = nullptr);

// The inertia of given labels (each in [0, k)) against centers: sum_i w_i |x_i - c_label_i|^2,
// each squared distance in the data's precision (written to distances, n values, unless
// null), the sum in float64.
double kmeans_inertia(const void* data, const void* centers, const void* weights, DType dtype,
                      std::int64_t n, std::int64_t d, std::int64_t k, const std::int32_t* labels,
                      double* distances = nullptr);

// ---- Connected components (cv2.connectedComponentsWithStats) ----------------------------

// What cv2.connectedComponentsWithStats reports for one label: the bounding box of its pixels,
// their number and the sums of their coordinates (the centroid is sum / area). A label with no
// pixels has left = top = -1 and zero width, height and area.
struct ComponentStat {
  std::int32_t left = -1, top = -1, width = 0, height = 0;
  std::int64_t area = 0;
  double sum_x = 0.0, sum_y = 0.0;
};

// Labels the 4- or 8-connected components of the nonzero pixels of binary (uint8, one channel)
// 1, 2, ... in the raster order of their first pixels, the background 0, into labels (rows x
// cols int32, rows label_stride elements apart), as OpenCV does. Returns the number of
// components (the background not counted). With stats non-null, it also gets one entry per
// label, the background first, computed from the runs of the image rather than its pixels.
std::int32_t label_components(ConstImageView binary, int connectivity, std::int32_t* labels,
                              std::int64_t label_stride, std::vector<ComponentStat>* stats);

// The statistics of every label 0..max of a label image (rows x cols int32, all >= 0).
std::vector<ComponentStat> component_stats(const std::int32_t* labels, std::int64_t rows,
                                           std::int64_t cols, std::int64_t label_stride);

// ---- Contours (cv2.findContours) --------------------------------------------------------

enum class ContourMode { external, list, ccomp, tree };
enum class ContourMethod { none, simple };

// Every contour's points, one after another, and its links: contour i is the points
// [starts[i], starts[i + 1]) of xy (x, y pairs); hierarchy[i] = {next, previous, first child,
// parent}, -1 for none.
struct Contours {
  std::vector<std::int32_t> xy;
  std::vector<std::int64_t> starts{0};
  std::vector<std::array<std::int32_t, 4>> hierarchy;
};

// The borders of the nonzero regions of binary (uint8, one channel) by Suzuki-Abe border
// following, with cv2.findContours's points, order and hierarchy for the same mode and method.
// Pixels outside the image count as background; (offset_x, offset_y) is added to every point.
Contours find_contours(ConstImageView binary, ContourMode mode, ContourMethod method,
                       std::int32_t offset_x, std::int32_t offset_y);

// Draws closed polygons (contour i is the points [starts[i], starts[i + 1]) of xy, x and y
// within +-2**20) into image (any dtype, 1 to 4 channels) as cv2.drawContours does: thickness
// >= 1 strokes their edges (8-connected lines; wider ones the sweep of a disc of that
// diameter), -1 fills them, all at once by the even-odd rule, edges included. color has one
// value per channel, already converted to the image's dtype.
void draw_polygons(ImageView image, const std::int32_t* xy, const std::int64_t* starts,
                   std::int64_t count, const double* color, int thickness);

}  // namespace foveal
