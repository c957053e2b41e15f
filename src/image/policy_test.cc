#include "image/policy.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace ferry {
namespace {

// A policy whose every scope holds a single reject requirement, except where
// noted, so requirements_for's choice is visible by address.
const char kScopedPolicy[] = R"({
  "default": [{"type": "reject"}],
  "transports": {
    "docker": {
      "": [{"type": "reject"}],
      "*.io": [{"type": "reject"}],
      "docker.io": [{"type": "reject"}],
      "docker.io/library": [{"type": "reject"}],
      "docker.io/library/busybox": [{"type": "reject"}],
      "docker.io/library/busybox:latest": [{"type": "insecureAcceptAnything"}]
    },
    "dir": {
      "/srv": [{"type": "insecureAcceptAnything"}]
    }
  }
})";

PolicyImage busybox(const std::string& tag) {
  return PolicyImage{"docker",
                     "docker.io/library/busybox:" + tag,
                     {"docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"},
                     "docker://busybox:" + tag};
}

std::string rejection(const Policy& policy, const PolicyImage& image,
                      const SignatureVerifier* verifier = nullptr) {
  try {
    check_image_allowed(policy, image, verifier);
    return "ACCEPTED";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Policy, ExactIdentityWinsOverNamespaces) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  const PolicyTransportScopes& docker = p.transports.at("docker");
  EXPECT_EQ(&requirements_for(p, busybox("latest")), &docker.at("docker.io/library/busybox:latest"));
}

TEST(Policy, MostSpecificNamespaceWins) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  PolicyTransportScopes& docker = p.transports.at("docker");
  PolicyImage image = busybox("1.36");
  EXPECT_EQ(&requirements_for(p, image), &docker.at("docker.io/library/busybox"));
  docker.erase("docker.io/library/busybox");
  EXPECT_EQ(&requirements_for(p, image), &docker.at("docker.io/library"));
  docker.erase("docker.io/library");
  EXPECT_EQ(&requirements_for(p, image), &docker.at("docker.io"));
  docker.erase("docker.io");
  EXPECT_EQ(&requirements_for(p, image), &docker.at("*.io"));
  docker.erase("*.io");
  EXPECT_EQ(&requirements_for(p, image), &docker.at(""));
  docker.erase("");
  EXPECT_EQ(&requirements_for(p, image), &p.default_requirements);
}

TEST(Policy, NamespacesAreSearchedInTheGivenOrder) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  PolicyImage image = busybox("1.36");
  image.namespaces = {"*.io", "docker.io/library/busybox"};
  EXPECT_EQ(&requirements_for(p, image), &p.transports.at("docker").at("*.io"));
}

TEST(Policy, OtherTransportsUseTheirOwnSectionOrDefault) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  PolicyImage dir{"dir", "/srv/images/a", {"/srv/images", "/srv"}, "dir:/srv/images/a"};
  EXPECT_EQ(&requirements_for(p, dir), &p.transports.at("dir").at("/srv"));
  // A transport section without a matching scope and without "" falls back
  // to the default, not to another transport's "".
  PolicyImage elsewhere{"dir", "/var/x", {"/var"}, "dir:/var/x"};
  EXPECT_EQ(&requirements_for(p, elsewhere), &p.default_requirements);
  PolicyImage oci{"oci", "/srv/x:t", {"/srv/x", "/srv"}, "oci:/srv/x:t"};
  EXPECT_EQ(&requirements_for(p, oci), &p.default_requirements);
  // Scope keys are matched per transport: the docker "" does not leak.
  PolicyImage archive{"docker-archive", "", {}, "docker-archive:/a.tar"};
  EXPECT_EQ(&requirements_for(p, archive), &p.default_requirements);
}

TEST(Policy, AcceptsWhenEveryRequirementAccepts) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  EXPECT_EQ(rejection(p, busybox("latest")), "ACCEPTED");
  EXPECT_EQ(rejection(insecure_accept_anything_policy(), busybox("x")), "ACCEPTED");
}

TEST(Policy, RejectNamesTheImage) {
  Policy p = parse_policy(kScopedPolicy, "p.json");
  EXPECT_EQ(rejection(p, busybox("1.36")),
            "Source image rejected: Running image docker://busybox:1.36 is rejected by policy.");
  PolicyImage dir{"dir", "/var/x", {"/var"}, "dir:/var/x"};
  EXPECT_EQ(rejection(p, dir),
            "Source image rejected: Running image dir:/var/x is rejected by policy.");
}

TEST(Policy, AllRequirementsMustAcceptInOrder) {
  Policy p = parse_policy(
      R"({"default":[{"type":"insecureAcceptAnything"},{"type":"reject"},
                     {"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]})",
      "p.json");
  EXPECT_EQ(rejection(p, busybox("latest")),
            "Source image rejected: Running image docker://busybox:latest is rejected by policy.");
}

TEST(Policy, SignatureRequirementsFailClosedWithoutAVerifier) {
  Policy signed_by = parse_policy(
      R"({"default":[{"type":"insecureAcceptAnything"},
                     {"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]})",
      "p.json");
  EXPECT_EQ(rejection(signed_by, busybox("latest")),
            "Source image rejected: cannot verify docker://busybox:latest: signature "
            "verification is not supported yet by ferry (policy requirement \"signedBy\")");

  Policy sigstore =
      parse_policy(R"({"default":[{"type":"sigstoreSigned","keyPath":"/k.pub"}]})", "p.json");
  EXPECT_EQ(rejection(sigstore, busybox("latest")),
            "Source image rejected: cannot verify docker://busybox:latest: signature "
            "verification is not supported yet by ferry (policy requirement \"sigstoreSigned\")");
}

TEST(Policy, SignedBaseLayerAlwaysRejects) {
  Policy p = parse_policy(
      R"({"default":[{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchRepository"}}]})",
      "p.json");
  EXPECT_EQ(rejection(p, busybox("latest")),
            "Source image rejected: signedBaseLayer not implemented yet!");
}

// Stands in for the verifier the copy engine will supply.
class FakeVerifier : public SignatureVerifier {
 public:
  explicit FakeVerifier(bool accept) : accept_(accept) {}
  void verify(const SignedByRequirement& r, const PolicyImage& image) const override {
    ++calls;
    last_key = r.key_path;
    decide(image);
  }
  void verify(const SigstoreSignedRequirement& r, const PolicyImage& image) const override {
    ++calls;
    last_key = r.key_path;
    decide(image);
  }
  mutable int calls = 0;
  mutable std::string last_key;

 private:
  void decide(const PolicyImage&) const {
    if (!accept_) throw Error("A signature was required, but no signature exists");
  }
  bool accept_;
};

TEST(Policy, VerifierDecidesSignatureRequirements) {
  Policy p = parse_policy(
      R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/gpg"},
                     {"type":"sigstoreSigned","keyPath":"/cosign.pub"}]})",
      "p.json");
  FakeVerifier yes(true);
  EXPECT_EQ(rejection(p, busybox("latest"), &yes), "ACCEPTED");
  EXPECT_EQ(yes.calls, 2);
  EXPECT_EQ(yes.last_key, "/cosign.pub");

  FakeVerifier no(false);
  EXPECT_EQ(rejection(p, busybox("latest"), &no),
            "Source image rejected: A signature was required, but no signature exists");
  EXPECT_EQ(no.calls, 1);  // stops at the first rejection
  EXPECT_EQ(no.last_key, "/gpg");

  // A reject before a signature requirement never consults the verifier.
  Policy rejecting = parse_policy(
      R"({"default":[{"type":"reject"},{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]})",
      "p.json");
  FakeVerifier unused(true);
  EXPECT_EQ(rejection(rejecting, busybox("latest"), &unused),
            "Source image rejected: Running image docker://busybox:latest is rejected by policy.");
  EXPECT_EQ(unused.calls, 0);

  // Even with a verifier, signedBaseLayer rejects.
  Policy base = parse_policy(
      R"({"default":[{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"}}]})",
      "p.json");
  EXPECT_EQ(rejection(base, busybox("latest"), &yes),
            "Source image rejected: signedBaseLayer not implemented yet!");
}

TEST(Policy, VerifierErrorsKeepTheirExitCode) {
  class NotFoundVerifier : public SignatureVerifier {
   public:
    void verify(const SignedByRequirement&, const PolicyImage&) const override {
      throw NotFoundError("manifest unknown");
    }
    void verify(const SigstoreSignedRequirement&, const PolicyImage&) const override {}
  } verifier;
  Policy p = parse_policy(R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]})",
                          "p.json");
  try {
    check_image_allowed(p, busybox("latest"), &verifier);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Source image rejected: manifest unknown");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(Policy, HandBuiltEmptyListRejects) {
  Policy p;  // never produced by parse_policy, which refuses empty lists
  EXPECT_EQ(rejection(p, busybox("latest")),
            "Source image rejected: List of verification policy requirements must not be empty");
  p.transports["docker"][""] = {};
  p.default_requirements = insecure_accept_anything_policy().default_requirements;
  EXPECT_EQ(rejection(p, busybox("latest")),
            "Source image rejected: List of verification policy requirements must not be empty");
}

}  // namespace
}  // namespace ferry
