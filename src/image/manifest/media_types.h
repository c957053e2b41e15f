// Media types of every manifest, config and layer format ferry handles.
#pragma once

#include <string_view>

namespace ferry::manifest::media_type {

inline constexpr const char* kDockerV2Schema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr const char* kDockerV2Schema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr const char* kDockerV2Schema2 = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerV2List = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerV2Schema2Config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr const char* kDockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr const char* kDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar";
inline constexpr const char* kDockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* kOciLayerNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr const char* kOciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr const char* kOciLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr const char* kOciEmptyJson = "application/vnd.oci.empty.v1+json";

inline constexpr const char* kCosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json";

// Either form of Docker schema 1 (signed or not).
inline bool is_schema1(std::string_view t) { return t == kDockerV2Schema1 || t == kDockerV2Schema1Signed; }

}  // namespace ferry::manifest::media_type
