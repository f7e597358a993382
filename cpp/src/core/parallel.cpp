// The thread pool behind parallel_for.
//
// A call publishes a Job (n tasks, an atomic cursor) on a shared queue and then claims tasks
// itself until none are left; idle workers claim from the front job too, up to the call's
// thread count. Because the caller drains its own job, a call finishes even if no worker ever
// joins: nested calls cannot deadlock, concurrent callers only share workers, and after fork()
// (which keeps no workers) calls simply run on the caller.
#include "foveal/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "foveal/error.hpp"

namespace foveal {
namespace {

struct Job {
  const std::function<void(std::int64_t)>* task = nullptr;
  std::int64_t n = 0;
  int max_helpers = 0;  // workers allowed besides the caller
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> done{0};
  std::atomic<int> helpers{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;

  // Claims and runs tasks until none are left.
  void work() {
    std::int64_t i;
    while ((i = next.fetch_add(1, std::memory_order_relaxed)) < n) {
      try {
        (*task)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        std::lock_guard<std::mutex> lock(mutex);
        finished.notify_all();
      }
    }
  }
};

class Pool {
 public:
  // Makes sure at least `count` workers exist.
  void reserve(int count) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_) < count) {
      std::thread([this] { loop(); }).detach();
      ++workers_;
    }
  }

  void submit(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(job);
    }
    wake_.notify_all();
  }

 private:
  void loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
          while (!queue_.empty()) {
            auto& front = queue_.front();
            if (front->next.load(std::memory_order_relaxed) >= front->n ||
                front->helpers.load(std::memory_order_relaxed) >= front->max_helpers) {
              queue_.pop_front();  // exhausted, or has all the helpers it may use
              continue;
            }
            job = front;
            break;
          }
          if (job) break;
          wake_.wait(lock);
        }
        if (job->helpers.fetch_add(1) + 1 >= job->max_helpers) {
          // This was the last helper slot: take it off the queue.
          if (!queue_.empty() && queue_.front() == job) queue_.pop_front();
        }
      }
      job->work();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::size_t workers_ = 0;
};

// Never destroyed: detached workers may still wait on it while the process exits.
Pool* pool_instance = new Pool();

void reset_pool_after_fork() {
  pool_instance = new Pool();
}

std::atomic<int> global_threads{0};
thread_local int local_threads = 0;

int detect_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

struct ForkGuard {
  ForkGuard() { pthread_atfork(nullptr, nullptr, reset_pool_after_fork); }
} fork_guard;

}  // namespace

int default_num_threads() {
  static const int cores = detect_cores();
  return cores;
}

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: n must be >= 1, got " + std::to_string(n));
  global_threads.store(n);
}

void set_local_num_threads(int n) {
  if (n < 0) throw ValueError("num_threads: n must be >= 1, got " + std::to_string(n));
  local_threads = n;
}

int get_num_threads() {
  if (local_threads > 0) return local_threads;
  const int g = global_threads.load();
  return g > 0 ? g : default_num_threads();
}

void parallel_for(std::int64_t n, const std::function<void(std::int64_t)>& task) {
  if (n <= 0) return;
  const int threads = static_cast<int>(std::min<std::int64_t>(get_num_threads(), n));
  if (threads <= 1) {
    for (std::int64_t i = 0; i < n; ++i) task(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->task = &task;
  job->n = n;
  job->max_helpers = threads - 1;
  Pool* pool = pool_instance;
  pool->reserve(threads - 1);
  pool->submit(job);
  job->work();
  {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, [&] { return job->done.load() == n; });
  }
  if (job->error) std::rethrow_exception(job->error);
}

void parallel_for_raw(std::int64_t n, void (*task)(void*, std::int64_t), void* context) {
  parallel_for(n, [task, context](std::int64_t i) { task(context, i); });
}

}  // namespace foveal
