#include "sw/train/parallel.hpp"

#include <cblas.h>
#include <xmmintrin.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace eg::train {
namespace {

// Flush-to-zero and denormals-are-zero: in deep feedback-alignment backward passes error
// gradients can shrink into the float denormal range, where each multiply costs ~100 cycles.
// Values below 1.2e-38 are numerically irrelevant here; the flags are set identically in every
// thread, so results stay deterministic.
void enable_flush_to_zero() {
  _mm_setcsr(_mm_getcsr() | 0x8040);
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    enable_flush_to_zero();
    for (int t = 1; t < threads_; ++t)
      workers_.emplace_back([this, t] {
        enable_flush_to_zero();
        loop(t);
      });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return threads_; }

  void run(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
    const int64_t parts =
        std::min<int64_t>(threads_, std::max<int64_t>(1, n / std::max<int64_t>(1, grain)));
    if (parts <= 1) {
      if (n > 0) fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      n_ = n;
      parts_ = parts;
      pending_ = static_cast<int>(parts - 1);
      ++generation_;
    }
    wake_.notify_all();
    run_part(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void run_part(int64_t part) {
    const int64_t begin = n_ * part / parts_;
    const int64_t end = n_ * (part + 1) / parts_;
    if (begin < end) (*job_)(begin, end);
  }
  void loop(int t) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (t >= parts_) continue;
      lock.unlock();
      run_part(t);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0, parts_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> p = std::make_unique<Pool>(1);
  return p;
}

}  // namespace

void set_thread_count(int threads) {
  threads = std::max(1, threads);
  if (pool()->threads() != threads) pool() = std::make_unique<Pool>(threads);
  // OpenBLAS stays single-threaded: gemm.cpp splits GEMMs across this pool instead.
  openblas_set_num_threads(1);
}

int thread_count() {
  return pool()->threads();
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  pool()->run(n, fn, grain);
}

}  // namespace eg::train
