#include "ops/layer_media_type.h"

#include "image/manifest/media_types.h"
#include "util/error.h"

namespace ferry {

namespace mt = manifest::media_type;

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::string layer_media_type_for(const std::string& media_type, Compression c) {
  const bool oci_nondist = starts_with(media_type, mt::kOciLayerNondistributableTar);
  const bool oci = !oci_nondist && starts_with(media_type, mt::kOciLayerTar);
  if ((oci || oci_nondist) && media_type.find("+encrypted") == std::string::npos) {
    std::string base = oci_nondist ? mt::kOciLayerNondistributableTar : mt::kOciLayerTar;
    switch (c) {
      case Compression::None: return base;
      case Compression::Gzip: return base + "+gzip";
      case Compression::Zstd:
      case Compression::ZstdChunked: return base + "+zstd";
      default: break;
    }
  } else if (media_type == mt::kDockerLayerGzip || media_type == mt::kDockerLayerTar ||
             media_type == mt::kDockerLayerZstd) {
    switch (c) {
      case Compression::None: return mt::kDockerLayerTar;
      case Compression::Gzip: return mt::kDockerLayerGzip;
      case Compression::Zstd:
      case Compression::ZstdChunked: return mt::kDockerLayerZstd;
      default: break;
    }
  } else if (media_type == mt::kDockerForeignLayer || media_type == mt::kDockerForeignLayerGzip) {
    if (c == Compression::None) return mt::kDockerForeignLayer;
    if (c == Compression::Gzip) return mt::kDockerForeignLayerGzip;
  }
  throw Error("cannot change the compression of a layer of media type \"" + media_type +
              "\" to " + (c == Compression::None ? std::string("uncompressed") : compression_name(c)));
}

}  // namespace ferry
