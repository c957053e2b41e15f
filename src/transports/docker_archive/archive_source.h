// Reading docker-archive: tarballs (c/image docker/internal/tarfile).
//
// The archive is never extracted. A plain, seekable tar is read in place;
// a compressed one or a stream (/dev/stdin) is first copied, decompressed,
// to a temporary file under --tmpdir. Each component is then found by a
// linear scan of the tar headers (skipping data by seeking), which needs no
// index of untrusted size and lets every reader own its file descriptor, so
// blobs can be read from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/docker_reference.h"
#include "image/system_context.h"
#include "io/reader.h"

namespace ferry::docker_archive {

// One image in manifest.json (c/image tarfile.ManifestItem).
struct ManifestItem {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

inline constexpr size_t kMaxTarManifestSize = 1 << 20;  // manifest.json
inline constexpr size_t kMaxConfigSize = 4 << 20;

class ArchiveReader {
 public:
  // Opens path and parses its manifest.json. Errors as c/image:
  //   opening file "PATH": open PATH: no such file or directory
  //   loading tar component "manifest.json": file does not exist
  //   decoding tar manifest.json: json: cannot unmarshal ...
  ArchiveReader(const std::string& path, const SystemContext& ctx);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  const std::vector<ManifestItem>& manifest() const { return manifest_; }

  // c/image ChooseManifestItem: by RepoTag (compared after normalization;
  // *tag_index = the matching tag's index), by @index, or the only image.
  //   Tag "docker.io/library/x:y" not found
  //   Invalid source index @N, only M manifest items available
  //   Unexpected tar manifest.json: expected 1 item, got N
  const ManifestItem& choose(const std::optional<DockerReference>& ref, int index,
                             int* tag_index) const;

  // A regular file in the archive, following symbolic and hard links
  // inside it (never out of it). *size receives its stored size.
  // Missing: throws `file does not exist` (the caller adds context).
  std::unique_ptr<Reader> open_component(const std::string& name, int64_t* size) const;
  // Like open_component, read whole: throws `loading tar component "NAME":
  // ...` if missing or larger than limit.
  std::string read_component(const std::string& name, size_t limit) const;
  // Whether an entry with exactly this (cleaned) name exists, of any type.
  bool has_entry(const std::string& name) const;

  // The uncompressed tar actually read (the user's file or a temporary copy).
  const std::string& tar_path() const { return tar_path_; }

 private:
  std::string path_;
  std::string tar_path_;
  bool remove_on_close_ = false;
  std::vector<ManifestItem> manifest_;
};

}  // namespace ferry::docker_archive
