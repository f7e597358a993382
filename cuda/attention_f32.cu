// The fused attention kernels for float32 (3xTF32) input (attention_kernel.cuh), every head tile,
// with and without an additive mask: one file per dtype so that the instantiations build in
// parallel.
#include "attention_kernel.cuh"

FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::f32, 64)
FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::f32, 128)
FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::f32, 256)
