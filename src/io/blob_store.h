// Writing one content-addressed blob file: stream to a temporary file in the
// destination directory while hashing, check digest and size, fsync, then
// rename to the name the digest gives. A failed or interrupted write leaves
// nothing that looks like a blob.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "io/reader.h"

namespace ferry {

struct StoredBlob {
  std::string digest;
  int64_t size = 0;
};

// expected_digest "" = unknown (content transformed on the fly; hashed with
// sha256); expected_size < 0 = unknown. path_for maps the final digest to the
// file's path (its directory must exist). If that file already exists it is
// kept (same content, by construction).
StoredBlob store_blob(Reader& r, const std::string& temp_dir, const std::string& temp_prefix,
                      const std::string& expected_digest, int64_t expected_size,
                      const std::function<std::string(const std::string&)>& path_for);

}  // namespace ferry
