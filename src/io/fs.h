// Filesystem helpers that keep the "nothing lost, nothing half-written"
// promise: every file ferry creates is written to a temporary name in the
// same directory, fsynced and renamed into place.
#pragma once

#include <string>
#include <string_view>

#include "io/reader.h"
#include "util/error.h"

namespace ferry {

// strerror(err) spelled as Go's syscall package does ("no such file or
// directory"): skopeo prints these, and scripts match on them.
std::string errno_text(int err);
// Go's *os.PathError text: "open /x: no such file or directory".
Error path_error(const std::string& op, const std::string& path, int err);

// Lexical cleanup as Go's path.Clean: collapses "//", "." and "x/.." and drops
// a trailing "/"; "" becomes ".".
std::string clean_path(std::string_view path);

// Writes data to path atomically (temp file + fsync + rename), mode given.
void write_file_atomic(const std::string& path, std::string_view data, int mode = 0644);

// Reads a whole file; throws if larger than max_bytes or unreadable.
// Missing file: throws NotFoundError if not_found_is_2, else Error.
std::string read_file(const std::string& path, size_t max_bytes, bool not_found_is_2 = false);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// mkdir -p; mode applies to created directories.
void make_dirs(const std::string& path, int mode = 0755);

// rm -rf; never follows symlinks out of path.
void remove_all(const std::string& path);

// Makes a fresh directory under parent (e.g. --tmpdir) with the given prefix;
// returns its path.
std::string make_temp_dir(const std::string& parent, const std::string& prefix);

// An owned temporary directory removed (recursively) on destruction unless
// released.
class TempDir {
 public:
  TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Keeps the directory; returns its path.
  std::string release();

 private:
  std::string path_;
};

// Absolute, lexically clean path, with symlinks in existing prefixes
// resolved (c/image's explicitfilepath.ResolvePathToFullyExplicit), used for
// policy identities of dir/oci references.
std::string resolve_path_fully_explicit(const std::string& path);

// Streams r into a new file at path via a temp file in the same directory;
// returns bytes written. The temp file is removed on any error.
int64_t write_stream_atomic(const std::string& path, Reader& r, int mode = 0644);

}  // namespace ferry
