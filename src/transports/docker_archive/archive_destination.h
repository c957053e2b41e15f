// Writing docker-archive: tarballs.
//
// Layers arrive decompressed (the destination asks for that) and are
// buffered, one file per blob, in a temporary directory under --tmpdir;
// commit() then writes the whole archive to a temporary name beside PATH and
// renames it over PATH. So a failed copy leaves PATH as it was and no
// partial archive anywhere. (A FIFO or device at PATH is written directly.)
//
// The tar bytes are those skopeo writes: Go's archive/tar headers for
// c/image's entries, in c/image's order, so an archive made by ferry is
// byte-identical to one made by skopeo from the same image.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/reader.h"

namespace ferry::docker_archive {

// A tar stream as Go's archive/tar Writer produces it for headers made by
// tar.FileInfoHeader with mtime 0 and no owner: USTAR blocks with
// zero-padded, NUL-terminated octal fields; a PAX "size" record only when a
// file exceeds USTAR's 8 GiB; two zero blocks at the end and no padding to
// a record size. Names and link targets must be ASCII and fit USTAR's 100
// bytes (every name c/image uses does).
// The header block(s) GoTarWriter writes for one entry (type '0' file,
// '2' symlink): one USTAR block, preceded by a PAX header block and its
// padded record when size needs it. Throws if name or link do not fit.
std::string go_tar_header(const std::string& name, char type, int mode, int64_t size,
                          const std::string& link);

class GoTarWriter {
 public:
  // Writes to fd, which the caller owns; path names it in errors.
  GoTarWriter(int fd, std::string path);
  GoTarWriter(const GoTarWriter&) = delete;
  GoTarWriter& operator=(const GoTarWriter&) = delete;

  // A regular file, mode 0444, of exactly `size` bytes read from r.
  void add_file(const std::string& name, Reader& r, int64_t size);
  void add_file(const std::string& name, std::string_view data);
  // A symbolic link, mode 0.
  void add_symlink(const std::string& name, const std::string& target);
  // Writes the end-of-archive blocks and flushes.
  void finish();

 private:
  void append(const void* data, size_t n);
  void pad_to_block(int64_t size);
  void flush();

  int fd_;
  std::string path_;
  std::vector<uint8_t> buf_;
};

}  // namespace ferry::docker_archive
