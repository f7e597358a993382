// ViT patch sequences: images (N, C, H, W) to (N, L, C*ph*pw) and back. A pure permutation of
// the values; each copied run is one patch row of pw values, one task per patch row of the
// grid.
#include <cstring>
#include <string>

#include "foveal/error.hpp"
#include "foveal/nn.hpp"
#include "foveal/parallel.hpp"
#include "nn_checks.hpp"

namespace foveal {
namespace {

using i64 = std::int64_t;

// Copies between images and patches for one (image, grid row): to_patches picks the direction.
void copy_grid_row(const TensorView& images, char* patches, i64 ph, i64 pw, i64 n, i64 gy,
                   bool to_patches) {
  const i64 C = images.c, H = images.h, W = images.w;
  const i64 gw = W / pw, item = static_cast<i64>(dtype_size(images.dtype));
  const i64 features = C * ph * pw;
  char* img = static_cast<char*>(images.data);
  for (i64 gx = 0; gx < gw; ++gx) {
    char* patch = patches + ((n * (H / ph) + gy) * gw + gx) * features * item;
    for (i64 c = 0; c < C; ++c) {
      for (i64 i = 0; i < ph; ++i) {
        char* pix = img + (((n * C + c) * H + gy * ph + i) * W + gx * pw) * item;
        char* run = patch + (c * ph + i) * pw * item;
        if (to_patches)
          std::memcpy(run, pix, static_cast<std::size_t>(pw * item));
        else
          std::memcpy(pix, run, static_cast<std::size_t>(pw * item));
      }
    }
  }
}

void check(const char* fn, const BasicTensorView<const void*>& images, i64 ph, i64 pw) {
  detail::check_float(fn, "images", images.dtype);
  if (ph < 1 || pw < 1) throw ValueError(std::string(fn) + ": patch_size must be >= 1");
  if (images.h % ph || images.w % pw)
    throw ValueError(std::string(fn) + ": the image size " + std::to_string(images.h) + " x " +
                     std::to_string(images.w) + " is not a multiple of the patch size " +
                     std::to_string(ph) + " x " + std::to_string(pw));
}

void run(const TensorView& images, char* patches, i64 ph, i64 pw, bool to_patches) {
  const i64 gh = images.h / ph;
  parallel_for(images.n * gh,
               [&](i64 t) { copy_grid_row(images, patches, ph, pw, t / gh, t % gh, to_patches); });
}

}  // namespace

void patchify(const ConstTensorView& images, void* patches, i64 ph, i64 pw) {
  check("patchify", images, ph, pw);
  const TensorView v{
      const_cast<void*>(images.data), images.dtype, images.n, images.c, images.h, images.w};
  run(v, static_cast<char*>(patches), ph, pw, true);
}

void unpatchify(const void* patches, const TensorView& images, i64 ph, i64 pw) {
  check("unpatchify",
        ConstTensorView{images.data, images.dtype, images.n, images.c, images.h, images.w}, ph, pw);
  run(images, static_cast<char*>(const_cast<void*>(patches)), ph, pw, false);
}

}  // namespace foveal
