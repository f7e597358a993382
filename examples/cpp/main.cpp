// A C++ consumer of foveal::core, without Python: morphology, Harris corners and scaled
// dot-product attention, each checked against a plain loop written out in its demo file, and
// how argument errors are reported. Build it with examples/cpp/CMakeLists.txt
// (find_package(foveal) + foveal::core); examples/cpp/run.sh does everything from scratch.
// Exits with 1 when any check fails.
#include <algorithm>
#include <cstdio>

#include "demos.hpp"
#include "foveal/foveal.hpp"

namespace example {

TestImage make_test_image(int rows, int cols) {
  TestImage image;
  image.rows = rows;
  image.cols = cols;
  image.pixels.resize(static_cast<std::size_t>(rows) * cols);
  Random random(12345u);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      int v = (x + y) / 2 + static_cast<int>(random.next() >> 28);
      if (y >= 40 && y < 70 && x >= 60 && x < 100) v = 220;
      if ((x * 7 + y * 13) % 97 == 0) v = 255;
      image.pixels[static_cast<std::size_t>(y) * cols + x] =
          static_cast<std::uint8_t>(std::min(v, 255));
    }
  }
  return image;
}

int report(const char* what, double max_diff, double tolerance) {
  const bool ok = max_diff <= tolerance;  // false for NaN
  std::printf("  %-50s max |diff| %-10.3g tolerance %-10.3g %s\n", what, max_diff, tolerance,
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace example

int main() {
  std::printf("foveal %s, isa %s, %d threads\n", foveal::version(),
              foveal::isa_name(foveal::active_isa()), foveal::get_num_threads());
  const example::TestImage image = example::make_test_image(120, 160);

  int failed = 0;
  std::printf("morphology\n");
  failed += example::morphology_demo(image);
  std::printf("harris corners\n");
  failed += example::harris_demo(image);
  std::printf("scaled dot-product attention\n");
  failed += example::attention_demo();

  std::printf("%s: %s\n", foveal::isa_name(foveal::active_isa()),
              failed == 0 ? "all checks ok" : "FAILED");
  return failed == 0 ? 0 : 1;
}
