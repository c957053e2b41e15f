// The OCI image layout on disk (image-spec image-layout.md): index.json,
// oci-layout and blobs/<alg>/<hex>, plus what every oci: operation shares:
// reading and writing index.json exactly as containers/image round-trips it
// through Go's imgspecv1.Index, choosing an entry, and finding which blobs
// an entry keeps alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/descriptor.h"

namespace ferry::oci {

inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";
// index.json has no limit in containers/image (it streams); ours keeps a
// hostile file from eating memory while leaving room for ~50k tags.
inline constexpr size_t kMaxIndexBytes = 16 << 20;
// containers/image's iolimits.MaxManifestBodySize.
inline constexpr size_t kMaxManifestBytes = 4 << 20;
// Nested indexes deeper than this are refused rather than followed.
inline constexpr int kMaxIndexNesting = 8;

inline constexpr const char* kOciLayoutBytes = R"({"imageLayoutVersion":"1.0.0"})";

// One descriptor of index.json with every field imgspecv1.Descriptor keeps;
// unknown fields are dropped, as Go's decoder does.
struct IndexEntry {
  manifest::Descriptor desc;  // size is 0 when absent (Go's zero value)
  std::string data;           // "data": the decoded bytes of the base64 text
  bool operator==(const IndexEntry&) const = default;
};

struct Index {
  int64_t schema_version = 2;
  std::string media_type;
  std::string artifact_type;
  std::vector<IndexEntry> manifests;
  std::optional<IndexEntry> subject;
  std::map<std::string, std::string> annotations;
};

// Decodes index.json bytes like json.Decoder.Decode into imgspecv1.Index:
// keys matched case-insensitively, null = absent, trailing bytes after the
// first value ignored. Wrong types throw an Error naming `what` (the file)
// and the field, e.g. `parsing /x/index.json: manifests[0].size: expected a
// number, got string`.
Index parse_index(std::string_view bytes, const std::string& what);

// json.Marshal of the index (no trailing newline). mediaType is always the
// OCI index type (skopeo >= 1.22 writes it); schemaVersion 0 becomes 2.
std::string serialize_index(const Index& index);

// Go's filepath.Join: joined and lexically cleaned ("a/./b/" -> "a/b").
std::string join_path(std::string_view a, std::string_view b);

// Where the files of one layout live.
class LayoutPaths {
 public:
  LayoutPaths(std::string dir, std::string shared_blob_dir);
  const std::string& dir() const { return dir_; }
  std::string index_path() const { return join_path(dir_, "index.json"); }
  std::string oci_layout_path() const { return join_path(dir_, "oci-layout"); }
  // <dir>/blobs/<alg>/<hex>, or <shared>/<alg>/<hex> when a shared blob dir
  // is set. The digest is validated before any path is built, so "../" or
  // "/" in a hostile index.json can never escape the blob directory.
  std::string blob_path(std::string_view digest) const;
  // Always under <dir>/blobs: delete only ever removes local blobs.
  std::string local_blob_path(std::string_view digest) const;

  Index read_index() const;
  bool index_exists() const;

 private:
  std::string dir_;
  std::string shared_;
};

// An exclusive flock on the layout directory, held while index.json is
// read, changed and replaced, so two writers cannot drop each other's
// entries.
class LayoutLock {
 public:
  explicit LayoutLock(const std::string& dir);
  ~LayoutLock();
  LayoutLock(const LayoutLock&) = delete;
  LayoutLock& operator=(const LayoutLock&) = delete;

 private:
  int fd_;
};

// Picks the entry a reference names (c/image's getManifestDescriptor):
// by ref.name annotation (first match whose type is an OCI manifest/index or
// a Docker v2s2 manifest/list), by zero-based position (source_index >= 0),
// or the only entry. Returns its position; throws NotFoundError
// `no descriptor found for reference "x"` (exit 2) and Error otherwise.
size_t select_entry(const Index& index, const std::string& image, int source_index);

// Adds the top-level descriptor of a new image (c/image's addManifest): a
// named entry takes the name from the first entry holding it (which stays,
// untagged); an untagged entry with the same digest is replaced, else the
// entry is appended.
void add_manifest(Index& index, const IndexEntry& entry);

// Every blob digest that the given entries keep alive: the manifests
// themselves, their configs and layers, and, through nested indexes (at
// most kMaxIndexNesting deep), the instances'. Manifests are read from
// paths.blob_path(), bounded by kMaxManifestBytes.
std::set<std::string> referenced_blobs(const LayoutPaths& paths,
                                       const std::vector<IndexEntry>& entries);

}  // namespace ferry::oci
