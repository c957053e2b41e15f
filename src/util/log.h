// Diagnostics on stderr in logrus's formats, as skopeo prints them:
// `time="2026-01-02T03:04:05Z" level=fatal msg="..."` when stderr is not a
// terminal, `FATA[0000] ...` when it is. Scripts grep these lines.
#pragma once

#include <string>

namespace ferry::logging {

enum class Level { Fatal, Error, Warning, Info, Debug };

void set_debug(bool on);
bool debug_enabled();

void log(Level level, const std::string& msg);
inline void log_warning(const std::string& msg) { log(Level::Warning, msg); }
inline void log_debug(const std::string& msg) {
  if (debug_enabled()) log(Level::Debug, msg);
}

// Formats one line (without the newline); exposed for tests.
std::string format_log_line(Level level, const std::string& msg, bool tty, long elapsed_seconds,
                            const std::string& rfc3339_time);

}  // namespace ferry::logging
