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

class ProgressReporter {
 public:
  // out == nullptr: quiet.
  explicit ProgressReporter(FILE* out) : out_(out) {}
  virtual ~ProgressReporter() = default;

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
};

}  // namespace ferry
