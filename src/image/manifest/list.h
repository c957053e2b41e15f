// Multi-arch manifests: Docker manifest lists
// (application/vnd.docker.distribution.manifest.list.v2+json) and OCI image
// indexes (application/vnd.oci.image.index.v1+json), read and written as
// skopeo 1.9.3 (containers/image 5.23, image-spec 1.1.0-rc2) does.
//
// A parsed list is the copy engine's working copy: like c/image, it starts
// as a clone of the list as parsed, which already normalizes schemaVersion
// and mediaType and drops fields the clone does not carry (OCI descriptor
// "data" and "artifactType"). serialize() then answers what skopeo's
// `copy --all` writes: the original bytes when Go's encoding of the working
// copy equals Go's encoding of the list as parsed, otherwise the new
// encoding (and the list's digest changes).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest/descriptor.h"
#include "image/manifest/platform.h"

namespace ferry::manifest {

// True for the Docker list and OCI index media types.
bool is_list_mime(std::string_view mime);

class ManifestList {
 public:
  // `mime` says which format `bytes` is in (the transport's or the guessed
  // type). Errors name the field and position; single-image types get
  // c/image's "Treating single images as manifest lists is not implemented".
  static ManifestList parse(std::string_view bytes, std::string_view mime);

  std::string mime_type() const;

  // Docker list instances always carry a platform (zero-valued when the
  // JSON had none); OCI index instances may lack one.
  const std::vector<Descriptor>& instances() const { return manifests_; }

  // OCI index annotations (always empty for Docker lists).
  const std::map<std::string, std::string>& annotations() const { return annotations_; }

  // After the instances were copied (and maybe converted or recompressed):
  // one entry per instance, in list order; only digest, size and media_type
  // are used. Validated like c/image: count, digest syntax, size >= 0,
  // non-empty media type. On error the list is unchanged.
  void update_instances(const std::vector<Descriptor>& updated);

  // Original bytes when unchanged (see above), else Go's json.Marshal.
  std::string serialize() const;
  // Whether serialize() differs from the original bytes: the copy engine
  // refuses that when the list must not be modified (signatures, digested
  // destination, --preserve-digests).
  bool changed() const;
  // The bytes as parsed.
  const std::string& original_bytes() const { return original_bytes_; }

  // Docker list <-> OCI index (ConvertToMIMEType). Instance media types are
  // kept as they are: the copy engine records converted instances through
  // update_instances, as c/image does. Platform "features" and all
  // annotations are lost going to OCI / Docker respectively; an OCI instance
  // without platform gets the runtime os/architecture in a Docker list.
  // Non-list targets fail. The result still compares against the original
  // bytes in serialize().
  ManifestList convert_to(std::string_view target_mime) const;

  // The digest of the instance for `choice` (empty fields: runtime default,
  // see platform_from_overrides): the first instance in list order that
  // matches the most preferred wanted platform. An OCI index falls back to
  // its first instance without a platform. No match throws ferry::Error
  // "no image found in manifest list for architecture amd64, variant \"\",
  // OS linux" (OCI: "... in image index ...").
  std::string choose_instance(const PlatformChoice& choice) const;

 private:
  enum class Kind { DockerList, OciIndex };
  ManifestList() = default;

  std::string marshal() const;

  Kind kind_ = Kind::DockerList;
  std::vector<Descriptor> manifests_;
  std::map<std::string, std::string> annotations_;
  std::string original_bytes_;
  std::string original_marshal_;  // Go's encoding of the list as parsed
};

}  // namespace ferry::manifest
