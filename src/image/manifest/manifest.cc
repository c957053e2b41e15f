#include "image/manifest/manifest.h"

#include <cmath>
#include <cstdlib>

#include "image/manifest/media_types.h"
#include "image/manifest/oci.h"
#include "image/manifest/schema1.h"
#include "image/manifest/schema2.h"
#include "io/digest.h"
#include "util/go_base64.h"
#include "util/gotype.h"

namespace ferry::manifest {

using gojson::Json;
using gojson::Kind;
using gojson::Type;

ImageManifest::~ImageManifest() = default;

namespace {

// The fields of GuessMIMEType's probe structs.
const Type& guess_meta_type() {
  static const Type t{Kind::kStruct,
                      "struct { MediaType string \"json:\\\"mediaType\\\"\"; SchemaVersion int \"json:\\\"schemaVersion\\\"\"; "
                      "Signatures interface {} \"json:\\\"signatures\\\"\" }",
                      {
                          {"mediaType", &gojson::string_type()},
                          {"schemaVersion", &gojson::int_type()},
                          {"signatures", &gojson::any_type()},
                      },
                      nullptr};
  return t;
}

const Type& guess_config_type() {
  static const Type config{
      Kind::kStruct, "struct { MediaType string \"json:\\\"mediaType\\\"\" }", {{"mediaType", &gojson::string_type()}},
      nullptr};
  static const Type t{Kind::kStruct, "struct { Config struct { MediaType string \"json:\\\"mediaType\\\"\" } "
                                     "\"json:\\\"config\\\"\" }",
                      {{"config", &config}}, nullptr};
  return t;
}

const Type& guess_index_type() {
  static const Type manifests{Kind::kSlice, "[]v1.Descriptor", {}, &oci_descriptor_type()};
  static const Type t{Kind::kStruct, "struct { Manifests []v1.Descriptor \"json:\\\"manifests\\\"\" }",
                      {{"manifests", &manifests}}, nullptr};
  return t;
}

const Type& detected_fields_type() {
  static const Type t{Kind::kStruct,
                      "struct { Config interface {} \"json:\\\"config\\\"\"; FSLayers interface {} "
                      "\"json:\\\"fsLayers\\\"\"; History interface {} \"json:\\\"history\\\"\"; Layers interface {} "
                      "\"json:\\\"layers\\\"\"; Manifests interface {} \"json:\\\"manifests\\\"\" }",
                      {
                          {"config", &gojson::any_type()},
                          {"fsLayers", &gojson::any_type()},
                          {"history", &gojson::any_type()},
                          {"layers", &gojson::any_type()},
                          {"manifests", &gojson::any_type()},
                      },
                      nullptr};
  return t;
}

// libtrust's joseBase64UrlDecode: newlines and spaces dropped, padding
// restored from the length.
std::string jose_base64url_decode(std::string s) {
  std::erase(s, '\n');
  std::erase(s, ' ');
  switch (s.size() % 4) {
    case 0: break;
    case 2: s += "=="; break;
    case 3: s += "="; break;
    default: throw Error("illegal base64url string!");
  }
  return go_base64_decode(s, true);
}

}  // namespace

std::string guess_mime_type(std::string_view bytes) {
  Json meta;
  try {
    meta = gojson::unmarshal(bytes, guess_meta_type());
  } catch (const Error&) {
    return "";
  }
  const std::string& mt = meta["mediaType"].get_ref<const std::string&>();
  if (mt == media_type::kDockerV2Schema2 || mt == media_type::kDockerV2List || mt == media_type::kOciManifest ||
      mt == media_type::kOciIndex) {
    return mt;
  }
  int64_t version = meta["schemaVersion"].get<int64_t>();
  if (version == 1) {
    return meta["signatures"].is_null() ? media_type::kDockerV2Schema1 : media_type::kDockerV2Schema1Signed;
  }
  if (version != 2) return "";
  // OCI manifests before image-spec 1.0.2 had no mediaType; the config's
  // type, or the presence of "manifests", is the best remaining hint.
  Json oci;
  try {
    oci = gojson::unmarshal(bytes, guess_config_type());
  } catch (const Error&) {
    return "";
  }
  const std::string& config_type = oci["config"]["mediaType"].get_ref<const std::string&>();
  if (config_type == media_type::kOciConfig) return media_type::kOciManifest;
  if (config_type == media_type::kDockerV2Schema2Config) return media_type::kDockerV2Schema2;
  Json index;
  try {
    index = gojson::unmarshal(bytes, guess_index_type());
  } catch (const Error&) {
    return "";
  }
  if (index["manifests"].is_array() && !index["manifests"].empty()) {
    // c/image returns the config type here when there is one (mixing
    // manifest and config types, but that is what it does).
    return config_type.empty() ? std::string(media_type::kOciIndex) : config_type;
  }
  return media_type::kOciManifest;
}

std::string normalized_mime_type(std::string_view mime) {
  if (mime == media_type::kDockerV2Schema1 || mime == media_type::kDockerV2Schema1Signed ||
      mime == media_type::kOciManifest || mime == media_type::kOciIndex || mime == media_type::kDockerV2Schema2 ||
      mime == media_type::kDockerV2List) {
    return std::string(mime);
  }
  return media_type::kDockerV2Schema1Signed;
}

std::string schema1_jws_payload(std::string_view bytes) {
  // libtrust ParsePrettySignature(bytes, "signatures") + Payload().
  std::vector<std::pair<std::string, std::string>> members;
  try {
    members = gojson::unmarshal_raw_object(bytes, "map[string]json.RawMessage");
  } catch (const Error& e) {
    throw Error(std::string("error unmarshalling content: ") + e.what());
  }
  const std::string* sig_raw = nullptr;
  for (const auto& [k, raw] : members) {
    if (k == "signatures") sig_raw = &raw;
  }
  if (sig_raw == nullptr) throw Error("missing signature key");

  static const Type header{Kind::kStruct,
                           "libtrust.jsParsedHeader",
                           {
                               {"jwk", &gojson::any_type()},
                               {"alg", &gojson::string_type()},
                               {"x5c", &gojson::string_slice_type()},
                           },
                           nullptr};
  static const Type block{Kind::kStruct,
                          "libtrust.jsParsedSignature",
                          {
                              {"header", &header},
                              {"signature", &gojson::string_type()},
                              {"protected", &gojson::string_type()},
                          },
                          nullptr};
  static const Type blocks{Kind::kSlice, "[]libtrust.jsParsedSignature", {}, &block};
  Json sigs;
  try {
    sigs = gojson::unmarshal(*sig_raw, blocks);
  } catch (const Error& e) {
    throw Error(std::string("error unmarshalling signatures: ") + e.what());
  }

  int64_t format_length = 0;
  std::string format_tail;
  if (sigs.is_array()) {
    for (const Json& s : sigs) {
      std::string protected_bytes;
      try {
        protected_bytes = jose_base64url_decode(s["protected"].get<std::string>());
      } catch (const Error& e) {
        throw Error(std::string("base64 decode error: ") + e.what());
      }
      std::vector<std::pair<std::string, std::string>> header_members;
      try {
        header_members = gojson::unmarshal_raw_object(protected_bytes, "map[string]interface {}");
      } catch (const Error& e) {
        throw Error(std::string("error unmarshalling protected header: ") + e.what());
      }
      const std::string* length_raw = nullptr;
      const std::string* tail_raw = nullptr;
      for (const auto& [k, raw] : header_members) {
        if (k == "formatLength") length_raw = &raw;
        if (k == "formatTail") tail_raw = &raw;
        // Every member becomes an interface{}; a number float64 cannot hold
        // fails the whole header.
        if ((raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) && std::isinf(std::strtod(raw.c_str(), nullptr))) {
          throw Error("error unmarshalling protected header: json: cannot unmarshal number " + raw +
                      " into Go value of type float64");
        }
      }
      // Decoded into interface{}: the length must be a JSON number (a
      // float64 in Go), the tail a JSON string.
      if (length_raw == nullptr) throw Error("missing formatted length");
      char c = (*length_raw)[0];
      if (!(c == '-' || (c >= '0' && c <= '9'))) throw Error("formatted length is not a float64");
      double length = std::strtod(length_raw->c_str(), nullptr);
      if (tail_raw == nullptr) throw Error("missing formatted tail");
      if ((*tail_raw)[0] != '"') throw Error("formatted tail is not a string");
      std::string tail;
      try {
        tail = jose_base64url_decode(gojson::unmarshal(*tail_raw, gojson::string_type()).get<std::string>());
      } catch (const Error& e) {
        throw Error(std::string("base64 decode error on tail: ") + e.what());
      }
      // Go's int(float64): truncation; anything out of range is rejected
      // below as an invalid length (Go would panic slicing with it).
      int64_t this_length = (length > -9.2e18 && length < 9.2e18) ? static_cast<int64_t>(length) : -1;
      if (format_length == 0) {
        format_length = this_length;
      } else if (format_length != this_length) {
        throw Error("conflicting format length");
      }
      if (format_tail.empty()) {
        format_tail = tail;
      } else if (format_tail != tail) {
        throw Error("conflicting format tail");
      }
    }
  }
  if (format_length < 0 || static_cast<uint64_t>(format_length) > bytes.size()) throw Error("invalid format length");
  std::string payload(bytes.substr(0, static_cast<size_t>(format_length)));
  payload += format_tail;
  return payload;
}

std::string manifest_digest(std::string_view bytes) {
  if (guess_mime_type(bytes) == media_type::kDockerV2Schema1Signed) return sha256_digest(schema1_jws_payload(bytes));
  return sha256_digest(bytes);
}

void validate_unambiguous_format(std::string_view bytes, std::string_view expected_mime, unsigned allowed) {
  Json detected = gojson::unmarshal(bytes, detected_fields_type());
  static const std::pair<const char*, unsigned> kFields[] = {
      {"config", kFieldConfig},     {"fsLayers", kFieldFSLayers},   {"history", kFieldHistory},
      {"layers", kFieldLayers},     {"manifests", kFieldManifests},
  };
  std::string unexpected;
  for (const auto& [name, bit] : kFields) {
    if (!detected[name].is_null() && (allowed & bit) == 0) {
      if (!unexpected.empty()) unexpected += ", ";
      unexpected += gojson::go_quote(name);
    }
  }
  if (!unexpected.empty()) {
    throw Error("rejecting ambiguous manifest, unexpected fields []string{" + unexpected + "} in supposedly " +
                std::string(expected_mime));
  }
}

void validate_digest_field(const std::string& field, const std::string& digest) {
  if (const char* problem = digest_problem(digest)) {
    throw Error(field + ": invalid digest " + gojson::go_quote(digest) + ": " + problem);
  }
}

std::unique_ptr<ImageManifest> parse_image_manifest(std::string_view bytes, std::string_view mime) {
  std::string mt = mime.empty() ? guess_mime_type(bytes) : std::string(mime);
  std::string nmt = normalized_mime_type(mt);
  if (nmt == media_type::kDockerV2Schema1 || nmt == media_type::kDockerV2Schema1Signed) {
    return Schema1Manifest::parse(bytes);
  }
  if (nmt == media_type::kOciManifest) return OciManifest::parse(bytes);
  if (nmt == media_type::kDockerV2Schema2) return Schema2Manifest::parse(bytes);
  throw Error("Treating manifest lists as individual manifests is not implemented");
}

// ---------------------------------------------------------------------------
// Layer media types under compression changes (c/image compressionVariantMIMEType)

namespace {

struct VariantSet {
  const char* uncompressed;
  const char* gzip;
  const char* zstd;  // nullptr: the format has no zstd variant
};

constexpr VariantSet kSchema2Variants[] = {
    {media_type::kDockerForeignLayer, media_type::kDockerForeignLayerGzip, nullptr},
    {media_type::kDockerLayerTar, media_type::kDockerLayerGzip, nullptr},
};

constexpr VariantSet kOciVariants[] = {
    {media_type::kOciLayerNondistributableTar, media_type::kOciLayerNondistributableGzip,
     media_type::kOciLayerNondistributableZstd},
    {media_type::kOciLayerTar, media_type::kOciLayerGzip, media_type::kOciLayerZstd},
};

std::string variant_media_type(const VariantSet* sets, size_t n, std::string_view mime, std::string_view algorithm) {
  for (size_t i = 0; i < n; ++i) {
    const VariantSet& s = sets[i];
    bool member = mime == s.uncompressed || mime == s.gzip || (s.zstd != nullptr && mime == s.zstd);
    if (!member) continue;
    // zstd:chunked is zstd as far as media types go.
    std::string name = algorithm == "zstd:chunked" ? "zstd" : std::string(algorithm);
    if (name.empty()) return s.uncompressed;
    if (name == "gzip") return s.gzip;
    if (name == "zstd") {
      if (s.zstd != nullptr) return s.zstd;
      throw CompressionIncompatibleError(name + " compression is not supported for type " + gojson::go_quote(mime));
    }
    throw CompressionIncompatibleError("unknown compressed with algorithm " + name + " variant for type " +
                                       std::string(mime));
  }
  if (!algorithm.empty()) throw Error("unsupported MIME type for compression: " + std::string(mime));
  throw Error("unsupported MIME type for decompression: " + std::string(mime));
}

}  // namespace

std::string updated_layer_media_type(std::string_view manifest_mime, std::string_view layer_mime, CompressionOp op,
                                     std::string_view algorithm) {
  std::string nmt = normalized_mime_type(manifest_mime);
  if (nmt == media_type::kDockerV2Schema1 || nmt == media_type::kDockerV2Schema1Signed) {
    return std::string(layer_mime);  // schema 1 records no layer types
  }
  const VariantSet* sets = nmt == media_type::kOciManifest ? kOciVariants : kSchema2Variants;
  size_t n = 2;
  switch (op) {
    case CompressionOp::kPreserve:
      if (algorithm.empty()) return std::string(layer_mime);
      return variant_media_type(sets, n, layer_mime, algorithm);
    case CompressionOp::kDecompress:
      return variant_media_type(sets, n, layer_mime, "");
    case CompressionOp::kCompress:
      if (algorithm.empty()) throw Error("cannot compress into " + gojson::go_quote(layer_mime) + " with a nil algorithm");
      return variant_media_type(sets, n, layer_mime, algorithm);
  }
  return std::string(layer_mime);
}

bool can_change_layer_compression(const ImageManifest& m, std::string_view layer_mime) {
  std::string mt = m.mime_type();
  if (mt == media_type::kDockerV2Schema1 || mt == media_type::kDockerV2Schema1Signed) return true;
  const VariantSet* sets = kSchema2Variants;
  if (mt == media_type::kOciManifest) {
    if (m.config_info().media_type != media_type::kOciConfig) return false;
    sets = kOciVariants;
  }
  for (size_t i = 0; i < 2; ++i) {
    if (layer_mime == sets[i].uncompressed || layer_mime == sets[i].gzip ||
        (sets[i].zstd != nullptr && layer_mime == sets[i].zstd)) {
      return true;
    }
  }
  return false;
}

const std::string& gzipped_empty_layer() {
  static const std::string bytes = [] {
    static constexpr unsigned char kBytes[] = {31, 139, 8,   0,   0,   9,   110, 136, 0,  255, 98,
                                               24, 5,   163, 96,  20,  140, 88,  0,   8,  0,   0,
                                               255, 255, 46, 175, 181, 239, 0,   4,   0,  0};
    return std::string(reinterpret_cast<const char*>(kBytes), sizeof kBytes);
  }();
  return bytes;
}

}  // namespace ferry::manifest
