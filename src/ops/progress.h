// What a copy tells the user while it runs. skopeo writes this to stdout:
// plain lines when stdout is not a terminal ("Copying blob sha256:..."),
// live bars when it is. --quiet silences it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "io/reader.h"

namespace ferry {

class BarDisplay;

enum class ProgressMode { Quiet, Plain, Bars };

// How to report: nothing without an output (--quiet); otherwise bars on a
// terminal and plain lines elsewhere (logs, pipes, TERM=dumb).
// FERRY_PROGRESS=plain|bars forces one of the two (tests, odd terminals).
ProgressMode choose_progress_mode(bool have_output, bool is_terminal, const char* ferry_progress,
                                  const char* term);

class ProgressReporter {
 public:
  // out == nullptr: quiet. Otherwise the mode follows choose_progress_mode
  // for out and the environment.
  explicit ProgressReporter(FILE* out);
  ProgressReporter(FILE* out, ProgressMode mode);
  // Bars drawn by the given display (tests drive it with a fake clock).
  explicit ProgressReporter(std::unique_ptr<BarDisplay> bars);
  virtual ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // A step line ("Getting image source signatures", ...).
  virtual void line(const std::string& text);
  // A blob copy starts; kind is "blob" or "config". Returns the reader to
  // pull through so bytes can be counted.
  virtual std::unique_ptr<Reader> start_blob(const std::string& kind, const std::string& digest,
                                             int64_t size, std::unique_ptr<Reader> in);
  // A blob the destination already had.
  virtual void blob_skipped(const std::string& kind, const std::string& digest);

 protected:
  FILE* out_;
  std::mutex mu_;  // layers copy in parallel; keep lines whole
  std::unique_ptr<BarDisplay> bars_;  // set in bar mode
};

}  // namespace ferry
