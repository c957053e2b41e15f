// Everything the user configured that a transport may need, gathered in one
// plain struct (containers/image calls it SystemContext). One per image side:
// copy builds a source context from the --src-* flags and a destination
// context from the --dest-* flags.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ferry {

struct SystemContext {
  // Platform choice for lists (--override-os/arch/variant); empty = runtime.
  std::string os_choice;
  std::string arch_choice;
  std::string variant_choice;

  std::string big_files_temp_dir = "/var/tmp";  // --tmpdir
  std::string blob_info_cache_dir;  // empty: $FERRY_BLOB_INFO_CACHE_DIR, then the default

  // oci / oci-archive
  std::string oci_shared_blob_dir;             // --{src,dest}-shared-blob-dir
  bool oci_accept_uncompressed_layers = false;  // --dest-oci-accept-uncompressed-layers

  // dir
  bool dir_force_compress = false;    // --dest-compress
  bool dir_force_decompress = false;  // --dest-decompress

  // docker-archive destination: extra RepoTags (--additional-tag)
  std::vector<std::string> docker_archive_additional_tags;

  // Registry access (docker://); used by the registry transport.
  std::string authfile;  // --authfile / --{src,dest}-authfile / $REGISTRY_AUTH_FILE
  std::optional<std::string> username, password;  // --creds / --username / --password
  std::optional<std::string> registry_token;      // --registry-token
  bool no_creds = false;
  std::string cert_dir;
  std::optional<bool> tls_verify;  // absent: registries.conf / default
  std::string registries_conf;     // --registries-conf
  std::string registries_d;        // --registries.d
  std::string user_agent = "ferry/" FERRY_VERSION;
  // "host[:port]/repo" of a docker:// source on the same registry as this
  // docker:// destination (set by the copy engine), so blobs missing here
  // can be mounted from it instead of uploaded.
  std::string docker_mount_source;
};

}  // namespace ferry
