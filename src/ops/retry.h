// Retries: `--retry-times N` / `--retry-delay D` of copy, inspect, delete
// and list-tags (§5.9 of the reference, c/common's retry.IfNecessary).
// copy, delete and list-tags retry the whole operation; inspect, as
// skopeo's, each network step on its own. The operation (or step) is run
// again from scratch, up to N more times, while its error is one a second
// try may not meet again (a network fault, a registry answering 502-504 or
// a retryable error code); a local error (bad reference, policy, digest
// mismatch, files) fails at once.
//
// --command-timeout needs no special case: its expiry ends the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "net/registry_errors.h"

namespace ferry {

// c/common IsErrorRetryable over ferry's error types:
//   net::NetworkError   its own verdict (reset, refused, timeouts: yes;
//                       DNS "no such host", TLS verification: no)
//   net::RegistryError  errcode answers: unless the (first) code is
//                       UNAUTHORIZED, DENIED, NAME_UNKNOWN or MANIFEST_UNKNOWN;
//                       non-4xx answers: only 502, 503, 504
//   NotFoundError       never (the image does not exist)
//   anything else       the error it wraps (std::nested_exception, as
//                       std::throw_with_nested leaves it), else never.
bool is_retryable(const std::exception& e);
bool is_retryable(const std::exception_ptr& e);
bool registry_failure_retryable(const net::RegistryHttpFailure& f);

struct RetryPolicy {
  int64_t max_retries = 0;                  // --retry-times
  std::chrono::nanoseconds fixed_delay{0};  // --retry-delay; 0: 1 s, 2 s, 4 s, ...
  // The warning line `Failed, retrying in 1s ... (1/3). Error: ...`; the
  // CLI's logger (ops does not depend on cli).
  std::function<void(const std::string&)> warn;
  // The delay actually slept, jitter included (debug level).
  std::function<void(const std::string&)> debug;
  // Go's time.Duration.String() (cli::format_go_duration) for the message.
  std::function<std::string(std::chrono::nanoseconds)> format_duration;
  // Seams for tests: the sleep, and a uniform random value in [0, n).
  std::function<void(std::chrono::nanoseconds)> sleep;
  std::function<int64_t(int64_t)> random_below;
};

// The policy of --retry-times / --retry-delay, logging through the CLI's
// hooks.
RetryPolicy make_retry_policy(int64_t retry_times, std::chrono::nanoseconds retry_delay,
                              std::function<void(const std::string&)> warn,
                              std::function<void(const std::string&)> debug,
                              std::function<std::string(std::chrono::nanoseconds)> format_duration);

// The wait before retry number attempt + 1 (attempt counts from 0), without
// jitter: the fixed delay, else 2^attempt seconds.
std::chrono::nanoseconds retry_delay(const RetryPolicy& policy, int64_t attempt);

// Runs operation; while it throws a retryable error and retries are left,
// logs the warning, sleeps the delay plus up to 10 % jitter and runs it
// again. The last error is rethrown unchanged.
void run_with_retries(const RetryPolicy& policy, const std::function<void()>& operation);

}  // namespace ferry
