// Memory for the large arrays that foveal's functions return, kept for reuse when they are
// freed: a fresh 33 MB output costs the kernel several milliseconds of page faults and page
// zeroing (more than some kernels take to fill it), and glibc hands large blocks back to the
// kernel as soon as they are freed. Reusing the blocks of arrays that a loop drops makes a
// repeated call as fast as one given `out=`.
//
// A returned array's base is a capsule that owns one block; the block comes back here when
// the last array or view on it dies. Blocks are 2 MiB multiples, 2 MiB aligned and advised as
// huge pages; at most `limit` bytes of free blocks are kept (the least recently freed go first).
// Every entry point runs with the GIL held; the mutex keeps that from being a requirement.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(_WIN32)
#include <malloc.h>
#elif defined(__linux__)
#include <sys/mman.h>
#endif

#include "foveal/error.hpp"

namespace py = pybind11;

namespace {

constexpr std::size_t kGrain = std::size_t{2} << 20;  // one huge page

void* allocate_block(std::size_t bytes) {
#if defined(_WIN32)
  void* p = _aligned_malloc(bytes, kGrain);
#else
  void* p = nullptr;
  if (posix_memalign(&p, kGrain, bytes) != 0) p = nullptr;
#endif
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: a refusal changes nothing but speed
#endif
  return p;
}

void free_block(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

struct Block {
  void* data;
  std::size_t bytes;
};

class OutputPool {
 public:
  // Never destroyed: capsules may return blocks during interpreter shutdown.
  static OutputPool& instance() {
    static OutputPool* pool = new OutputPool();
    return *pool;
  }

  Block acquire(std::size_t bytes) {
    const std::size_t want = (bytes + kGrain - 1) / kGrain * kGrain;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // The smallest free block that fits without wasting more than a quarter of itself.
      std::size_t best = free_.size();
      for (std::size_t i = 0; i < free_.size(); ++i) {
        const std::size_t b = free_[i].bytes;
        if (b >= want && b - want <= b / 4 && (best == free_.size() || b < free_[best].bytes))
          best = i;
      }
      if (best < free_.size()) {
        const Block found = free_[best];
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
        cached_ -= found.bytes;
        ++hits_;
        return found;
      }
      ++misses_;
    }
    return Block{allocate_block(want), want};
  }

  void release(Block block) {
    std::vector<Block> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (block.bytes <= limit_) {
        free_.push_back(block);
        cached_ += block.bytes;
        trim(evicted);
      } else {
        evicted.push_back(block);
      }
    }
    for (const Block& b : evicted) free_block(b.data);
  }

  void set_limit(std::size_t limit) {
    std::vector<Block> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = limit;
      trim(evicted);
    }
    for (const Block& b : evicted) free_block(b.data);
  }

  bool enabled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_ > 0;
  }

  py::dict info() {
    std::lock_guard<std::mutex> lock(mutex_);
    py::dict d;
    d["limit"] = limit_;
    d["cached_bytes"] = cached_;
    d["cached_blocks"] = free_.size();
    d["hits"] = hits_;
    d["misses"] = misses_;
    return d;
  }

 private:
  // Frees the least recently released blocks until the cache is within its limit.
  void trim(std::vector<Block>& evicted) {
    std::size_t drop = 0;
    while (cached_ > limit_ && drop < free_.size()) cached_ -= free_[drop++].bytes;
    evicted.assign(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(drop));
    free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(drop));
  }

  std::mutex mutex_;
  std::vector<Block> free_;  // oldest first
  std::size_t limit_ = std::size_t{256} << 20;
  std::size_t cached_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

// An uninitialized C-contiguous array of `shape` and `dtype` on a pooled block; NumPy's own
// array while the cache is off (a pooled block would go back to the system at once, where
// NumPy's allocator may keep it in its heap).
py::array pooled_empty(const std::vector<py::ssize_t>& shape, const py::dtype& dtype) {
  if (!OutputPool::instance().enabled()) return py::array(dtype, shape);
  std::size_t bytes = static_cast<std::size_t>(dtype.itemsize());
  for (py::ssize_t d : shape) {
    if (d < 0) throw foveal::ValueError("pooled_empty: negative dimension");
    if (d != 0 && bytes > (std::size_t{1} << 62) / static_cast<std::size_t>(d))
      throw std::bad_alloc();
    bytes *= static_cast<std::size_t>(d);
  }
  auto* block = new Block(OutputPool::instance().acquire(bytes > 0 ? bytes : 1));
  py::capsule owner(block, [](void* p) {
    auto* b = static_cast<Block*>(p);
    OutputPool::instance().release(*b);
    delete b;
  });
  return py::array(dtype, shape, {}, block->data, owner);
}

}  // namespace

void bind_output_pool(py::module_& m) {
  m.def("pooled_empty", &pooled_empty, py::arg("shape"), py::arg("dtype"));
  m.def(
      "set_output_cache", [](std::size_t limit) { OutputPool::instance().set_limit(limit); },
      py::arg("limit"));
  m.def("output_cache_info", [] { return OutputPool::instance().info(); });
}
