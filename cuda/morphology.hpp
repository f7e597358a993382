// The morphology kernels' launchers (morphology.cu): one erode or dilate pass over an (H, W, C)
// interleaved image, optionally fused with the subtraction that makes a gradient, top-hat or
// black-hat, and two passes fused into one (open, close). Plain C++ (no CUDA types), so that
// the bindings compile with the host compiler and serve the SIMT emulator's build too. Pointers
// are device pointers (host pointers under the emulator); ``stream`` is a cudaStream_t.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace foveal {
namespace gpu {

// The element types; bool images travel as u8 holding 0 and 1.
enum class MorphElem { u8, u16, s16, f32, f64 };

// cv2's borders; the "default" border (the outside never wins) is a constant border whose
// pixel is the identity of the op, which the caller puts in ``border_pixel``.
enum class MorphBorder { constant, replicate, reflect, reflect101, wrap };

// What is written: the pass's result r, or other - r, or r - other (saturating for integers,
// as cv2.subtract), ``other`` being an image of the same shape read at the same position.
enum class MorphEpilogue { none, other_minus, minus_other };

// One run of ones of a structuring element: row dy, columns dx .. dx + len - 1.
struct MorphRun {
  int dy = 0, dx = 0, len = 1;
};

// The window of one pass: a full kh x kw rectangle (``runs`` empty) or the runs of any other
// 0/1 mask that fits in kh x kw; the anchor (ay, ax) is inside the box.
struct MorphWindow {
  int kh = 1, kw = 1, ay = 0, ax = 0;
  std::vector<MorphRun> runs;
  bool dilate = true;
  std::vector<unsigned char> border_pixel;  // c values of the element type
};

struct MorphImage {
  MorphElem elem = MorphElem::u8;
  std::int64_t h = 0, w = 0, c = 1;
  MorphBorder border = MorphBorder::constant;
};

// Whether the kernels take a pass with this window on this image (a rectangle: its halo fits
// a tile, in one pass or as a row pass and a column pass; other masks: at most
// morph_max_runs() runs and their halo fits a tile). The callers send other windows elsewhere.
bool morph_pass_supported(const MorphImage& image, const MorphWindow& window);
int morph_max_runs();

// How morph_pass and morph_pair would run a window on an image (for tests): whether one pass
// is taken, as one launch or a row and a column pass, its tile; whether the fused pair is.
struct MorphPlanInfo {
  bool supported = false, split = false, pair = false;
  int th = 0, twe = 0, pair_th = 0, pair_twe = 0;
};
MorphPlanInfo morph_plan_info(const MorphImage& image, const MorphWindow& window);

// dst = epilogue(pass(src)); dst must not overlap src or other.
void morph_pass(const MorphImage& image, const MorphWindow& window, const void* src, void* dst,
                MorphEpilogue epilogue, const void* other, void* stream);

// Whether morph_pair takes these two windows (each supported by morph_pass, a border that is
// not wrap, and the intermediate tile of the pair fits beside the first pass's tile).
bool morph_pair_supported(const MorphImage& image, const MorphWindow& first,
                          const MorphWindow& second);

// dst = epilogue(second(first(src))) in one launch, the intermediate image never written
// whole: open (erode then dilate), close, and with the epilogue top-hat and black-hat.
void morph_pair(const MorphImage& image, const MorphWindow& first, const MorphWindow& second,
                const void* src, void* dst, MorphEpilogue epilogue, const void* other,
                void* stream);

}  // namespace gpu
}  // namespace foveal
