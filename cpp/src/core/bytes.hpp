// Eight bytes at once, for scans that skip runs of uninteresting bytes a word at a time.
#pragma once

#include <cstdint>
#include <cstring>

namespace foveal {
namespace detail {

// The 8 bytes at p as one word (unaligned): byte i is bits 8i..8i+7 on little-endian machines.
inline std::uint64_t load8(const std::uint8_t* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace detail
}  // namespace foveal
