// The SIMT emulator's scheduler (see emu.hpp): the threads of a block run as coroutines on the
// calling thread, round robin, each until it finishes or reaches a barrier; a barrier opens
// when every thread it waits for has reached it. No thread can move and none has finished:
// the kernel would hang on a GPU, and the launch throws instead.
#include "emu.hpp"

#include <ucontext.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace foveal {
namespace simt_emu {

thread_local Indices indices;

namespace {

constexpr std::size_t kStackBytes = 256 * 1024;
constexpr std::size_t kSlotBytes = 64;  // the largest value a shuffle or gather moves

enum class State { Runnable, AtBlockBarrier, AtWarpBarrier, Done };

struct Thread {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  State state = State::Runnable;
  unsigned warp_mask = 0;  // the lanes this thread's warp barrier waits for
  uint3 index{0, 0, 0};
};

struct Warp {
  unsigned char slots[32][kSlotBytes];
  bool votes[32];
};

struct Block {
  std::vector<Thread> threads;
  std::vector<Warp> warps;
  ucontext_t scheduler;
  std::size_t current = 0;
  const Body* body = nullptr;
  std::exception_ptr error;
  std::vector<unsigned char> dynamic_shared;
};

thread_local Block* active = nullptr;

Thread& me() { return active->threads[active->current]; }

void yield_to_scheduler() {
  Thread& t = me();
  swapcontext(&t.context, &active->scheduler);
}

void entry() {
  Block* b = active;
  try {
    (*b->body)();
  } catch (...) {
    if (!b->error) b->error = std::current_exception();
  }
  b->threads[b->current].state = State::Done;
  // returning resumes uc_link: the scheduler
}

unsigned lane_of(std::size_t linear) { return static_cast<unsigned>(linear % 32); }

// Opens the barriers whose threads have all arrived; true if any opened.
bool open_barriers(Block& b) {
  bool opened = false;
  bool all_at_block = true, any_at_block = false, any_done = false;
  for (const Thread& t : b.threads) {
    any_done = any_done || t.state == State::Done;
    if (t.state == State::AtBlockBarrier) {
      any_at_block = true;
    } else if (t.state != State::Done) {
      all_at_block = false;
    }
  }
  // __syncthreads must be reached by every thread of the block: one that has returned never
  // will (undefined behaviour on a GPU, so an error here).
  if (any_at_block && any_done)
    throw std::runtime_error("simt emulator: __syncthreads after some threads of the block returned");
  if (any_at_block && all_at_block) {
    for (Thread& t : b.threads)
      if (t.state == State::AtBlockBarrier) t.state = State::Runnable;
    opened = true;
  }
  for (std::size_t w = 0; w < b.warps.size(); ++w) {
    // Lanes wait in groups, each on its own mask (divergent halves of a warp may shuffle
    // separately); a group goes on once every lane of its mask waits with that mask.
    const std::size_t first = w * 32;
    const std::size_t last = std::min(b.threads.size(), first + 32);
    unsigned released = 0;
    for (std::size_t i = first; i < last; ++i) {
      const Thread& t = b.threads[i];
      if (t.state != State::AtWarpBarrier || (released >> lane_of(i) & 1u)) continue;
      const unsigned mask = t.warp_mask;
      unsigned waiting = 0;
      for (std::size_t j = first; j < last; ++j)
        if (b.threads[j].state == State::AtWarpBarrier && b.threads[j].warp_mask == mask)
          waiting |= 1u << lane_of(j);
      if ((waiting & mask) != mask) continue;
      for (std::size_t j = first; j < last; ++j)
        if (mask >> lane_of(j) & 1u) b.threads[j].state = State::Runnable;
      released |= mask;
      opened = true;
    }
  }
  return opened;
}

void run_block(Block& b) {
  for (std::size_t i = 0; i < b.threads.size(); ++i) {
    Thread& t = b.threads[i];
    t.state = State::Runnable;
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = t.stack.get();
    t.context.uc_stack.ss_size = kStackBytes;
    t.context.uc_link = &b.scheduler;
    makecontext(&t.context, entry, 0);
  }
  std::size_t done = 0;
  while (done < b.threads.size()) {
    bool moved = false;
    for (std::size_t i = 0; i < b.threads.size(); ++i) {
      Thread& t = b.threads[i];
      if (t.state != State::Runnable) continue;
      b.current = i;
      indices.thread = t.index;
      swapcontext(&b.scheduler, &t.context);
      moved = true;
      if (t.state == State::Done) ++done;
      if (b.error) std::rethrow_exception(b.error);
    }
    if (done == b.threads.size()) break;
    if (!open_barriers(b) && !moved)
      throw std::runtime_error(
          "simt emulator: deadlock (a barrier that some thread never reaches, or a warp "
          "operation whose mask names a lane that has exited)");
  }
}

}  // namespace

void sync_block() {
  me().state = State::AtBlockBarrier;
  yield_to_scheduler();
}

void sync_warp(unsigned mask) {
  Thread& t = me();
  if ((mask & (1u << lane_of(active->current))) == 0)
    throw std::runtime_error("simt emulator: __syncwarp's mask leaves out the calling lane");
  t.warp_mask = mask;
  t.state = State::AtWarpBarrier;
  yield_to_scheduler();
}

unsigned warp_exchange(unsigned mask, const void* value, void* out, int source, std::size_t bytes,
                       bool predicate) {
  if (bytes > kSlotBytes) throw std::runtime_error("simt emulator: shuffled value too large");
  const std::size_t linear = active->current;
  Warp& w = active->warps[linear / 32];
  const unsigned lane = lane_of(linear);
  std::memcpy(w.slots[lane], value, bytes);
  w.votes[lane] = predicate;
  sync_warp(mask);  // every lane has published
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && w.votes[l]) ballot |= 1u << l;
  const unsigned src = static_cast<unsigned>(source) & 31u;
  std::memcpy(out, (mask >> src & 1u) ? w.slots[src] : w.slots[lane], bytes);
  sync_warp(mask);  // every lane has read before any lane publishes again
  return ballot;
}

void warp_gather(unsigned mask, const void* value, void* all, std::size_t bytes) {
  if (bytes > kSlotBytes) throw std::runtime_error("simt emulator: gathered value too large");
  const std::size_t linear = active->current;
  Warp& w = active->warps[linear / 32];
  std::memcpy(w.slots[lane_of(linear)], value, bytes);
  sync_warp(mask);
  for (unsigned l = 0; l < 32; ++l)
    if (mask >> l & 1u) std::memcpy(static_cast<char*>(all) + l * bytes, w.slots[l], bytes);
  sync_warp(mask);
}

unsigned lane_id() { return lane_of(active->current); }

void* dynamic_shared() { return active->dynamic_shared.data(); }

void run(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, const Body& body) {
  const std::size_t n = std::size_t{block.x} * block.y * block.z;
  if (n == 0 || n > 1024) throw std::runtime_error("simt emulator: bad block size");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  Block b;
  b.threads.resize(n);
  b.warps.resize((n + 31) / 32);
  b.body = &body;
  b.dynamic_shared.assign(dynamic_shared_bytes + 16, 0xcd);  // poisoned, as device memory is
  for (std::size_t i = 0; i < n; ++i) {
    b.threads[i].stack.reset(new char[kStackBytes]);
    b.threads[i].index = uint3{static_cast<unsigned>(i % block.x),
                               static_cast<unsigned>(i / block.x % block.y),
                               static_cast<unsigned>(i / (std::size_t{block.x} * block.y))};
  }
  Block* outer = active;
  const Indices saved = indices;
  active = &b;
  indices.block_dim = block;
  indices.grid_dim = grid;
  try {
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
          indices.block = uint3{x, y, z};
          run_block(b);
        }
  } catch (...) {
    active = outer;
    indices = saved;
    throw;
  }
  active = outer;
  indices = saved;
}

}  // namespace simt_emu
}  // namespace foveal
