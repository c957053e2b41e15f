// The one exception type that reaches the user. Every failure a user can see
// is a ferry::Error whose message names what failed and where; the CLI prints
// it skopeo-style and exits with exit_code (1, or 2 for "image not found" as
// skopeo >= 1.16 does).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, int exit_code = 1)
      : std::runtime_error(msg), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Raised when an image (tag, index entry, manifest) does not exist; exits 2.
class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& msg) : Error(msg, 2) {}
};

// Prefixes context onto an error the way Go's fmt.Errorf("%s: %w") does,
// keeping the exit code. Call it from the handler that caught e: the new
// error nests e (std::nested_exception), so what it was (a network fault, a
// registry's error code) stays visible to --retry-times' classification.
[[noreturn]] inline void rethrow_with_context(const std::string& context, const Error& e) {
  std::throw_with_nested(Error(context + ": " + e.what(), e.exit_code()));
}

// hashicorp/go-multierror's text, which containers/image's errors carry
// where several attempts all failed: "1 error occurred:\n\t* e\n\n".
inline std::string go_multierror_text(const std::vector<std::string>& errors) {
  std::string msg = errors.size() == 1 ? "1 error occurred:" : std::to_string(errors.size()) + " errors occurred:";
  for (const std::string& e : errors) msg += "\n\t* " + e;
  return msg + "\n\n";
}

}  // namespace ferry
