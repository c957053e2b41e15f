#include "image/manifest/manifest.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"
#include "io/digest.h"

namespace ferry::manifest {
namespace {

using test_data::fixture;

std::string error_of(std::string_view bytes, std::string_view mime) {
  try {
    parse_image_manifest(bytes, mime);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

const std::string kDigestA = "sha256:" + std::string(64, 'a');

TEST(GuessMimeType, ByMediaTypeField) {
  EXPECT_EQ(guess_mime_type(fixture("v2s2.manifest.json")), media_type::kDockerV2Schema2);
  EXPECT_EQ(guess_mime_type(fixture("oci.manifest.json")), media_type::kOciManifest);
  EXPECT_EQ(guess_mime_type(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})"), media_type::kOciIndex);
  EXPECT_EQ(guess_mime_type(R"({"MEDIATYPE":"application/vnd.docker.distribution.manifest.list.v2+json"})"),
            media_type::kDockerV2List);
}

TEST(GuessMimeType, Schema1) {
  EXPECT_EQ(guess_mime_type(fixture("schema1.manifest.json")), media_type::kDockerV2Schema1);
  EXPECT_EQ(guess_mime_type(fixture("v2s2_to_schema1.manifest.json")), media_type::kDockerV2Schema1Signed);
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":1,"signatures":null})"), media_type::kDockerV2Schema1);
  EXPECT_EQ(guess_mime_type(R"({"SchemaVersion":1,"Signatures":[]})"), media_type::kDockerV2Schema1Signed);
  // A media type outside the recognized four falls through to schemaVersion.
  EXPECT_EQ(guess_mime_type(R"({"mediaType":"text/plain","schemaVersion":1})"), media_type::kDockerV2Schema1);
}

TEST(GuessMimeType, SchemaVersion2WithoutMediaType) {
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"}})"),
            media_type::kOciManifest);
  EXPECT_EQ(
      guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json"}})"),
      media_type::kDockerV2Schema2);
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"manifests":[{"digest":"x"}]})"), media_type::kOciIndex);
  // c/image returns the config type when both are present.
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"a/b"},"manifests":[{}]})"), "a/b");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"manifests":[]})"), media_type::kOciManifest);
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"config":{"mediaType":"application/x-artifact"}})"),
            media_type::kOciManifest);
}

TEST(GuessMimeType, UnparseableIsEmpty) {
  EXPECT_EQ(guess_mime_type(""), "");
  EXPECT_EQ(guess_mime_type("{"), "");
  EXPECT_EQ(guess_mime_type("[]"), "");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":"2"})"), "");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2.0})"), "");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":3})"), "");
  EXPECT_EQ(guess_mime_type(R"({})"), "");
  EXPECT_EQ(guess_mime_type(R"({"mediaType":1,"schemaVersion":1})"), "");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"config":"x"})"), "");
  EXPECT_EQ(guess_mime_type(R"({"schemaVersion":2,"manifests":[{"size":"1"}]})"), "");
  EXPECT_EQ(guess_mime_type(std::string(100000, '[')), "");
}

TEST(NormalizedMimeType, RegistryContentTypes) {
  EXPECT_EQ(normalized_mime_type("application/json"), media_type::kDockerV2Schema1Signed);
  EXPECT_EQ(normalized_mime_type("text/plain"), media_type::kDockerV2Schema1Signed);
  EXPECT_EQ(normalized_mime_type(""), media_type::kDockerV2Schema1Signed);
  for (const char* t : {media_type::kDockerV2Schema1, media_type::kDockerV2Schema1Signed, media_type::kDockerV2Schema2,
                        media_type::kDockerV2List, media_type::kOciManifest, media_type::kOciIndex}) {
    EXPECT_EQ(normalized_mime_type(t), t);
  }
}

TEST(ManifestDigest, PlainBytes) {
  std::string m = fixture("v2s2.manifest.json");
  EXPECT_EQ(manifest_digest(m), sha256_digest(m));
  // Unsigned schema 1 is hashed as is.
  std::string s1 = fixture("schema1.manifest.json");
  EXPECT_EQ(manifest_digest(s1), sha256_digest(s1));
  EXPECT_EQ(manifest_digest("not json"), sha256_digest("not json"));
}

TEST(ManifestDigest, SignedSchema1HashesThePayload) {
  // `skopeo manifest-digest` of a manifest skopeo signed.
  std::string signed_manifest = fixture("v2s2_to_schema1.manifest.json");
  std::string expected = fixture("v2s2_to_schema1.digest");
  EXPECT_EQ(manifest_digest(signed_manifest) + "\n", expected);
  std::string payload = schema1_jws_payload(signed_manifest);
  EXPECT_EQ(payload.find("signatures"), std::string::npos);
  EXPECT_EQ(payload.back(), '}');
}

std::string signed_with(const std::string& protected_json) {
  // base64url without padding of the protected header.
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string b64;
  size_t i = 0;
  const std::string& s = protected_json;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t w = (uint32_t(uint8_t(s[i])) << 16) | (uint32_t(uint8_t(s[i + 1])) << 8) | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) b64 += kB64[(w >> k) & 63];
  }
  if (s.size() - i == 1) {
    uint32_t w = uint32_t(uint8_t(s[i])) << 16;
    b64 += kB64[(w >> 18) & 63];
    b64 += kB64[(w >> 12) & 63];
  } else if (s.size() - i == 2) {
    uint32_t w = (uint32_t(uint8_t(s[i])) << 16) | (uint32_t(uint8_t(s[i + 1])) << 8);
    b64 += kB64[(w >> 18) & 63];
    b64 += kB64[(w >> 12) & 63];
    b64 += kB64[(w >> 6) & 63];
  }
  return R"({"schemaVersion":1,"name":"x","signatures":[{"header":{"alg":"ES256"},"signature":"","protected":")" +
         b64 + R"("}]})";
}

TEST(ManifestDigest, SignedSchema1FormatLengthAndTail) {
  // formatLength 25 keeps `{"schemaVersion":1,"name"`; formatTail "fQ" is "}".
  std::string m = signed_with(R"({"formatLength":25,"formatTail":"fQ"})");
  EXPECT_EQ(schema1_jws_payload(m), R"({"schemaVersion":1,"name"})");
  EXPECT_EQ(manifest_digest(m), sha256_digest(R"({"schemaVersion":1,"name"})"));
  // A fractional length truncates like Go's int(float64).
  EXPECT_EQ(schema1_jws_payload(signed_with(R"({"formatLength":25.9,"formatTail":""})")),
            R"({"schemaVersion":1,"name")");
}

TEST(ManifestDigest, MalformedSignaturesFail) {
  auto err = [](const std::string& m) {
    try {
      manifest_digest(m);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err(signed_with(R"({"formatTail":"fQ"})")), "missing formatted length");
  EXPECT_EQ(err(signed_with(R"({"formatLength":"1","formatTail":"fQ"})")), "formatted length is not a float64");
  EXPECT_EQ(err(signed_with(R"({"formatLength":1})")), "missing formatted tail");
  EXPECT_EQ(err(signed_with(R"({"formatLength":1,"formatTail":1})")), "formatted tail is not a string");
  EXPECT_EQ(err(signed_with(R"({"formatLength":100000,"formatTail":""})")), "invalid format length");
  EXPECT_EQ(err(signed_with(R"({"formatLength":-1,"formatTail":""})")), "invalid format length");
  EXPECT_EQ(err(signed_with(R"({"formatLength":1e400,"formatTail":""})")),
            "error unmarshalling protected header: json: cannot unmarshal number 1e400 into Go value of type float64");
  EXPECT_EQ(err(signed_with(R"({"formatLength":1,"formatTail":"!"})")),
            "base64 decode error on tail: illegal base64url string!");
  EXPECT_EQ(err(signed_with("[]")),
            "error unmarshalling protected header: json: cannot unmarshal array into Go value of type "
            "map[string]interface {}");
  EXPECT_EQ(err(R"({"schemaVersion":1,"signatures":[{"protected":"a"}]})"),
            "base64 decode error: illegal base64url string!");
  EXPECT_EQ(err(R"({"schemaVersion":1,"signatures":{}})"),
            "error unmarshalling signatures: json: cannot unmarshal object into Go value of type "
            "[]libtrust.jsParsedSignature");
  // GuessMIMEType matches "Signatures" case-insensitively, libtrust does not.
  EXPECT_EQ(err(R"({"schemaVersion":1,"Signatures":[]})"), "missing signature key");
  // No signatures at all: an empty payload.
  EXPECT_EQ(manifest_digest(R"({"schemaVersion":1,"signatures":[]})"), sha256_digest(""));
}

TEST(ParseImageManifest, Formats) {
  EXPECT_EQ(parse_image_manifest(fixture("v2s2.manifest.json"), "")->mime_type(), media_type::kDockerV2Schema2);
  EXPECT_EQ(parse_image_manifest(fixture("oci.manifest.json"), media_type::kOciManifest)->mime_type(),
            media_type::kOciManifest);
  EXPECT_EQ(parse_image_manifest(fixture("schema1.manifest.json"), "application/json")->mime_type(),
            media_type::kDockerV2Schema1Signed);
  EXPECT_EQ(error_of(R"({"schemaVersion":2,"manifests":[]})", media_type::kOciIndex),
            "Treating manifest lists as individual manifests is not implemented");
}

TEST(ParseImageManifest, ErrorsAsSkopeo) {
  // Messages observed from skopeo 1.9.3 `inspect` on the same documents.
  std::string oci = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    kDigestA + R"(","size":1},"layers":[],"manifests":[]})";
  EXPECT_EQ(error_of(oci, media_type::kOciManifest),
            "rejecting ambiguous manifest, unexpected fields []string{\"manifests\"} in supposedly "
            "application/vnd.oci.image.index.v1+json");
  std::string v2 = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
                   R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                   kDigestA + R"(","size":1},"layers":[{"mediaType":"application/x-foo","digest":")" + kDigestA +
                   R"(","size":1}]})";
  EXPECT_EQ(error_of(v2, ""), "unsupported docker v2s2 media type: \"application/x-foo\"");
  std::string v2_fields = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
                          R"("config":{},"layers":[],"Manifests":{},"fsLayers":1})";
  EXPECT_EQ(error_of(v2_fields, media_type::kDockerV2Schema2),
            "rejecting ambiguous manifest, unexpected fields []string{\"fsLayers\", \"manifests\"} in supposedly "
            "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(error_of(R"({"schemaVersion":2,"config":{},"layers":[]})", media_type::kDockerV2Schema2),
            "unsupported docker v2s2 media type: \"\"");
}

TEST(ParseImageManifest, InvalidDigestsNameTheField) {
  std::string layers = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
                       R"("digest":")" + kDigestA + R"(","size":1},"layers":[{"digest":")" + kDigestA +
                       R"("},{"digest":"sha256:../../etc/passwd"}]})";
  EXPECT_EQ(error_of(layers, media_type::kOciManifest),
            "layers[1].digest: invalid digest \"sha256:../../etc/passwd\": invalid checksum digest length");
  std::string config = R"({"schemaVersion":2,"config":{"digest":"md5:abc"},"layers":[]})";
  EXPECT_EQ(error_of(config, media_type::kOciManifest),
            "config.digest: invalid digest \"md5:abc\": unsupported digest algorithm");
}

TEST(ParseImageManifest, HostileInput) {
  std::string good = fixture("oci.manifest.json");
  for (size_t n = 0; n < good.size(); n += 7) {
    EXPECT_THROW(parse_image_manifest(good.substr(0, n), media_type::kOciManifest), Error) << n;
  }
  EXPECT_EQ(error_of(std::string(20000, '[') + std::string(20000, ']'), media_type::kOciManifest),
            "invalid character '[' exceeded max depth");
  EXPECT_EQ(error_of(R"({"schemaVersion":2,"layers":{}})", media_type::kOciManifest),
            "json: cannot unmarshal object into Go struct field Manifest.layers of type []v1.Descriptor");
  EXPECT_EQ(error_of(R"({"schemaVersion":2,"config":{"size":"1"}})", media_type::kOciManifest),
            "json: cannot unmarshal string into Go struct field Descriptor.config.size of type int64");
  EXPECT_THROW(parse_image_manifest("{\"schemaVersion\":1,\"name\":\"\xff\"}", ""), Error);
}

TEST(UpdatedLayerMediaType, Schema2) {
  const char* m = media_type::kDockerV2Schema2;
  EXPECT_EQ(updated_layer_media_type(m, media_type::kDockerLayerGzip, CompressionOp::kDecompress, ""),
            media_type::kDockerLayerTar);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kDockerLayerTar, CompressionOp::kCompress, "gzip"),
            media_type::kDockerLayerGzip);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kDockerForeignLayerGzip, CompressionOp::kDecompress, ""),
            media_type::kDockerForeignLayer);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kDockerLayerGzip, CompressionOp::kPreserve, ""),
            media_type::kDockerLayerGzip);
  EXPECT_THROW(updated_layer_media_type(m, media_type::kDockerLayerTar, CompressionOp::kCompress, "zstd"),
               CompressionIncompatibleError);
  EXPECT_THROW(updated_layer_media_type(m, media_type::kDockerLayerTar, CompressionOp::kCompress, "xz"),
               CompressionIncompatibleError);
  EXPECT_THROW(updated_layer_media_type(m, "application/x-foo", CompressionOp::kDecompress, ""), Error);
  EXPECT_THROW(updated_layer_media_type(m, media_type::kDockerLayerTar, CompressionOp::kCompress, ""), Error);
}

TEST(UpdatedLayerMediaType, Oci) {
  const char* m = media_type::kOciManifest;
  EXPECT_EQ(updated_layer_media_type(m, media_type::kOciLayerTar, CompressionOp::kCompress, "zstd"),
            media_type::kOciLayerZstd);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kOciLayerTar, CompressionOp::kCompress, "zstd:chunked"),
            media_type::kOciLayerZstd);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kOciLayerZstd, CompressionOp::kPreserve, "gzip"),
            media_type::kOciLayerGzip);
  EXPECT_EQ(updated_layer_media_type(m, media_type::kOciLayerNondistributableGzip, CompressionOp::kDecompress, ""),
            media_type::kOciLayerNondistributableTar);
  // Schema 1 has no layer media types to update.
  EXPECT_EQ(updated_layer_media_type(media_type::kDockerV2Schema1Signed, "", CompressionOp::kCompress, "gzip"), "");
}

TEST(GzippedEmptyLayer, MatchesItsDigest) {
  EXPECT_EQ(sha256_digest(gzipped_empty_layer()), kGzippedEmptyLayerDigest);
  EXPECT_EQ(gzipped_empty_layer().size(), 32u);
}

}  // namespace
}  // namespace ferry::manifest
