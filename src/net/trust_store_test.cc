#include "net/trust_store.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "util/error.h"

namespace ferry::net {
namespace {

// A self-signed P-256 certificate for CN=`cn`, as PEM.
std::string make_cert_pem(const std::string& cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
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
