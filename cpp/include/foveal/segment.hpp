// Segmentation: k-means clustering (the assignment and accumulation step of Lloyd's algorithm;
// the iterations, initialisation and convergence live in the Python layer, foveal.segment),
// connected components and contours.
//
// Arrays passed as pointers are contiguous and hold the number of values each comment gives;
// only the sizes passed beside them are checked. Errors: TypeError for a dtype a function does
// not take, ValueError for sizes and values, named in each comment.
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
// whose label changed move them (in to the new cluster, out of the old). Hamerly's bounds, in
// the general path, skip searches too: upper, lower and norms (n values each, or null) receive, per
// point, a bound above its distance to its center, one below its distance to any other, and |x|; on
// the next pass, shift (k values: how far each center moved since; it needs changes_only) lets a
// point whose bounds stay apart keep its label unsearched and unread, and one they do not settle is
// compared with the centers near its own alone when few are. A point is kept only when a full
// search would find the same center despite rounding, so the labels are always those of a full
// search.
//
// This is the E and M halves of one iteration of scikit-learn's Lloyd k-means (labels, and the
// sums that give the new centers); with the same centers the labels and inertia agree with
// sklearn.cluster.KMeans. Throws TypeError for a dtype other than float32 / float64;
// ValueError for n, d or k < 1, k >= 2^31, bounds not given all together, or shift without
// changes_only. sums and counts are overwritten (never added to). Threads: the foveal pool,
// over blocks of points.
double kmeans_assign(const void* data, const void* centers, const void* weights, DType dtype,
                     std::int64_t n, std::int64_t d, std::int64_t k, std::int32_t* labels,
                     double* sums, double* counts, double* distances, std::int64_t* changed,
                     bool want_inertia = true, bool changes_only = false, double* upper = nullptr,
                     double* lower = nullptr, double* norms = nullptr,
                     const double* shift = nullptr);

// The inertia of given labels (each in [0, k)) against centers: sum_i w_i |x_i - c_label_i|^2,
// each squared distance in the data's precision (written to distances, n values, unless
// null), the sum in float64 over fixed chunks (the same total for any thread count). Threads:
// the foveal pool. TypeError for a dtype other than float32 / float64; ValueError for a label
// outside [0, k), found during the pass (distances may then be partly written). n, d and k
// are not checked (n = 0 gives 0).
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
// cv2.connectedComponentsWithStats(binary, connectivity, ltype=CV_32S): the same labels and
// stats (the centroid is (sum_x, sum_y) / area). TypeError unless binary is uint8 with one
// channel; ValueError for a connectivity other than 4 or 8, an empty image, or 2^31 - 1
// pixels or more. Threads: the foveal pool, over stripes of rows.
std::int32_t label_components(ConstImageView binary, int connectivity, std::int32_t* labels,
                              std::int64_t label_stride, std::vector<ComponentStat>* stats);

// The statistics of every label 0..max of a label image (rows x cols int32, all >= 0, rows
// label_stride elements apart): what label_components reports, for labels from anywhere.
// ValueError for an empty image, 2^31 - 1 pixels or more, a negative label, or a highest label
// above max(rows * cols, 2^24) (the table grows with it). Threads: the foveal pool.
std::vector<ComponentStat> component_stats(const std::int32_t* labels, std::int64_t rows,
                                           std::int64_t cols, std::int64_t label_stride);

// The fewest pixels (default 768 Ki) an image needs per stripe before label_components and
// component_stats cut it into stripes for several threads; returns the previous value. For
// tests: 0 cuts every image of 64 rows a stripe.
std::int64_t set_label_stripe_pixels(std::int64_t pixels);

// ---- Contours (cv2.findContours) --------------------------------------------------------

// cv::RETR_EXTERNAL, RETR_LIST, RETR_CCOMP, RETR_TREE.
enum class ContourMode { external, list, ccomp, tree };
// cv::CHAIN_APPROX_NONE (every border pixel), CHAIN_APPROX_SIMPLE (the ends of straight runs).
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
// TypeError unless binary is uint8 with one channel (any nonzero value is foreground);
// ValueError for an empty image or one with 2^31 - 3 rows or columns or more (and, found
// during the scan, 2^31 - 1 contours). Runs on the calling thread alone.
Contours find_contours(ConstImageView binary, ContourMode mode, ContourMethod method,
                       std::int32_t offset_x, std::int32_t offset_y);

// Draws closed polygons (contour i is the points [starts[i], starts[i + 1]) of xy, x and y
// within +-2**20) into image (any dtype, 1 to 4 channels) as cv2.drawContours does: thickness
// >= 1 strokes their edges (8-connected lines; wider ones the sweep of a disc of that
// diameter), -1 fills them, all at once by the even-odd rule, edges included. color has one
// value per channel, already converted to the image's dtype. cv2.drawContours(image, contours,
// -1, color, thickness, cv2.LINE_8) (foveal.draw_contours in Python, whose name the error
// messages carry). ValueError for 0 or more than 4 channels, or a thickness other than -1 and
// 1..32767. xy and starts are not checked. Runs on the calling thread alone; image is drawn in
// place.
void draw_polygons(ImageView image, const std::int32_t* xy, const std::int64_t* starts,
                   std::int64_t count, const double* color, int thickness);

}  // namespace foveal
