// The fused attention kernels for bfloat16 input (attention_kernel.cuh), every head tile, with
// and without an additive mask: one file per dtype so that the instantiations build in
// parallel.
#include "attention_kernel.cuh"

FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::bf16, 64)
FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::bf16, 128)
FOVEAL_ATTENTION_INSTANTIATE(::foveal::gpu::AttentionDtype::bf16, 256)
