// Fuzzes the reference parsers: they must never crash, and whatever they
// accept must print back to a string that parses to the same value (the
// transports rely on that for StringWithinTransport).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "image/docker_reference.h"
#include "image/reference_grammar.h"
#include "io/digest.h"
#include "util/error.h"

namespace {

void check(bool ok) {
  if (!ok) abort();
}

void docker(std::string_view s) {
  try {
    ferry::DockerReference r = ferry::parse_normalized_named(s);
    check(ferry::parse_normalized_named(r.to_string()) == r);
    check(ferry::parse_normalized_named(r.familiar_string()) == r);
    check(!r.path.empty() && r.name().size() <= 255);
    if (r.tag && !r.digest) check(ferry::policy_identity(r) == r.to_string());
    check(ferry::policy_namespaces(r).front() == r.name());
  } catch (const ferry::Error&) {
  }
  try {
    ferry::DockerReference r = ferry::parse_docker_reference_for_transport(s);
    check(r.tag.has_value() != r.digest.has_value());
    check(ferry::parse_docker_reference_for_transport(r.to_string()) == r);
  } catch (const ferry::Error&) {
  }
}

void oci(std::string_view s, bool allow_index) {
  try {
    ferry::OciRefParts p = ferry::parse_oci_reference(s, allow_index);
    check(p.path.find(':') == std::string::npos);
    std::string again = p.path;
    if (!p.ref.empty()) again += ":" + p.ref;
    if (p.index >= 0) again += ":@" + std::to_string(p.index);
    check(ferry::parse_oci_reference(again, allow_index) == p);
  } catch (const ferry::Error&) {
  }
}

void archive(std::string_view s) {
  try {
    ferry::DockerArchiveRefParts p = ferry::parse_docker_archive_reference(s);
    std::string again = p.path;
    if (p.ref) {
      check(p.ref->tag && !p.ref->digest);
      again += ":" + p.ref->to_string();
    }
    if (p.index >= 0) again += ":@" + std::to_string(p.index);
    if (!again.empty()) check(ferry::parse_docker_archive_reference(again) == p);
  } catch (const ferry::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  docker(s);
  oci(s, true);
  oci(s, false);
  archive(s);
  try {
    ferry::validate_digest(s);
    check(ferry::digest_problem(s) == nullptr);
    check(ferry::digest_algorithm(s) + ":" + ferry::digest_hex(s) == s);
  } catch (const ferry::Error&) {
    check(ferry::digest_problem(s) != nullptr);
  }
  try {
    auto [transport, rest] = ferry::split_transport(s);
    check(transport + ":" + rest == s);
  } catch (const ferry::Error&) {
  }
  return 0;
}
