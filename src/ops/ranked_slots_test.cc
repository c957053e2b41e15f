#include "ops/ranked_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry {
namespace {

// Waits until `n` threads are blocked in acquire.
void settle(RankedSlots& slots, size_t n) {
  while (slots.waiting() < n) std::this_thread::yield();
}

TEST(RankedSlots, WaitersAreServedLowestRankFirst) {
  RankedSlots slots(1);
  slots.acquire(0);  // the only slot, held while the others line up
  std::mutex mu;
  std::vector<size_t> order;
  std::vector<std::thread> threads;
  for (size_t rank : {5u, 2u, 9u, 1u, 7u}) {
    threads.emplace_back([&, rank] {
      slots.acquire(rank);
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(rank);
      }
      slots.release();
    });
  }
  settle(slots, 5);
  slots.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<size_t>{1, 2, 5, 7, 9}));
}

TEST(RankedSlots, NeverMoreHoldersThanSlots) {
  RankedSlots slots(2);
  std::atomic<int> holders{0}, most{0};
  std::vector<std::thread> threads;
  for (size_t rank = 0; rank < 8; ++rank) {
    threads.emplace_back([&, rank] {
      for (int i = 0; i < 20; ++i) {
        RankedSlots::Hold hold(slots, rank, true);
        const int now = ++holders;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --holders;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 2);
}

TEST(RankedSlots, HoldTakesAndGivesBackOnlyWhenAsked) {
  RankedSlots slots(1);
  {
    RankedSlots::Hold none(slots, 0, false);
    EXPECT_EQ(slots.available(), 1u);
    RankedSlots::Hold one(slots, 0, true);
    EXPECT_EQ(slots.available(), 0u);
  }
  EXPECT_EQ(slots.available(), 1u);
  EXPECT_EQ(slots.waiting(), 0u);
}

}  // namespace
}  // namespace ferry
