// What the example's files share: the test image, a seeded random source, the line each check
// prints, and the demos (one file each: morphology_demo.cpp, harris_demo.cpp,
// attention_demo.cpp). Each demo runs a foveal function, computes the same thing with a plain
// loop written out beside it, and reports the largest difference against a stated tolerance.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace example {

// A rows x cols 8-bit image, rows `cols` bytes apart.
struct TestImage {
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;
};

// A deterministic image with something for every demo: a gradient, a bright rectangle (four
// corners), isolated specks and some noise.
TestImage make_test_image(int rows, int cols);

// A small linear congruential generator: the same numbers on every machine and compiler.
class Random {
 public:
  explicit Random(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next() {
    state_ = state_ * 1664525u + 1013904223u;
    return state_;
  }
  // Uniform in [lo, hi), from the top 24 bits.
  double uniform(double lo, double hi) { return lo + (hi - lo) * (next() >> 8) * (1.0 / 16777216); }

 private:
  std::uint32_t state_;
};

// The largest |got - expected| seen, NaN once any difference was NaN (so that a NaN fails).
struct MaxDiff {
  double value = 0;
  void add(double got, double expected) {
    const double d = std::abs(got - expected);
    if (!std::isnan(value) && (std::isnan(d) || d > value)) value = d;
  }
};

// Prints one check ("what", the largest difference, the tolerance, ok / FAILED) and returns 1
// when it failed (a difference above the tolerance, or NaN), else 0.
int report(const char* what, double max_diff, double tolerance);

// Each returns the number of checks that failed.
int morphology_demo(const TestImage& image);
int harris_demo(const TestImage& image);
int attention_demo();

}  // namespace example
