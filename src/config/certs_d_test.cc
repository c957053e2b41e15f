#include "config/certs_d.h"

#include <gtest/gtest.h>

#include <string>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

class CertsD : public ::testing::Test {
 protected:
  void SetUp() override { env_.set("HOME", dir_.path()); }
  std::string user_certs() const { return dir_.path() + "/.config/containers/certs.d"; }
  TempDir dir_{"/tmp", "certs-d-test"};
  ScopedEnv env_;
};

TEST_F(CertsD, CollectsCasAndTheClientPair) {
  const std::string d = user_certs() + "/reg.io:5000";
  write(d + "/b.crt", "pem");
  write(d + "/a.crt", "pem");
  write(d + "/client.cert", "pem");
  write(d + "/client.key", "pem");
  write(d + "/README", "pem");
  SystemContext ctx;
  EXPECT_EQ(cert_dir_for(ctx, "reg.io:5000"), d);
  net::TlsConfig tls = tls_config_for(ctx, "reg.io:5000", false);
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca_files, (std::vector<std::string>{d + "/a.crt", d + "/b.crt"}));
  EXPECT_EQ(tls.client_cert_file, d + "/client.cert");
  EXPECT_EQ(tls.client_key_file, d + "/client.key");
  // The port is part of the directory name: reg.io alone has nothing.
  tls = tls_config_for(ctx, "reg.io", false);
  EXPECT_TRUE(tls.ca_files.empty());
  EXPECT_EQ(tls.client_cert_file, "");
}

TEST_F(CertsD, CertDirIsUsedAsIs) {
  write(dir_.path() + "/mine/ca.crt", "pem");
  write(user_certs() + "/reg.io/other.crt", "pem");
  SystemContext ctx;
  ctx.cert_dir = dir_.path() + "/mine";
  EXPECT_EQ(cert_dir_for(ctx, "reg.io"), dir_.path() + "/mine");
  EXPECT_EQ(tls_config_for(ctx, "reg.io", false).ca_files,
            (std::vector<std::string>{dir_.path() + "/mine/ca.crt"}));
  ctx.cert_dir = dir_.path() + "/missing";
  EXPECT_TRUE(tls_config_for(ctx, "reg.io", false).ca_files.empty());
}

TEST_F(CertsD, FallsBackToSystemDirectories) {
  SystemContext ctx;
  // No directory exists for this host anywhere: the last candidate is named.
  EXPECT_EQ(cert_dir_for(ctx, "no-such-host.invalid:1"),
            "/etc/docker/certs.d/no-such-host.invalid:1");
}

TEST_F(CertsD, UnpairedFilesAreErrors) {
  const std::string d = dir_.path() + "/d";
  write(d + "/client.cert", "pem");
  net::TlsConfig tls;
  EXPECT_EQ(error_of([&] { add_certs_from_dir(d, &tls); }),
            "missing key client.key for client certificate client.cert. Note that CA certificates "
            "should use the "
            "extension .crt");
  const std::string e = dir_.path() + "/e";
  write(e + "/client.key", "pem");
  EXPECT_EQ(error_of([&] { add_certs_from_dir(e, &tls); }),
            "missing client certificate client.cert for key client.key");
  const std::string f = dir_.path() + "/f";
  make_dirs(f + "/dir.crt");
  EXPECT_EQ(error_of([&] { add_certs_from_dir(f, &tls); }),
            "read " + f + "/dir.crt: is a directory");
}

TEST_F(CertsD, VerifyFollowsFlagThenRegistriesConf) {
  SystemContext ctx;
  EXPECT_TRUE(tls_config_for(ctx, "r.io", false).verify);
  EXPECT_FALSE(tls_config_for(ctx, "r.io", true).verify);
  ctx.tls_verify = true;  // --tls-verify=true beats insecure = true
  EXPECT_TRUE(tls_config_for(ctx, "r.io", true).verify);
  ctx.tls_verify = false;
  EXPECT_FALSE(tls_config_for(ctx, "r.io", false).verify);
}

}  // namespace
}  // namespace ferry
