#include "image/policy.h"

#include <variant>

#include "util/error.h"

namespace ferry {
namespace {

[[noreturn]] void verification_unsupported(const PolicyImage& image, std::string_view type) {
  throw Error("cannot verify " + image.display +
              ": signature verification is not supported yet by ferry (policy requirement \"" +
              std::string(type) + "\")");
}

// One requirement's verdict: returns to accept, throws the reason to reject.
struct Evaluator {
  const PolicyImage& image;
  const SignatureVerifier* verifier;

  void operator()(const InsecureAcceptAnythingRequirement&) const {}

  void operator()(const RejectRequirement&) const {
    throw Error("Running image " + image.display + " is rejected by policy.");
  }

  void operator()(const SignedByRequirement& r) const {
    if (verifier == nullptr) verification_unsupported(image, "signedBy");
    verifier->verify(r, image);
  }

  void operator()(const SigstoreSignedRequirement& r) const {
    if (verifier == nullptr) verification_unsupported(image, "sigstoreSigned");
    verifier->verify(r, image);
  }

  // c/image never implemented it and always rejects; so does ferry.
  void operator()(const SignedBaseLayerRequirement&) const {
    throw Error("signedBaseLayer not implemented yet!");
  }
};

}  // namespace

const PolicyRequirements& requirements_for(const Policy& policy, const PolicyImage& image) {
  auto transport = policy.transports.find(image.transport);
  if (transport != policy.transports.end()) {
    const PolicyTransportScopes& scopes = transport->second;
    if (auto it = scopes.find(image.identity); it != scopes.end()) return it->second;
    for (const std::string& ns : image.namespaces) {
      if (auto it = scopes.find(ns); it != scopes.end()) return it->second;
    }
    if (auto it = scopes.find(""); it != scopes.end()) return it->second;
  }
  return policy.default_requirements;
}

void check_image_allowed(const Policy& policy, const PolicyImage& image,
                         const SignatureVerifier* verifier) {
  const PolicyRequirements& requirements = requirements_for(policy, image);
  try {
    // Parsing forbids empty lists; a hand-built Policy must not slip through.
    if (requirements.empty()) {
      throw Error("List of verification policy requirements must not be empty");
    }
    for (const PolicyRequirement& requirement : requirements) {
      std::visit(Evaluator{image, verifier}, requirement.spec);
    }
  } catch (const Error& e) {
    rethrow_with_context("Source image rejected", e);
  }
}

}  // namespace ferry
