// For the config tests only: the configuration readers look at HOME, XDG_*
// and friends and at files under them, so each test sets its own
// environment (restored afterwards), writes its own files and compares the
// exact error texts.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <ctime>

#include "io/fs.h"
#include "util/error.h"

namespace ferry {

// Sets (or unsets, with nullopt) environment variables for one test and
// restores them when it goes out of scope.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  ScopedEnv& set(const std::string& name, std::optional<std::string> value) {
    if (saved_.count(name) == 0) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    apply(name, value);
    return *this;
  }

  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) apply(name, value);
  }

 private:
  static void apply(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }

  std::map<std::string, std::optional<std::string>> saved_;
};

// TZ for one test: localtime sees the zone at once (tzset) and the old one
// again afterwards.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const std::string& tz) : env_(std::make_unique<ScopedEnv>()) {
    env_->set("TZ", tz);
    ::tzset();
  }
  ~ScopedTimeZone() {
    env_.reset();
    ::tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::unique_ptr<ScopedEnv> env_;
};

// Writes text to path, creating the parent directories, with the given mode.
inline void write(const std::string& path, const std::string& text, int mode = 0644) {
  make_dirs(path.substr(0, path.rfind('/')));
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

// The message of the ferry::Error fn throws, or "OK".
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "OK";
}

}  // namespace ferry
