// containers-policy.json(5): the trust policy that decides which images
// copy/sync accept.
//
// Parsing is as strict as containers/image's: an unknown or duplicate key, a
// wrong type or an empty requirement list rejects the whole file, because a
// typo silently ignored in a security policy is a hole. Error texts follow
// c/image (Go encoding/json wording included) so scripts and users see what
// skopeo would print.
//
// Requirements are plain data here; image/policy.h evaluates them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry {

// signedIdentity / baseLayerIdentity: which identity inside a signature is
// accepted for an image. Strings are kept as written; they were validated.
struct SignedIdentity {
  enum class Type {
    kMatchExact,
    kMatchRepoDigestOrExact,
    kMatchRepository,
    kExactReference,   // docker_reference
    kExactRepository,  // docker_repository
    kRemapIdentity,    // prefix, signed_prefix
  };
  Type type = Type::kMatchRepoDigestOrExact;
  std::string docker_reference;
  std::string docker_repository;
  std::string prefix;
  std::string signed_prefix;
};

// The policy.json "type" string of an identity match ("matchExact", ...).
std::string_view signed_identity_type_name(SignedIdentity::Type type);

struct InsecureAcceptAnythingRequirement {};

struct RejectRequirement {};

// "signedBy": simple-signing (GPG) signatures. Exactly one key source is set:
// key_path non-empty, key_paths present, or key_data present (decoded bytes).
struct SignedByRequirement {
  std::string key_type;  // GPGKeys, signedByGPGKeys, X509Certificates, signedByX509CAs
  std::string key_path;
  std::optional<std::vector<std::string>> key_paths;
  std::optional<std::string> key_data;
  SignedIdentity signed_identity;
};

struct SigstoreFulcio {
  std::string ca_path;
  std::optional<std::string> ca_data;
  std::string oidc_issuer;
  std::string subject_email;
  std::string build_signer_uri;
};

struct SigstorePki {
  std::string ca_roots_path;
  std::optional<std::string> ca_roots_data;
  std::string ca_intermediates_path;
  std::optional<std::string> ca_intermediates_data;
  std::string subject_email;
  std::string subject_hostname;
};

// "sigstoreSigned": cosign-style signatures. Exactly one of key_path,
// key_paths, key_data, key_datas, fulcio, pki; at most one rekor key source.
struct SigstoreSignedRequirement {
  std::string key_path;
  std::optional<std::vector<std::string>> key_paths;
  std::optional<std::string> key_data;
  std::optional<std::vector<std::string>> key_datas;
  std::optional<SigstoreFulcio> fulcio;
  std::optional<SigstorePki> pki;
  std::string rekor_public_key_path;
  std::optional<std::vector<std::string>> rekor_public_key_paths;
  std::optional<std::string> rekor_public_key_data;
  std::optional<std::vector<std::string>> rekor_public_key_datas;
  SignedIdentity signed_identity;
};

// Defined by the format, never implemented by c/image: always rejects.
struct SignedBaseLayerRequirement {
  SignedIdentity base_layer_identity;
};

struct PolicyRequirement {
  std::variant<InsecureAcceptAnythingRequirement, RejectRequirement, SignedByRequirement,
               SigstoreSignedRequirement, SignedBaseLayerRequirement>
      spec;

  // The policy.json "type" string ("insecureAcceptAnything", "signedBy", ...).
  std::string_view type_name() const;
};

using PolicyRequirements = std::vector<PolicyRequirement>;

// Scope ("" is the transport-wide default) -> requirements.
using PolicyTransportScopes = std::map<std::string, PolicyRequirements, std::less<>>;

struct Policy {
  PolicyRequirements default_requirements;  // never empty after parsing
  std::map<std::string, PolicyTransportScopes, std::less<>> transports;
};

// Larger files are refused unread: a real policy is a few KiB.
inline constexpr std::size_t kMaxPolicyFileSize = 4 << 20;

// Parses policy.json text. Errors: ferry::Error
// `invalid policy in "SOURCE": <reason>` with c/image's reason texts.
Policy parse_policy(std::string_view json, const std::string& source_name);

// What --insecure-policy uses: {"default":[{"type":"insecureAcceptAnything"}]}.
Policy insecure_accept_anything_policy();

// $HOME/.config/containers/policy.json if it exists, else
// /etc/containers/policy.json (which may not exist).
std::string default_policy_path();

// Reads and parses one file. Errors as skopeo 1.9.3 prints them:
// `open PATH: no such file or directory`, `read PATH: is a directory`,
// `invalid policy in "PATH": ...`.
Policy read_policy_file(const std::string& path);

// The global --policy / --insecure-policy flags. --insecure-policy wins and
// reads no file; an empty or absent --policy means default_policy_path().
// Errors carry skopeo's context: `Error loading trust policy: ...`.
Policy load_policy(const std::optional<std::string>& path_flag, bool insecure_policy);

}  // namespace ferry
