#include "net/trust_store.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "config/test_env.h"
#include "net/cert_subject.h"
#include "util/error.h"

namespace ferry::net {
namespace {

// A certificate for CN=`cn` with a fresh key, signed by `issuer` (or by
// itself), a CA or not.
struct Cert {
  X509* x = nullptr;
  EVP_PKEY* key = nullptr;
  Cert() = default;
  Cert(const Cert&) = delete;
  Cert& operator=(const Cert&) = delete;
  ~Cert() {
    X509_free(x);
    EVP_PKEY_free(key);
  }
  std::string pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }
};

void issue(Cert& c, const std::string& cn, const Cert* issuer, bool ca, long serial) {
  c.key = EVP_EC_gen("P-256");
  c.x = X509_new();
  X509_set_version(c.x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.x), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.x), -60);
  X509_gmtime_adj(X509_getm_notAfter(c.x), 3600);
  X509_set_pubkey(c.x, c.key);
  X509_NAME* name = X509_get_subject_name(c.x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.x, issuer ? X509_get_subject_name(issuer->x) : name);
  // Key identifiers, as real CAs have them: they are what lets OpenSSL tell
  // two CAs of the same name apart.
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer->x : c.x, c.x, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {
      {NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(c.x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(c.x, issuer ? issuer->key : c.key, EVP_sha256());
}

// X509_verify_cert of `leaf` with `intermediates` as the server would send
// them, against `store`.
bool verifies(X509_STORE* store, const Cert& leaf, std::initializer_list<const Cert*> intermediates) {
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const Cert* c : intermediates) sk_X509_push(chain, c->x);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf.x, chain);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  sk_X509_free(chain);
  ERR_clear_error();
  return ok;
}

// A self-signed CA certificate for CN=`cn`, as PEM.
std::string make_cert_pem(const std::string& cn) {
  Cert c;
  issue(c, cn, nullptr, true, 1);
  return c.pem();
}

class TrustStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    a_ = new std::string(make_cert_pem("ca-a"));
    b_ = new std::string(make_cert_pem("ca-b"));
  }
  static void TearDownTestSuite() {
    delete a_;
    delete b_;
  }
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-trust-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static const std::string& a() { return *a_; }
  static const std::string& b() { return *b_; }
  std::string dir_;
  static inline std::string* a_ = nullptr;
  static inline std::string* b_ = nullptr;
};

TEST_F(TrustStoreTest, KeepsEveryCertificateInOrder) {
  EXPECT_EQ(certificates_pem(a() + b()), a() + b());
  EXPECT_EQ(certificates_pem(b() + a()), b() + a());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TrustStoreTest, SkipsWhatIsNotACertificate) {
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(certificates_pem("comment line\n" + a() + "text between\n" + key + b() + "trailing"), a() + b());
  // Not base64 / base64 of something that is not a certificate.
  EXPECT_EQ(certificates_pem(a() + "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n" + b()),
            a() + b());
  EXPECT_EQ(certificates_pem(a() + "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n" + b()),
            a() + b());
  // A block cut short at the end of the file.
  EXPECT_EQ(certificates_pem(a() + b().substr(0, b().size() / 2)), a());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TrustStoreTest, HostileInputGivesNothing) {
  EXPECT_EQ(certificates_pem(""), "");
  EXPECT_EQ(certificates_pem(std::string("\0\0\xff\x30\x82", 5)), "");
  EXPECT_EQ(certificates_pem("-----BEGIN CERTIFICATE-----"), "");
  EXPECT_EQ(certificates_pem("-----BEGIN CERTIFICATE-----\n" + std::string(1 << 20, 'A') + "\n"), "");
  EXPECT_EQ(certificates_pem(std::string(100000, '-')), "");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TrustStoreTest, OneStorePerConfigurationPerProcess) {
  const std::string fa = write("a.crt", a());
  const std::string fb = write("b.crt", "junk\n" + b());
  const TrustStore& both = trust_store({fa, fb});
  EXPECT_EQ(both.extras_pem, a() + b());
  EXPECT_NE(both.store, nullptr);
  EXPECT_EQ(&trust_store({fa, fb}), &both);
  EXPECT_NE(&trust_store({fa}), &both);
  EXPECT_EQ(trust_store({fa}).extras_pem, a());
  // Extra files without a certificate add nothing to tell apart.
  EXPECT_EQ(trust_store({write("empty.crt", "")}).extras_pem, "");
}

// The system bundle is indexed, not decoded: chains must still find their
// anchors in it, through the lookup.
TEST_F(TrustStoreTest, ChainsFindTheirAnchorsInTheBundle) {
  Cert root, inter, leaf, other_root, other_leaf;
  issue(root, "root", nullptr, true, 1);
  issue(inter, "intermediate", &root, true, 2);
  issue(leaf, "127.0.0.1", &inter, false, 3);
  issue(other_root, "other root", nullptr, true, 4);
  issue(other_leaf, "other", &other_root, false, 5);
  ScopedEnv env;
  env.set("SSL_CERT_FILE", write("bundle.pem", "# header\n" + a() + root.pem() + b()));
  env.set("SSL_CERT_DIR", std::nullopt);
  X509_STORE* store = trust_store({}).store;
  EXPECT_TRUE(verifies(store, leaf, {&inter}));
  EXPECT_TRUE(verifies(store, leaf, {&inter}));  // now from the store's cache
  EXPECT_FALSE(verifies(store, leaf, {}));       // the intermediate is nowhere
  EXPECT_FALSE(verifies(store, other_leaf, {}));

  // An intermediate in the bundle is an anchor of its own (partial chains,
  // as libcurl sets them up and as Go's roots behave).
  env.set("SSL_CERT_FILE", write("inter.pem", inter.pem()));
  EXPECT_TRUE(verifies(trust_store({}).store, leaf, {}));

  // An extra CA with the subject of a bundle certificate, but another key,
  // must not hide the bundle's.
  Cert twin;
  issue(twin, "root", nullptr, true, 6);
  env.set("SSL_CERT_FILE", write("bundle2.pem", root.pem()));
  EXPECT_TRUE(verifies(trust_store({write("twin.crt", twin.pem())}).store, leaf, {&inter}));
}

TEST(CertSubject, FindsTheSubjectOrNothing) {
  Cert c;
  issue(c, "subject-cn", nullptr, true, 7);
  unsigned char* der = nullptr;
  const int n = i2d_X509(c.x, &der);
  ASSERT_GT(n, 0);
  const std::string d(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  unsigned char* want = nullptr;
  const int wn = i2d_X509_NAME(X509_get_subject_name(c.x), &want);
  const std::string subject(reinterpret_cast<char*>(want), static_cast<size_t>(wn));
  OPENSSL_free(want);
  auto got = certificate_subject_der(d);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, subject);
  // Every truncation fails cleanly, as do empty and indefinite-length input.
  for (size_t len = 0; len < d.size(); ++len) EXPECT_FALSE(certificate_subject_der(d.substr(0, len))) << len;
  EXPECT_FALSE(certificate_subject_der(std::string("\x30\x80\x30\x80\x00\x00", 6)));
  EXPECT_FALSE(certificate_subject_der(std::string("\x30\x84\xff\xff\xff\xff", 6)));
  EXPECT_FALSE(certificate_subject_der(std::string("\x30\x03\x1f\x81\x01", 5)));
  // The same shape with the fields in the wrong order.
  std::string swapped = d;
  const size_t version = d.find(std::string("\xa0\x03\x02\x01\x02", 5));  // [0] { INTEGER 2 }
  ASSERT_NE(version, std::string::npos);
  ASSERT_EQ(d[version + 5], '\x02');  // serialNumber INTEGER
  swapped[version + 5] = '\x04';
  EXPECT_FALSE(certificate_subject_der(swapped));
}

TEST_F(TrustStoreTest, UnreadableExtraFileIsAnError) {
  try {
    trust_store({dir_ + "/missing.crt"});
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("reading CA certificate: ", 0), 0u) << what;
    EXPECT_NE(what.find(dir_ + "/missing.crt"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace ferry::net
