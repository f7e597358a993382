// The kernel table of the active instruction set, for the drivers (files built once, for any
// CPU) that call kernels compiled once per instruction set (see simd.hpp).
//
// A family lists its kernels in a struct, writes `make(isa)` to fill it from namespace
// foveal::isa, declares the kernels of every instruction set this build carries with
// FOVEAL_FOR_EACH_ISA, and defines its kernels() accessor with FOVEAL_KERNEL_TABLE.
#pragma once

#include "foveal/cpu_features.hpp"

#ifdef FOVEAL_HAVE_AVX2
#define FOVEAL_IF_AVX2(...) __VA_ARGS__
#define FOVEAL_AVX2_OR_NULL(table) (&(table))
#else
#define FOVEAL_IF_AVX2(...)
#define FOVEAL_AVX2_OR_NULL(table) nullptr
#endif
#ifdef FOVEAL_HAVE_AVX512
#define FOVEAL_IF_AVX512(...) __VA_ARGS__
#define FOVEAL_AVX512_OR_NULL(table) (&(table))
#else
#define FOVEAL_IF_AVX512(...)
#define FOVEAL_AVX512_OR_NULL(table) nullptr
#endif

// declare(isa) for every instruction set this build carries kernels for.
#define FOVEAL_FOR_EACH_ISA(declare) \
  declare(baseline) FOVEAL_IF_AVX2(declare(avx2)) FOVEAL_IF_AVX512(declare(avx512))

namespace foveal {
namespace detail {

// The table of the active instruction set (null entries: not built; never active).
template <typename Table>
const Table& active_table(const Table& baseline, const Table* avx2, const Table* avx512) {
  switch (active_isa()) {
    case Isa::AVX512:
      if (avx512) return *avx512;
      [[fallthrough]];
    case Isa::AVX2:
      if (avx2) return *avx2;
      [[fallthrough]];
    default:
      return baseline;
  }
}

}  // namespace detail
}  // namespace foveal

// Defines `const Type& kernels()`, the table of the active instruction set, each table filled
// once by make(isa).
#define FOVEAL_KERNEL_TABLE(Type, make)                                                    \
  const Type& kernels() {                                                                  \
    static const Type table_baseline = make(baseline);                                     \
    FOVEAL_IF_AVX2(static const Type table_avx2 = make(avx2);)                             \
    FOVEAL_IF_AVX512(static const Type table_avx512 = make(avx512);)                       \
    return ::foveal::detail::active_table(table_baseline, FOVEAL_AVX2_OR_NULL(table_avx2), \
                                          FOVEAL_AVX512_OR_NULL(table_avx512));            \
  }
