#include "ops/retry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/duration.h"
#include "net/net_error.h"
#include "net/registry_errors.h"
#include "util/error.h"
#include "util/interrupt.h"

namespace ferry {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

net::RegistryError registry_error(long status, const std::string& body) {
  net::RegistryHttpFailure f = net::classify_registry_failure(status, body);
  return net::RegistryError("reading manifest x: " + f.text(), f);
}

std::string errcode_body(const std::string& code) {
  return R"({"errors":[{"code":")" + code + R"(","message":"m"}]})";
}

// A policy that records instead of logging and sleeping; jitter is always
// the largest value allowed (n - 1), so the sleeps are exact.
struct Recorder {
  std::vector<std::string> warnings, debugs;
  std::vector<nanoseconds> sleeps;
  std::vector<int64_t> jitter_bounds;

  RetryPolicy policy(int64_t times, nanoseconds fixed = nanoseconds(0)) {
    RetryPolicy p;
    p.max_retries = times;
    p.fixed_delay = fixed;
    p.warn = [this](const std::string& m) { warnings.push_back(m); };
    p.debug = [this](const std::string& m) { debugs.push_back(m); };
    p.format_duration = cli::format_go_duration;
    p.sleep = [this](nanoseconds d) { sleeps.push_back(d); };
    p.random_below = [this](int64_t n) {
      jitter_bounds.push_back(n);
      return n - 1;
    };
    return p;
  }
};

TEST(RetryTest, SuccessRunsOnce) {
  Recorder r;
  int calls = 0;
  run_with_retries(r.policy(3), [&] { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(r.sleeps.empty());
}

TEST(RetryTest, ExponentialBackoffThenSuccess) {
  Recorder r;
  int calls = 0;
  run_with_retries(r.policy(3), [&] {
    if (++calls < 3) throw net::NetworkError("dial tcp 127.0.0.1:5000: connect: connection refused", true);
  });
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0],
            "Failed, retrying in 1s ... (1/3). Error: dial tcp 127.0.0.1:5000: connect: connection refused");
  EXPECT_EQ(r.warnings[1],
            "Failed, retrying in 2s ... (2/3). Error: dial tcp 127.0.0.1:5000: connect: connection refused");
  EXPECT_EQ(r.jitter_bounds, (std::vector<int64_t>{100'000'000, 200'000'000}));
  EXPECT_EQ(r.sleeps, (std::vector<nanoseconds>{nanoseconds(1'099'999'999), nanoseconds(2'199'999'999)}));
  EXPECT_EQ(r.debugs, (std::vector<std::string>{"Retry delay with added jitter: 1.099999999s",
                                                "Retry delay with added jitter: 2.199999999s"}));
}

TEST(RetryTest, GivesUpAfterMaxRetriesWithTheLastError) {
  Recorder r;
  int calls = 0;
  try {
    run_with_retries(r.policy(2), [&] {
      ++calls;
      throw net::NetworkError("attempt " + std::to_string(calls), true);
    });
    FAIL() << "no exception";
  } catch (const net::NetworkError& e) {
    EXPECT_STREQ(e.what(), "attempt 3");
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(r.warnings, (std::vector<std::string>{"Failed, retrying in 1s ... (1/2). Error: attempt 1",
                                                  "Failed, retrying in 2s ... (2/2). Error: attempt 2"}));
}

TEST(RetryTest, FixedDelay) {
  Recorder r;
  int calls = 0;
  run_with_retries(r.policy(5, milliseconds(1500)), [&] {
    if (++calls < 4) throw registry_error(503, "");
  });
  EXPECT_EQ(calls, 4);
  ASSERT_EQ(r.warnings.size(), 3u);
  EXPECT_EQ(r.warnings[2],
            "Failed, retrying in 1.5s ... (3/5). Error: reading manifest x: received unexpected HTTP status: 503 "
            "Service Unavailable");
  EXPECT_EQ(r.sleeps, std::vector<nanoseconds>(3, nanoseconds(1'649'999'999)));
}

TEST(RetryTest, ZeroRetriesNeverRetries) {
  Recorder r;
  int calls = 0;
  EXPECT_THROW(run_with_retries(r.policy(0), [&] {
                 ++calls;
                 throw net::NetworkError("reset", true);
               }),
               net::NetworkError);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(RetryTest, NonRetryableErrorsFailAtOnce) {
  std::vector<std::function<void()>> throwers = {
      [] { throw Error("Invalid source name x: invalid reference format"); },
      [] { throw Error("Source image rejected: Running image docker://x is rejected by policy."); },
      [] { throw Error("Digest did not match, expected sha256:aa, got sha256:bb"); },
      [] { throw NotFoundError("reading manifest x in h/r: manifest unknown"); },
      [] { throw net::NetworkError("dial tcp: lookup nowhere.invalid: no such host", false); },
      [] { throw registry_error(404, errcode_body("MANIFEST_UNKNOWN")); },
      [] { throw registry_error(404, errcode_body("NAME_UNKNOWN")); },
      [] { throw registry_error(403, errcode_body("DENIED")); },
      [] { throw registry_error(401, errcode_body("UNAUTHORIZED")); },
      [] { throw registry_error(401, "not json"); },
      [] { throw registry_error(400, "<html>bad</html>"); },
      [] { throw registry_error(500, ""); },
      [] { throw std::runtime_error("internal"); },
  };
  for (size_t i = 0; i < throwers.size(); ++i) {
    Recorder r;
    int calls = 0;
    EXPECT_ANY_THROW(run_with_retries(r.policy(3), [&] {
      ++calls;
      throwers[i]();
    }));
    EXPECT_EQ(calls, 1) << "thrower " << i;
    EXPECT_TRUE(r.warnings.empty()) << "thrower " << i;
  }
}

TEST(RetryTest, AStopIsNeverRetried) {
  // Ctrl-C while a retryable failure is in hand: no more attempts.
  Recorder r;
  int calls = 0;
  interrupt::reset_for_test();
  struct ResetAfter {
    ~ResetAfter() { interrupt::reset_for_test(); }
  } reset_after;  // the flag is process-wide: later tests must not see it
  interrupt::request_deadline();
  EXPECT_THROW(run_with_retries(r.policy(3), [&] {
                 ++calls;
                 throw net::NetworkError("read tcp 127.0.0.1:1: connection reset by peer", true);
               }),
               net::NetworkError);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(r.sleeps.empty());
}

TEST(RetryTest, Classification) {
  EXPECT_TRUE(is_retryable(net::NetworkError("read tcp: connection reset by peer", true)));
  EXPECT_FALSE(is_retryable(net::NetworkError("tls: failed to verify certificate", false)));
  EXPECT_TRUE(is_retryable(registry_error(502, "")));
  EXPECT_TRUE(is_retryable(registry_error(503, "")));
  EXPECT_TRUE(is_retryable(registry_error(504, "")));
  EXPECT_FALSE(is_retryable(registry_error(501, "")));
  EXPECT_FALSE(is_retryable(registry_error(505, "")));
  EXPECT_TRUE(is_retryable(registry_error(429, errcode_body("TOOMANYREQUESTS"))));
  EXPECT_TRUE(is_retryable(registry_error(400, errcode_body("BLOB_UPLOAD_INVALID"))));
  EXPECT_TRUE(is_retryable(registry_error(404, errcode_body("BLOB_UNKNOWN"))));
  EXPECT_TRUE(is_retryable(registry_error(400, errcode_body("SOMETHING_NEW"))));  // UNKNOWN
  EXPECT_FALSE(is_retryable(registry_error(404, errcode_body("MANIFEST_UNKNOWN"))));
  // Only the first error of a list counts, as c/image reports only it.
  EXPECT_TRUE(is_retryable(registry_error(
      400, R"({"errors":[{"code":"UNKNOWN","message":"m"},{"code":"DENIED","message":"m"}]})")));
  EXPECT_FALSE(is_retryable(registry_error(
      400, R"({"errors":[{"code":"DENIED","message":"m"},{"code":"UNKNOWN","message":"m"}]})")));
  // A Bearer insufficient_scope challenge is a DENIED.
  net::RegistryHttpFailure scope = net::classify_registry_failure(401, errcode_body("UNKNOWN"), "insufficient_scope");
  EXPECT_FALSE(registry_failure_retryable(scope));
  EXPECT_FALSE(is_retryable(std::exception_ptr()));
}

// Context added with std::throw_with_nested keeps the cause's verdict.
TEST(RetryTest, WrappedErrorsAreJudgedByTheirCause) {
  auto wrapped = [](std::function<void()> inner) -> std::exception_ptr {
    try {
      try {
        inner();
      } catch (const Error& e) {
        std::throw_with_nested(Error(std::string("initializing source docker://h/r:t: ") + e.what(), e.exit_code()));
      }
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  };
  EXPECT_TRUE(is_retryable(wrapped([] { throw net::NetworkError("connection refused", true); })));
  EXPECT_FALSE(is_retryable(wrapped([] { throw NotFoundError("manifest unknown"); })));
  EXPECT_FALSE(is_retryable(wrapped([] { throw Error("open /x: no such file or directory"); })));
  EXPECT_FALSE(is_retryable(wrapped([] { throw net::NetworkError("no such host", false); })));

  Recorder r;
  int calls = 0;
  run_with_retries(r.policy(1), [&] {
    if (++calls == 1) std::rethrow_exception(wrapped([] { throw net::NetworkError("connection refused", true); }));
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.warnings, (std::vector<std::string>{
                            "Failed, retrying in 1s ... (1/1). Error: initializing source docker://h/r:t: "
                            "connection refused"}));
}

TEST(RetryTest, DelaySchedule) {
  RetryPolicy p;
  EXPECT_EQ(retry_delay(p, 0), seconds(1));
  EXPECT_EQ(retry_delay(p, 1), seconds(2));
  EXPECT_EQ(retry_delay(p, 4), seconds(16));
  EXPECT_EQ(retry_delay(p, 1000), seconds(int64_t{1} << 30));  // no overflow
  p.fixed_delay = milliseconds(250);
  EXPECT_EQ(retry_delay(p, 0), milliseconds(250));
  EXPECT_EQ(retry_delay(p, 7), milliseconds(250));
}

TEST(RetryTest, DefaultJitterStaysWithinTenPercent) {
  RetryPolicy p;
  p.max_retries = 20;
  p.fixed_delay = seconds(10);
  std::vector<nanoseconds> sleeps;
  p.sleep = [&](nanoseconds d) { sleeps.push_back(d); };
  int calls = 0;
  run_with_retries(p, [&] {
    if (++calls <= 20) throw net::NetworkError("reset", true);
  });
  ASSERT_EQ(sleeps.size(), 20u);
  for (nanoseconds d : sleeps) {
    EXPECT_GE(d, seconds(10));
    EXPECT_LT(d, seconds(11));
  }
}

TEST(RetryTest, TinyFixedDelayHasNoJitter) {
  Recorder r;
  int calls = 0;
  run_with_retries(r.policy(1, nanoseconds(5)), [&] {
    if (++calls == 1) throw net::NetworkError("reset", true);
  });
  EXPECT_TRUE(r.jitter_bounds.empty());
  EXPECT_EQ(r.sleeps, std::vector<nanoseconds>{nanoseconds(5)});
  EXPECT_EQ(r.warnings, std::vector<std::string>{"Failed, retrying in 5ns ... (1/1). Error: reset"});
}

}  // namespace
}  // namespace ferry
