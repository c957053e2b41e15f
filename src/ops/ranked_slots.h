// A counting semaphore whose waiters are served by rank, lowest first: the
// copy engine's compressor slots, handed to the biggest waiting layer
// (std::counting_semaphore serves waiters in no particular order, which let
// small layers start compressing before big ones and left a big one last
// and alone on one core).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>

namespace ferry {

class RankedSlots {
 public:
  explicit RankedSlots(unsigned n) : free_(n) {}
  RankedSlots(const RankedSlots&) = delete;
  RankedSlots& operator=(const RankedSlots&) = delete;

  // Waits for a slot; among waiters, the lowest rank gets the next one.
  void acquire(size_t rank) {
    std::unique_lock<std::mutex> lock(mu_);
    auto me = waiting_.insert(rank);
    cv_.wait(lock, [&] { return free_ > 0 && waiting_.begin() == me; });
    waiting_.erase(me);
    --free_;
    cv_.notify_all();  // the next in line may find a slot too
  }

  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_all();
  }

  // For tests and diagnostics: free slots, and threads waiting for one.
  unsigned available() {
    std::lock_guard<std::mutex> lock(mu_);
    return free_;
  }
  size_t waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_.size();
  }

  // Holds a slot for a scope, if take.
  class Hold {
   public:
    Hold(RankedSlots& slots, size_t rank, bool take) : slots_(take ? &slots : nullptr) {
      if (slots_) slots_->acquire(rank);
    }
    ~Hold() {
      if (slots_) slots_->release();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    RankedSlots* slots_;
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned free_;
  std::multiset<size_t> waiting_;  // ranks; equal ranks in arrival order
};

}  // namespace ferry
