// Types shared by the launcher headers of cuda/ (plain C++, no CUDA).
#pragma once

namespace foveal {
namespace gpu {

// The floating-point element types of foveal.nn's tensors on the GPU.
enum class Real { f32, f64 };

}  // namespace gpu
}  // namespace foveal
