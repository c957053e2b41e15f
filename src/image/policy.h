// Trust-policy evaluation: may this image be copied? (c/image policy_eval.go)
//
// The requirements that apply to an image are those of the single most
// specific scope; the image is accepted only if every one of them accepts.
// Requirements that need signatures fail closed: without a SignatureVerifier
// they reject, never accept.
#pragma once

#include <string>
#include <vector>

#include "config/policy_file.h"

namespace ferry {

// What the evaluator needs from an ImageReference.
struct PolicyImage {
  std::string transport;                // "docker", "dir", "oci", ...
  std::string identity;                 // ImageReference::policy_identity()
  std::vector<std::string> namespaces;  // most specific first, without ""
  std::string display;                  // "docker://busybox:latest", for messages
};

// Checks an image's signatures for the requirements that need them. An
// implementation is bound to one image (its manifest and signatures, read
// from the ImageSource) and returns normally only when at least one
// signature satisfies the requirement; otherwise it throws ferry::Error with
// c/image's reason, e.g. "A signature was required, but no signature exists".
class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  virtual void verify(const SignedByRequirement& requirement, const PolicyImage& image) const = 0;
  virtual void verify(const SigstoreSignedRequirement& requirement,
                      const PolicyImage& image) const = 0;
};

// The transport's section: the exact identity, then each namespace in order,
// then ""; without a match (or section), the policy's default.
const PolicyRequirements& requirements_for(const Policy& policy, const PolicyImage& image);

// Returns if the policy accepts the image, else throws ferry::Error
// "Source image rejected: <reason>", e.g.
//   Source image rejected: Running image docker://x:latest is rejected by policy.
// verifier may be nullptr: signature requirements then reject.
void check_image_allowed(const Policy& policy, const PolicyImage& image,
                         const SignatureVerifier* verifier);

}  // namespace ferry
