// libarchive, loaded on first use.
//
// Only the archive transports (docker-archive:, oci-archive:) and xz/bzip2
// layers need libarchive, but linking it loads it and its chain (libxml2,
// ICU, liblzma, liblz4, libbz2, libacl, libnettle) into every ferry process:
// about 2 MiB of resident code and 3 ms of start-up for each `inspect` or
// registry copy, which CI jobs run thousands of times a day. So ferry
// dlopen()s it the first time one of those paths runs; the functions are
// called through this table (same names, same signatures).
#pragma once

#include <archive.h>
#include <archive_entry.h>

namespace ferry {

// Every libarchive function ferry calls. Adding a call elsewhere means
// adding its name here; the build fails otherwise (there is no link-time
// libarchive to fall back on).
#define FERRY_LIBARCHIVE_FUNCTIONS(X)                                                                  \
  X(archive_error_string) X(archive_filter_code) X(archive_set_error)                                \
  X(archive_read_new) X(archive_read_free) X(archive_read_open) X(archive_read_open_fd)                \
  X(archive_read_next_header) X(archive_read_data) X(archive_read_support_format_tar)                 \
  X(archive_read_support_format_raw) X(archive_read_support_format_empty)                             \
  X(archive_read_support_filter_gzip) X(archive_read_support_filter_bzip2)                            \
  X(archive_read_support_filter_xz) X(archive_read_support_filter_zstd)                               \
  X(archive_write_new) X(archive_write_free) X(archive_write_open) X(archive_write_open2)              \
  X(archive_write_header) X(archive_write_data) X(archive_write_close)                                \
  X(archive_write_set_format_raw) X(archive_write_set_format_pax_restricted)                          \
  X(archive_write_add_filter_xz) X(archive_write_set_bytes_per_block)                                 \
  X(archive_write_set_bytes_in_last_block) X(archive_entry_new) X(archive_entry_free)                 \
  X(archive_entry_clear) X(archive_entry_pathname) X(archive_entry_pathname_utf8)                     \
  X(archive_entry_hardlink) X(archive_entry_symlink) X(archive_entry_symlink_utf8)                    \
  X(archive_entry_filetype) X(archive_entry_perm) X(archive_entry_size) X(archive_entry_size_is_set)  \
  X(archive_entry_set_pathname) X(archive_entry_set_filetype) X(archive_entry_set_perm)               \
  X(archive_entry_set_size) X(archive_entry_set_symlink) X(archive_entry_set_hardlink)                \
  X(archive_entry_set_uid) X(archive_entry_set_gid) X(archive_entry_set_mtime)

struct LibArchive {
#define FERRY_LIBARCHIVE_MEMBER(name) decltype(&::name) name = nullptr;
  FERRY_LIBARCHIVE_FUNCTIONS(FERRY_LIBARCHIVE_MEMBER)
#undef FERRY_LIBARCHIVE_MEMBER
};

// The loaded library; loads it on the first call (thread-safe). Throws
// ferry::Error naming the library and dlerror()'s reason when it cannot be
// loaded or lacks a function, so only the command that needs it fails.
const LibArchive& libarchive();

}  // namespace ferry
