// A blob written to an unlinked temporary file while it is hashed, then read
// back: for --dest-precompute-digests, where a converted layer's digest must
// be known before the registry is asked whether it has it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "io/reader.h"

namespace ferry {

// The file is unlinked as soon as it is created (mkstemp makes it 0600),
// so it is gone however the process ends; the open descriptor keeps it
// readable while this object lives.
class SpooledBlob {
 public:
  // In dir ("" = /var/tmp, containers/image's default for big files).
  explicit SpooledBlob(const std::string& dir);
  ~SpooledBlob();
  SpooledBlob(const SpooledBlob&) = delete;
  SpooledBlob& operator=(const SpooledBlob&) = delete;

  // Stores `in`, read to its end, hashing it.
  void fill(Reader& in);
  const std::string& digest() const { return digest_; }  // "sha256:..." after fill
  int64_t size() const { return size_; }

  // The stored bytes from the start; valid while this object lives.
  std::unique_ptr<Reader> reader();

 private:
  int fd_ = -1;
  std::string where_;  // the (removed) file's name, for errors
  std::string digest_;
  int64_t size_ = 0;
};

}  // namespace ferry
