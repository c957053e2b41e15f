// Errors from the network layer, classified so retries can tell a passing
// fault (connection reset, timeout, 5xx, 429) from a final one.
#pragma once

#include <string>

#include "util/error.h"

namespace ferry::net {

// A transport-level failure (no HTTP response): DNS, connect, TLS, reset,
// timeout. Always retryable except for TLS verification failures.
class NetworkError : public Error {
 public:
  NetworkError(const std::string& msg, bool retryable) : Error(msg), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// The registry's token server answered 401 to the credentials given: they
// are wrong (login reports "invalid username/password" rather than failing).
class TokenRefusedError : public Error {
 public:
  using Error::Error;
};

}  // namespace ferry::net
