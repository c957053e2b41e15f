#include "util/interrupt.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

namespace ferry::interrupt {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class InterruptTest : public ::testing::Test {
 protected:
  void SetUp() override { reset_for_test(); }
  void TearDown() override { reset_for_test(); }
};

TEST_F(InterruptTest, NothingRequestedAtFirst) {
  EXPECT_FALSE(requested());
  EXPECT_EQ(signal_number(), 0);
  EXPECT_FALSE(deadline_passed());
  EXPECT_NO_THROW(check());
}

TEST_F(InterruptTest, TheFirstSignalIsCaughtAndTheSecondKills) {
  catch_signals();
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(requested());
  EXPECT_EQ(signal_number(), SIGTERM);
  EXPECT_FALSE(deadline_passed());
  try {
    check();
    ADD_FAILURE() << "no Interrupted";
  } catch (const Interrupted& e) {
    EXPECT_STREQ(e.what(), "interrupted");
    EXPECT_EQ(e.exit_code(), 1);
  }
  // One-shot: the handler is gone, the default action is back.
  struct sigaction now {};
  ::sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  // A later, different signal does not replace the first one's number.
  ASSERT_EQ(::raise(SIGHUP), 0);
  EXPECT_EQ(signal_number(), SIGTERM);
}

TEST_F(InterruptTest, AnIgnoredSignalStaysIgnored) {
  // A shell starts background jobs with SIGINT ignored; Ctrl-C is not for them.
  ::signal(SIGINT, SIG_IGN);
  catch_signals();
  ASSERT_EQ(::raise(SIGINT), 0);
  EXPECT_FALSE(requested());
  struct sigaction now {};
  ::sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
}

TEST_F(InterruptTest, TheDeadlineStopsWithItsOwnMessage) {
  request_deadline();
  EXPECT_TRUE(requested());
  EXPECT_TRUE(deadline_passed());
  EXPECT_EQ(signal_number(), 0);
  try {
    check();
    ADD_FAILURE() << "no Interrupted";
  } catch (const Interrupted& e) {
    EXPECT_STREQ(e.what(), "context deadline exceeded");
  }
}

TEST_F(InterruptTest, SleepEndsEarlyOnAStop) {
  const auto t0 = steady_clock::now();
  EXPECT_NO_THROW(sleep_for(milliseconds(20)));
  EXPECT_GE(steady_clock::now() - t0, milliseconds(20));

  std::thread stopper([] {
    std::this_thread::sleep_for(milliseconds(100));
    request_deadline();
  });
  // Without the stop this sleeps an hour, and the test times out.
  EXPECT_THROW(sleep_for(std::chrono::hours(1)), Interrupted);
  stopper.join();
}

TEST_F(InterruptTest, DiesByTheSignalThatAsked) {
  EXPECT_EXIT(
      {
        catch_signals();
        ::raise(SIGINT);
        die_by_signal();
      },
      ::testing::KilledBySignal(SIGINT), "");
}

}  // namespace
}  // namespace ferry::interrupt
