// The CPU thread pool. parallel_for runs task(i) for i in [0, n) on up to get_num_threads()
// threads, the calling thread among them, and returns when all are done; the first exception a
// task throws is rethrown in the caller (the other tasks still run). Calls from several threads
// at once are safe, and so are nested calls (the caller always works on its own tasks, so
// progress never waits on an idle worker). Every foveal function that runs in parallel runs
// here, so the thread counts below govern them all, as cv2.setNumThreads and
// torch.set_num_threads do for those libraries (foveal.set_num_threads / foveal.num_threads in
// Python).
//
// Workers are started on first need (as many as the largest thread count asked for so far),
// wait on a condition variable when idle and live until the process exits; a forked child
// starts a fresh pool.
#pragma once

#include <cstdint>
#include <functional>

namespace foveal {

// The number of cores this process may run on (its affinity mask), at least 1.
int default_num_threads();

// The default thread count for every call, from every thread (n >= 1, else ValueError).
// Thread-safe (an atomic); calls already running keep their count.
void set_num_threads(int n);

// The thread count for calls made from the calling thread only; 0 goes back to the default.
// ValueError for n < 0 (its message reads "num_threads: n must be >= 1", for Python's
// foveal.num_threads).
void set_local_num_threads(int n);

// What the next call from this thread will use: the local count, else the default set, else
// default_num_threads().
int get_num_threads();

// n <= 0 returns at once; one thread (or n == 1) runs the tasks in order on the caller.
void parallel_for(std::int64_t n, const std::function<void(std::int64_t)>& task);

// The same with a plain function pointer: kernels compiled for a particular instruction set
// call this one, so that no inline library code built with their flags can be shared with
// (and picked by the linker for) code that must run on any CPU.
void parallel_for_raw(std::int64_t n, void (*task)(void* context, std::int64_t i), void* context);

}  // namespace foveal
