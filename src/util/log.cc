#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "util/go_quote.h"

namespace ferry::logging {

namespace {

std::atomic<bool> g_debug{false};
const auto g_start = std::chrono::steady_clock::now();

const char* level_word(Level l) {
  switch (l) {
    case Level::Fatal: return "fatal";
    case Level::Error: return "error";
    case Level::Warning: return "warning";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
  }
  return "info";
}

const char* level_tag(Level l) {
  switch (l) {
    case Level::Fatal: return "FATA";
    case Level::Error: return "ERRO";
    case Level::Warning: return "WARN";
    case Level::Info: return "INFO";
    case Level::Debug: return "DEBU";
  }
  return "INFO";
}

// logrus quotes a value unless every byte is in [A-Za-z0-9-._/@^+].
bool needs_quoting(const std::string& s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '/' || c == '@' ||
          c == '^' || c == '+'))
      return true;
  }
  return false;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  if (off == 0) return std::string(buf) + "Z";
  char sign = off < 0 ? '-' : '+';
  off = off < 0 ? -off : off;
  return fmt::format("{}{}{:02}:{:02}", buf, sign, off / 3600, (off % 3600) / 60);
}

}  // namespace

void set_debug(bool on) { g_debug = on; }
bool debug_enabled() { return g_debug; }

std::string format_log_line(Level level, const std::string& msg, bool tty, long elapsed,
                            const std::string& time) {
  if (tty) return fmt::format("{}[{:04}] {}", level_tag(level), elapsed, msg);
  return fmt::format("time=\"{}\" level={} msg={}", time, level_word(level),
                     needs_quoting(msg) ? go_quote(msg) : msg);
}

void log(Level level, const std::string& msg) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  long elapsed = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::steady_clock::now() - g_start)
                                       .count());
  std::string line = format_log_line(level, msg, tty, elapsed, now_rfc3339()) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ferry::logging
