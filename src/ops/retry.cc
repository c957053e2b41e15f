#include "ops/retry.h"

#include <random>
#include <thread>

#include "net/net_error.h"
#include "util/error.h"
#include "util/interrupt.h"

namespace ferry {

namespace {

// 2^30 s is already decades; a larger exponent would overflow.
constexpr int64_t kMaxBackoffExponent = 30;

int64_t default_random_below(int64_t n) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, n - 1)(gen);
}

}  // namespace

bool registry_failure_retryable(const net::RegistryHttpFailure& f) {
  using Kind = net::RegistryHttpFailure::Kind;
  switch (f.kind) {
    case Kind::Errcode: {
      // c/image reports only the first error of a list, and decides on it.
      const std::string code = f.code();
      return code != "UNAUTHORIZED" && code != "DENIED" && code != "NAME_UNKNOWN" && code != "MANIFEST_UNKNOWN";
    }
    case Kind::UnexpectedStatus:
      // Proxies in front of registries answer these while the registry
      // restarts or is overloaded (c/common #2299).
      return f.status >= 502 && f.status <= 504;
    case Kind::UnexpectedResponse:
      return false;
  }
  return false;
}

bool is_retryable(const std::exception& e) {
  if (const auto* ne = dynamic_cast<const net::NetworkError*>(&e)) return ne->retryable();
  if (dynamic_cast<const NotFoundError*>(&e)) return false;
  if (const auto* re = dynamic_cast<const net::RegistryError*>(&e)) return registry_failure_retryable(re->failure());
  // A wrapper adding context decides nothing itself; its cause does.
  if (const auto* nested = dynamic_cast<const std::nested_exception*>(&e)) return is_retryable(nested->nested_ptr());
  return false;
}

bool is_retryable(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& inner) {
    return is_retryable(inner);
  } catch (...) {
    return false;
  }
}

RetryPolicy make_retry_policy(int64_t retry_times, std::chrono::nanoseconds retry_delay,
                              std::function<void(const std::string&)> warn,
                              std::function<void(const std::string&)> debug,
                              std::function<std::string(std::chrono::nanoseconds)> format_duration) {
  RetryPolicy p;
  p.max_retries = retry_times;
  p.fixed_delay = retry_delay;
  p.warn = std::move(warn);
  p.debug = std::move(debug);
  p.format_duration = std::move(format_duration);
  return p;
}

std::chrono::nanoseconds retry_delay(const RetryPolicy& policy, int64_t attempt) {
  if (policy.fixed_delay.count() != 0) return policy.fixed_delay;
  const int64_t exponent = attempt < 0 ? 0 : attempt > kMaxBackoffExponent ? kMaxBackoffExponent : attempt;
  return std::chrono::seconds(int64_t{1} << exponent);
}

void run_with_retries(const RetryPolicy& policy, const std::function<void()>& operation) {
  for (int64_t attempt = 0;; ++attempt) {
    try {
      operation();
      return;
    } catch (const std::exception& e) {
      if (attempt >= policy.max_retries || interrupt::requested() || !is_retryable(e)) throw;
      std::chrono::nanoseconds delay = retry_delay(policy, attempt);
      auto text = [&](std::chrono::nanoseconds d) {
        return policy.format_duration ? policy.format_duration(d) : std::to_string(d.count()) + "ns";
      };
      if (policy.warn)
        policy.warn("Failed, retrying in " + text(delay) + " ... (" + std::to_string(attempt + 1) + "/" +
                    std::to_string(policy.max_retries) + "). Error: " + e.what());
      // Up to 10 % more, so clients failing together do not all come back
      // at the same instant.
      const int64_t spread = delay.count() / 10;
      if (spread > 0) {
        const int64_t extra = policy.random_below ? policy.random_below(spread) : default_random_below(spread);
        if (extra > 0 && extra < spread) delay += std::chrono::nanoseconds(extra);
      }
      if (policy.debug) policy.debug("Retry delay with added jitter: " + text(delay));
      if (delay.count() > 0) {
        if (policy.sleep) policy.sleep(delay);
        else interrupt::sleep_for(delay);
      }
    }
  }
}

}  // namespace ferry
