// Tar archives through libarchive, for docker-archive and oci-archive.
// Reading never trusts entry names: absolute paths, ".." components, device
// nodes and links escaping the archive are rejected, so extracting a hostile
// archive cannot write outside its destination.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "io/reader.h"

namespace ferry {

// Writes an uncompressed (ustar/pax) tar stream to a file descriptor-backed
// path. Entries are written with the fixed metadata skopeo uses so archives
// are reproducible: uid/gid 0, mtime 0 unless given.
class TarWriter {
 public:
  explicit TarWriter(const std::string& path);  // creates/truncates path
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  void add_directory(const std::string& name, int mode = 0755);
  // Streams exactly `size` bytes from r (throws if r has more or fewer).
  void add_file(const std::string& name, Reader& r, int64_t size, int mode = 0444);
  void add_file(const std::string& name, const std::string& data, int mode = 0444);
  void add_symlink(const std::string& name, const std::string& target);
  // Flushes and closes; the file is complete only after this returns.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sequential reader over a tar file (plain or gzip/bzip2/xz/zstd
// compressed, detected automatically).
class TarReader {
 public:
  struct Entry {
    std::string name;  // normalized: no leading "./", no trailing "/"
    enum class Type { File, Directory, Symlink, Hardlink, Other } type;
    int64_t size;
    std::string link_target;  // symlink / hardlink target, normalized
    int mode = 0644;          // permission bits (07777) as archived
  };
  explicit TarReader(const std::string& path);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Advances to the next entry; false at end. Throws on a corrupt archive or
  // an unsafe name (absolute, "..", NUL).
  bool next(Entry* e);
  // The current entry's contents; valid until the next call to next().
  Reader& data();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Extracts path into dest_dir (which must exist and be empty): regular files
// and directories only (anything else is an error), every name checked to
// stay inside dest_dir, total size bounded by max_bytes.
void extract_tar(const std::string& path, const std::string& dest_dir, int64_t max_bytes);

}  // namespace ferry
