// Connected components by runs. Each row's runs of nonzero pixels are found a word at a time;
// runs that touch runs of the row above are united (union-find whose roots are the smallest
// index, so that a component's root is its first run in raster order); rows are cut into
// stripes that are labelled in parallel and then joined across the seams. A second pass writes
// every run's label and, for the statistics, adds each run as a whole (its length, the sum of
// its columns, its ends), so the statistics cost per run, not per pixel.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "foveal/error.hpp"
#include "foveal/parallel.hpp"
#include "foveal/segment.hpp"

namespace foveal {
namespace {

struct Run {
  std::int32_t begin, end;  // columns [begin, end)
};

std::uint64_t load_word(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool has_zero_byte(std::uint64_t v) {
  return ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull) != 0;
}

// Appends the runs of nonzero bytes of row[0, cols).
void find_runs(const std::uint8_t* row, std::int32_t cols, std::vector<Run>& runs) {
  std::int32_t x = 0;
  while (x < cols) {
    while (x + 8 <= cols && load_word(row + x) == 0) x += 8;
    while (x < cols && row[x] == 0) ++x;
    if (x == cols) break;
    const std::int32_t begin = x;
    while (x + 8 <= cols && !has_zero_byte(load_word(row + x))) x += 8;
    while (x < cols && row[x] != 0) ++x;
    runs.push_back({begin, x});
  }
}

std::int32_t find_root(std::int32_t* parent, std::int32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

void unite(std::int32_t* parent, std::int32_t a, std::int32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

// Unites the runs of a row with the runs of the row above that touch them: overlapping
// columns, or (reach 1, 8-connectivity) columns one apart diagonally.
void unite_rows(const Run* above, std::int32_t above_first, std::int32_t above_count,
                const Run* row, std::int32_t row_first, std::int32_t row_count, std::int32_t reach,
                std::int32_t* parent) {
  std::int32_t i = 0, j = 0;
  while (i < above_count && j < row_count) {
    const Run a = above[i], b = row[j];
    if (a.begin < b.end + reach && b.begin < a.end + reach)
      unite(parent, above_first + i, row_first + j);
    if (a.end < b.end)
      ++i;
    else
      ++j;
  }
}

// A label's statistics while they are gathered.
struct Tally {
  std::int32_t min_x = std::numeric_limits<std::int32_t>::max(), max_x = -1;
  std::int32_t min_y = std::numeric_limits<std::int32_t>::max(), max_y = -1;
  std::int64_t area = 0, sum_x = 0, sum_y = 0;

  void add_run(std::int32_t y, std::int32_t begin, std::int32_t end) {
    const std::int64_t length = end - begin;
    area += length;
    // The sum of begin..end-1; one of the two factors is even.
    sum_x += (static_cast<std::int64_t>(begin) + end - 1) * length / 2;
    sum_y += static_cast<std::int64_t>(y) * length;
    min_x = std::min(min_x, begin);
    max_x = std::max(max_x, end - 1);
    min_y = std::min(min_y, y);
    max_y = std::max(max_y, y);
  }

  void add(const Tally& o) {
    area += o.area, sum_x += o.sum_x, sum_y += o.sum_y;
    min_x = std::min(min_x, o.min_x), max_x = std::max(max_x, o.max_x);
    min_y = std::min(min_y, o.min_y), max_y = std::max(max_y, o.max_y);
  }

  ComponentStat stat() const {
    ComponentStat s;
    if (area == 0) return s;
    s.left = min_x, s.top = min_y;
    s.width = max_x - min_x + 1, s.height = max_y - min_y + 1;
    s.area = area;
    s.sum_x = static_cast<double>(sum_x), s.sum_y = static_cast<double>(sum_y);
    return s;
  }
};

// A band of rows labelled by one task.
struct Stripe {
  std::int32_t y0 = 0, y1 = 0;
  std::vector<Run> runs;
  std::vector<std::int32_t> row_start;  // row y0 + r has runs [row_start[r], row_start[r + 1])
  std::int32_t first_run = 0;           // global index of runs[0]
  std::int32_t first_label = 0;         // labels from here on begin in this stripe
  Tally background;
  std::unordered_map<std::int32_t, Tally> carried;  // labels begun in an earlier stripe
};

void check_size(std::int64_t rows, std::int64_t cols, const char* fn) {
  if (rows < 1 || cols < 1) throw ValueError(std::string(fn) + ": the image must not be empty");
  if (rows * cols >= std::numeric_limits<std::int32_t>::max())
    throw ValueError(std::string(fn) + ": the image has too many pixels (at most 2**31 - 2)");
}

// Stripes of at least 64 rows and stripe_pixels pixels: below 768 Ki pixels, waking another
// thread and joining the stripes' labels costs more than the stripe saves (a 0.5 Mpixel image
// took 0.55 ms on one thread and 0.72 ms on two; 2 Mpixels 1.8 and 1.4).
std::atomic<std::int64_t> stripe_pixels{768 * 1024};

std::int32_t stripe_count(std::int64_t rows, std::int64_t cols) {
  const std::int64_t by_rows = std::max<std::int64_t>(1, rows / 64);
  const std::int64_t least = stripe_pixels.load(std::memory_order_relaxed);
  const std::int64_t by_pixels = least > 0 ? std::max<std::int64_t>(1, rows * cols / least)
                                           : std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int32_t>(
      std::min<std::int64_t>(std::min(by_rows, by_pixels), get_num_threads()));
}

}  // namespace

std::int32_t label_components(ConstImageView binary, int connectivity, std::int32_t* labels,
                              std::int64_t label_stride, std::vector<ComponentStat>* stats) {
  if (binary.dtype != DType::u8 || binary.channels != 1)
    throw TypeError("label: binary must be a one-channel uint8 image");
  if (connectivity != 4 && connectivity != 8)
    throw ValueError("label: connectivity must be 4 or 8, got " + std::to_string(connectivity));
  check_size(binary.rows, binary.cols, "label");
  const auto rows = static_cast<std::int32_t>(binary.rows);
  const auto cols = static_cast<std::int32_t>(binary.cols);
  const std::int32_t reach = connectivity == 8 ? 1 : 0;

  std::vector<Stripe> stripes(stripe_count(rows, cols));
  const auto n_stripes = static_cast<std::int32_t>(stripes.size());
  for (std::int32_t t = 0; t < n_stripes; ++t) {
    // Even boundaries, so that no pair of rows (a row of 2x2 blocks) straddles two stripes.
    stripes[t].y0 = static_cast<std::int32_t>(std::int64_t{rows} * t / n_stripes) & ~1;
    stripes[t].y1 = t + 1 == n_stripes
                        ? rows
                        : static_cast<std::int32_t>(std::int64_t{rows} * (t + 1) / n_stripes) & ~1;
  }

  // 1. The runs of every row.
  parallel_for(n_stripes, [&](std::int64_t t) {
    Stripe& s = stripes[t];
    s.row_start.reserve(s.y1 - s.y0 + 1);
    for (std::int32_t y = s.y0; y < s.y1; ++y) {
      s.row_start.push_back(static_cast<std::int32_t>(s.runs.size()));
      find_runs(binary.row<const std::uint8_t>(y), cols, s.runs);
    }
    s.row_start.push_back(static_cast<std::int32_t>(s.runs.size()));
  });
  std::int64_t total_runs = 0;
  for (Stripe& s : stripes) {
    s.first_run = static_cast<std::int32_t>(total_runs);
    total_runs += static_cast<std::int64_t>(s.runs.size());
  }
  std::vector<std::int32_t> parent(static_cast<std::size_t>(total_runs));

  // 2. Unions inside each stripe (they touch only the stripe's own runs), then across seams.
  parallel_for(n_stripes, [&](std::int64_t t) {
    const Stripe& s = stripes[t];
    const auto n = static_cast<std::int32_t>(s.runs.size());
    for (std::int32_t i = 0; i < n; ++i) parent[s.first_run + i] = s.first_run + i;
    for (std::int32_t r = 1; r < s.y1 - s.y0; ++r) {
      const std::int32_t a0 = s.row_start[r - 1], b0 = s.row_start[r];
      unite_rows(s.runs.data() + a0, s.first_run + a0, b0 - a0, s.runs.data() + b0,
                 s.first_run + b0, s.row_start[r + 1] - b0, reach, parent.data());
    }
  });
  for (std::int32_t t = 1; t < n_stripes; ++t) {
    const Stripe& up = stripes[t - 1];
    const Stripe& down = stripes[t];
    const std::int32_t last = up.y1 - up.y0 - 1;
    const std::int32_t a0 = up.row_start[last];
    unite_rows(up.runs.data() + a0, up.first_run + a0, up.row_start[last + 1] - a0,
               down.runs.data(), down.first_run, down.row_start[1], reach, parent.data());
  }

  // 3. Every run's root (roots precede their runs, so parent[parent[i]] is already a root),
  // then labels in OpenCV's order: for 8-connectivity the order of each component's first 2x2
  // block in a raster scan of blocks (cv2 labels blocks; the pixels of a block are always
  // 8-connected), for 4-connectivity the order of its first pixel.
  for (std::int64_t i = 0; i < total_runs; ++i) parent[i] = parent[parent[i]];
  std::vector<std::int32_t> root_label(static_cast<std::size_t>(total_runs), 0);
  std::int32_t count = 0;
  auto visit = [&](const Stripe& s, std::int32_t i) {
    std::int32_t& label = root_label[parent[s.first_run + i]];
    if (label == 0) label = ++count;
  };
  for (Stripe& s : stripes) {
    s.first_label = count + 1;
    for (std::int32_t r = 0; r < s.y1 - s.y0; r += 2) {
      std::int32_t i = s.row_start[r], i_end = s.row_start[r + 1];
      std::int32_t j = i_end, j_end = r + 1 < s.y1 - s.y0 ? s.row_start[r + 2] : i_end;
      if (connectivity == 8) {
        while (i < i_end && j < j_end)
          visit(s, (s.runs[i].begin >> 1) <= (s.runs[j].begin >> 1) ? i++ : j++);
      }
      for (; i < i_end; ++i) visit(s, i);
      for (; j < j_end; ++j) visit(s, j);
    }
  }

  // 4. Write the label image; gather the statistics per run.
  std::vector<Tally> tallies(stats ? static_cast<std::size_t>(count) + 1 : 0);
  parallel_for(n_stripes, [&](std::int64_t t) {
    Stripe& s = stripes[t];
    std::int32_t carried_label = -1;
    Tally* carried_tally = nullptr;
    for (std::int32_t y = s.y0; y < s.y1; ++y) {
      std::int32_t* out = labels + y * label_stride;
      std::int32_t x = 0;
      for (std::int32_t i = s.row_start[y - s.y0]; i < s.row_start[y - s.y0 + 1]; ++i) {
        const Run run = s.runs[i];
        const std::int32_t label = root_label[parent[s.first_run + i]];
        std::fill(out + x, out + run.begin, 0);
        std::fill(out + run.begin, out + run.end, label);
        if (stats) {
          if (run.begin > x) s.background.add_run(y, x, run.begin);
          if (label >= s.first_label) {
            tallies[label].add_run(y, run.begin, run.end);
          } else {
            if (label != carried_label) carried_label = label, carried_tally = &s.carried[label];
            carried_tally->add_run(y, run.begin, run.end);
          }
        }
        x = run.end;
      }
      std::fill(out + x, out + cols, 0);
      if (stats && x < cols) s.background.add_run(y, x, cols);
    }
  });

  if (stats) {
    for (const Stripe& s : stripes) {
      tallies[0].add(s.background);
      for (const auto& [label, tally] : s.carried) tallies[label].add(tally);
    }
    stats->resize(tallies.size());
    for (std::size_t i = 0; i < tallies.size(); ++i) (*stats)[i] = tallies[i].stat();
  }
  return count;
}

std::int64_t set_label_stripe_pixels(std::int64_t pixels) {
  if (pixels < 0) throw ValueError("set_label_stripe_pixels: pixels must be >= 0");
  return stripe_pixels.exchange(pixels);
}

std::vector<ComponentStat> component_stats(const std::int32_t* labels, std::int64_t rows,
                                           std::int64_t cols, std::int64_t label_stride) {
  check_size(rows, cols, "component_stats");
  const auto n_stripes = stripe_count(rows, cols);

  std::vector<std::int32_t> stripe_min(n_stripes), stripe_max(n_stripes);
  parallel_for(n_stripes, [&](std::int64_t t) {
    const std::int64_t y0 = rows * t / n_stripes, y1 = rows * (t + 1) / n_stripes;
    std::int32_t lo = 0, hi = 0;
    for (std::int64_t y = y0; y < y1; ++y) {
      const std::int32_t* row = labels + y * label_stride;
      for (std::int64_t x = 0; x < cols; ++x) lo = std::min(lo, row[x]), hi = std::max(hi, row[x]);
    }
    stripe_min[t] = lo, stripe_max[t] = hi;
  });
  const std::int32_t lowest = *std::min_element(stripe_min.begin(), stripe_min.end());
  if (lowest < 0)
    throw ValueError("component_stats: labels must be >= 0, got " + std::to_string(lowest));
  const std::int32_t highest = *std::max_element(stripe_max.begin(), stripe_max.end());
  const std::size_t n_labels = static_cast<std::size_t>(highest) + 1;
  // A table of statistics per label costs memory by the highest label, not by the image.
  if (highest > std::max<std::int64_t>(rows * cols, 1 << 24))
    throw ValueError("component_stats: the highest label (" + std::to_string(highest) +
                     ") exceeds the number of pixels; relabel the image first");

  // One table per stripe, summed at the end (one stripe when tables would be large); each run
  // of equal labels is added whole.
  const std::int32_t n_tables = n_labels > (1u << 20) ? 1 : n_stripes;
  std::vector<std::vector<Tally>> partial(n_tables);
  parallel_for(n_tables, [&](std::int64_t t) {
    const std::int64_t y0 = rows * t / n_tables, y1 = rows * (t + 1) / n_tables;
    std::vector<Tally>& tally = partial[t];
    tally.resize(n_labels);
    for (std::int64_t y = y0; y < y1; ++y) {
      const std::int32_t* row = labels + y * label_stride;
      std::int64_t x = 0;
      while (x < cols) {
        const std::int32_t label = row[x];
        const std::int64_t begin = x;
        while (x < cols && row[x] == label) ++x;
        tally[label].add_run(static_cast<std::int32_t>(y), static_cast<std::int32_t>(begin),
                             static_cast<std::int32_t>(x));
      }
    }
  });
  std::vector<ComponentStat> out(n_labels);
  for (std::size_t i = 0; i < n_labels; ++i) {
    Tally sum = partial[0][i];
    for (std::int32_t t = 1; t < n_tables; ++t) sum.add(partial[t][i]);
    out[i] = sum.stat();
  }
  return out;
}

}  // namespace foveal
