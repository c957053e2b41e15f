#include "image/manifest/schema1.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "image/manifest/media_types.h"
#include "image/manifest/test_fixtures.h"
#include "io/digest.h"
#include "util/go_base64.h"

namespace ferry::manifest {
namespace {

using test_data::fixture;

using gojson::Json;

std::string id(char c) { return std::string(64, c); }
std::string digest(char c) { return "sha256:" + std::string(64, c); }

std::string manifest_with(const std::vector<std::pair<std::string, std::string>>& layers_and_compat) {
  Json m = Json::object();
  m["schemaVersion"] = 1;
  m["fsLayers"] = Json::array();
  m["history"] = Json::array();
  for (const auto& [blob, compat] : layers_and_compat) {
    m["fsLayers"].push_back(Json{{"blobSum", blob}});
    m["history"].push_back(Json{{"v1Compatibility", compat}});
  }
  return m.dump();
}

std::string parse_error(const std::string& bytes) {
  try {
    Schema1Manifest::parse(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<unsigned char> b64url(std::string s) {
  while (s.size() % 4) s += '=';
  const std::string v = go_base64_decode(s, true);
  return {v.begin(), v.end()};
}

// Verifies a libtrust ES256 JWS signature with the key in its own JWK,
// as docker/distribution does on push.
bool signature_verifies(const std::string& signed_manifest) {
  Json doc = Json::parse(signed_manifest);
  const Json& sig = doc["signatures"][0];
  const Json& jwk = sig["header"]["jwk"];
  std::vector<unsigned char> x = b64url(jwk["x"]), y = b64url(jwk["y"]);
  std::vector<unsigned char> point{0x04};
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(pctx);
  EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  std::vector<unsigned char> rs = b64url(sig["signature"]);
  ECDSA_SIG* esig = ECDSA_SIG_new();
  ECDSA_SIG_set0(esig, BN_bin2bn(rs.data(), 32, nullptr), BN_bin2bn(rs.data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(esig, &der);
  std::string payload = schema1_jws_payload(signed_manifest);
  std::vector<unsigned char> p(payload.begin(), payload.end());
  std::string payload_b64;
  {
    static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i = 0;
    for (; i + 3 <= p.size(); i += 3) {
      uint32_t w = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
      for (int k = 18; k >= 0; k -= 6) payload_b64 += kB64[(w >> k) & 63];
    }
    if (p.size() - i == 1) {
      uint32_t w = uint32_t(p[i]) << 16;
      payload_b64 += kB64[(w >> 18) & 63];
      payload_b64 += kB64[(w >> 12) & 63];
    } else if (p.size() - i == 2) {
      uint32_t w = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
      payload_b64 += kB64[(w >> 18) & 63];
      payload_b64 += kB64[(w >> 12) & 63];
      payload_b64 += kB64[(w >> 6) & 63];
    }
  }
  std::string input = sig["protected"].get<std::string>() + "." + payload_b64;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(esig);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return ok;
}

TEST(Schema1Manifest, Accessors) {
  std::string bytes = fixture("schema1.manifest.json");
  auto m = Schema1Manifest::parse(bytes);
  EXPECT_EQ(m->mime_type(), media_type::kDockerV2Schema1Signed);
  EXPECT_EQ(m->serialize(), bytes);
  EXPECT_EQ(m->name(), "library/test");
  EXPECT_EQ(m->tag(), "v1");
  EXPECT_EQ(m->architecture(), "amd64");
  EXPECT_EQ(m->config_info().digest, "");
  std::vector<LayerInfo> layers = m->layer_infos();
  ASSERT_EQ(layers.size(), 4u);
  // Base first; the newest (first in fsLayers) is a throwaway entry.
  EXPECT_EQ(layers[0].desc.digest, "sha256:94079e38388287b09eefbbea8f5b47520ab0f78ecacca1f88a686bd95aa1f095");
  EXPECT_EQ(layers[3].desc.digest, kGzippedEmptyLayerDigest);
  EXPECT_TRUE(layers[3].empty_layer);
  EXPECT_FALSE(layers[0].empty_layer);
  EXPECT_EQ(layers[0].desc.size, -1);
  EXPECT_EQ(layers[0].desc.media_type, "");
}

TEST(Schema1Manifest, ConsecutiveDuplicateIdsCollapse) {
  std::string base = R"({"id":")" + id('a') + R"("})";
  std::string top = R"({"id":")" + id('b') + R"(","parent":")" + id('a') + R"("})";
  auto m = Schema1Manifest::parse(manifest_with({{digest('3'), top}, {digest('2'), base}, {digest('1'), base}}));
  EXPECT_EQ(m->fs_layers(), (std::vector<std::string>{digest('3'), digest('1')}));
  EXPECT_EQ(m->layer_infos().size(), 2u);
}

TEST(Schema1Manifest, ValidationErrors) {
  std::string base = R"({"id":")" + id('a') + R"("})";
  EXPECT_EQ(parse_error(R"({"schemaVersion":1,"fsLayers":[{"blobSum":"x"}],"history":[]})"),
            "length of history not equal to number of layers");
  EXPECT_EQ(parse_error(R"({"schemaVersion":1,"fsLayers":[],"history":[]})"), "no FSLayers in manifest");
  EXPECT_EQ(parse_error(R"({"schemaVersion":2})"), "unsupported schema version 2");
  EXPECT_EQ(parse_error(manifest_with({{digest('1'), R"({"id":"short"})"}})), "image ID \"short\" is invalid");
  EXPECT_EQ(parse_error(manifest_with({{digest('1'), R"({"id":")" + id('a') + R"(","parent":")" + id('b') + "\"}"}})),
            "Invalid parent ID in the base layer of the image");
  std::string wrong_parent = R"({"id":")" + id('b') + R"(","parent":")" + id('c') + R"("})";
  EXPECT_EQ(parse_error(manifest_with({{digest('2'), wrong_parent}, {digest('1'), base}})),
            "Invalid parent ID. Expected " + id('a') + ", got " + id('c'));
  std::string mid = R"({"id":")" + id('b') + R"(","parent":")" + id('a') + R"("})";
  EXPECT_EQ(parse_error(manifest_with({{digest('3'), base}, {digest('2'), mid}, {digest('1'), base}})),
            "ID " + id('a') + " appears multiple times in manifest");
  EXPECT_EQ(parse_error(manifest_with({{digest('1'), "{"}})),
            "parsing v2s1 history entry 0: unexpected end of JSON input");
  EXPECT_EQ(parse_error(manifest_with({{digest('1'), R"({"id":")" + id('a') + R"(","created":"yesterday"})"}})),
            "parsing v2s1 history entry 0: parsing time \"\\\"yesterday\\\"\" as "
            "\"\\\"2006-01-02T15:04:05Z07:00\\\"\": cannot parse \"yesterday\\\"\" as \"2006\"");
  EXPECT_EQ(parse_error(manifest_with({{"sha256:x", base}})),
            "fsLayers[0].blobSum: invalid digest \"sha256:x\": invalid checksum digest length");
  EXPECT_EQ(parse_error(R"({"schemaVersion":1,"fsLayers":[{"blobSum":")" + digest('1') +
                        R"("}],"history":[{"v1Compatibility":"{\"id\":\")" + id('a') + R"(\"}"}],"layers":[]})"),
            "rejecting ambiguous manifest, unexpected fields []string{\"layers\"} in supposedly "
            "application/vnd.docker.distribution.manifest.v1+prettyjws");
}

TEST(Schema1Manifest, UpdateSignsAFreshManifest) {
  auto m = Schema1Manifest::parse(fixture("schema1.manifest.json"));
  std::vector<LayerInfo> infos = m->layer_infos();
  std::vector<Descriptor> layers;
  for (const LayerInfo& l : infos) layers.push_back(l.desc);
  layers[0].digest = digest('9');
  m->update_layer_infos(layers);
  EXPECT_EQ(m->fs_layers().back(), digest('9'));
  std::string out = m->serialize();
  EXPECT_EQ(guess_mime_type(out), media_type::kDockerV2Schema1Signed);
  // The digest is that of the unsigned JSON; the manifest parses back.
  EXPECT_EQ(manifest_digest(out), sha256_digest(m->unsigned_json()));
  EXPECT_EQ(out.substr(0, m->unsigned_json().size() - 1),
            m->unsigned_json().substr(0, m->unsigned_json().size() - 1));
  auto back = Schema1Manifest::parse(out);
  EXPECT_EQ(back->fs_layers(), m->fs_layers());
  Json doc = Json::parse(out);
  const Json& sig = doc["signatures"][0];
  EXPECT_EQ(sig["header"]["alg"], "ES256");
  EXPECT_EQ(sig["header"]["jwk"]["kty"], "EC");
  EXPECT_EQ(sig["header"]["jwk"]["crv"], "P-256");
  EXPECT_EQ(sig["header"]["jwk"]["kid"].get<std::string>().size(), 59u);  // 12 groups of 4, 11 colons
  EXPECT_TRUE(signature_verifies(out));
  EXPECT_THROW(m->update_layer_infos({}), Error);
}

TEST(Schema1Manifest, SkopeoSignatureVerifies) {
  EXPECT_TRUE(signature_verifies(fixture("v2s2_to_schema1.manifest.json")));
}

TEST(Schema1Manifest, SignatureOfIndentedContent) {
  std::string content = "{\n   \"a\": 1\n}\n";
  std::string out = add_dummy_schema1_signature(content);
  EXPECT_EQ(out.substr(0, 13), "{\n   \"a\": 1,\n");
  EXPECT_EQ(out.substr(13, 17), "   \"signatures\": ");
  EXPECT_EQ(schema1_jws_payload(out), content);
  EXPECT_THROW(add_dummy_schema1_signature("[]"), Error);
  EXPECT_THROW(add_dummy_schema1_signature("{\"a\":1,}"), Error);
}

TEST(Schema1Manifest, SetReference) {
  auto m = Schema1Manifest::parse(fixture("schema1.manifest.json"));
  m->set_reference("other/repo", "latest");
  std::string out = m->serialize();
  EXPECT_EQ(out.rfind("{\"name\":\"other/repo\",\"tag\":\"latest\",\"architecture\":\"amd64\",", 0), 0u);
}

}  // namespace
}  // namespace ferry::manifest
