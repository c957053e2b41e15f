#include "image/reference_grammar.h"

#include <climits>
#include <cstdint>

#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {

namespace {

struct Atoi {
  int64_t value = 0;
  std::string error;  // strconv's message; empty on success
};

// strconv.Atoi on 64-bit Go: optional sign, decimal digits, syntax errors
// and range errors in the order ParseInt reports them.
Atoi go_atoi(std::string_view s0) {
  auto fail = [&](const char* why) { return Atoi{0, "strconv.Atoi: parsing " + go_quote(s0) + ": " + why}; };
  std::string_view s = s0;
  if (s.empty()) return fail("invalid syntax");
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
    if (s.empty()) return fail("invalid syntax");
  }
  const uint64_t cutoff = UINT64_MAX / 10 + 1;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fail("invalid syntax");
    if (n >= cutoff) return fail("value out of range");
    uint64_t n1 = n * 10 + static_cast<uint64_t>(c - '0');
    if (n1 < n * 10) return fail("value out of range");
    n = n1;
  }
  const uint64_t limit = uint64_t{1} << 63;
  if (!neg && n >= limit) return fail("value out of range");
  if (neg && n > limit) return fail("value out of range");
  int64_t v = neg ? static_cast<int64_t>(0 - n) : static_cast<int64_t>(n);
  return Atoi{v, ""};
}

// The "@N" source index shared by oci and docker-archive; `prefix` is what
// each transport puts before strconv's message.
int parse_source_index(std::string_view digits, const std::string& prefix) {
  Atoi a = go_atoi(digits);
  // ferry keeps indexes in an int; beyond that is what 32-bit Go reports.
  if (a.error.empty() && a.value > INT_MAX) {
    a.error = "strconv.Atoi: parsing " + go_quote(digits) + ": value out of range";
  }
  if (!a.error.empty()) throw Error(prefix + a.error);
  if (a.value < 0) {
    throw Error("Invalid source index @" + std::to_string(a.value) + ": must not be negative");
  }
  return static_cast<int>(a.value);
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ^component(/component)*$ with component = alnum+ ((sep) alnum+)*,
// sep = [-._:@+] | "--".
bool is_oci_ref_name(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    std::string_view part = s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || !is_ascii_alnum(part.front()) || !is_ascii_alnum(part.back())) return false;
    for (size_t i = 0; i < part.size();) {
      if (is_ascii_alnum(part[i])) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < part.size() && !is_ascii_alnum(part[j])) j++;
      std::string_view sep = part.substr(i, j - i);
      bool ok = sep == "--" ||
                (sep.size() == 1 && std::string_view("-._:@+").find(sep[0]) != std::string_view::npos);
      if (!ok) return false;
      i = j;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

std::pair<std::string, std::string> split_transport(std::string_view image_name) {
  size_t colon = image_name.find(':');
  if (colon == std::string_view::npos) {
    throw Error("Invalid image name \"" + std::string(image_name) +
                "\", expected colon-separated transport:reference");
  }
  return {std::string(image_name.substr(0, colon)), std::string(image_name.substr(colon + 1))};
}

OciRefParts parse_oci_reference(std::string_view within, bool allow_index) {
  OciRefParts out;
  size_t colon = within.find(':');
  out.path = within.substr(0, colon);
  std::string_view image = colon == std::string_view::npos ? std::string_view() : within.substr(colon + 1);
  if (allow_index && !image.empty() && image[0] == '@') {
    std::string_view digits = image.substr(1);
    out.index = parse_source_index(digits, "Invalid source index @" + std::string(digits) + ": not an integer: ");
    return out;
  }
  if (!image.empty() && !is_oci_ref_name(image)) {
    throw Error("Invalid image " + std::string(image));
  }
  out.ref = image;
  return out;
}

DockerArchiveRefParts parse_docker_archive_reference(std::string_view within) {
  if (within.empty()) {
    throw Error("docker-archive reference  isn't of the form <path>[:<reference>]");
  }
  DockerArchiveRefParts out;
  size_t colon = within.find(':');
  out.path = within.substr(0, colon);
  if (colon == std::string_view::npos) return out;
  std::string_view rest = within.substr(colon + 1);
  if (!rest.empty() && rest[0] == '@') {
    out.index = parse_source_index(rest.substr(1), "Invalid source index " + std::string(rest) + ": ");
    return out;
  }
  DockerReference r;
  try {
    r = tag_name_only(parse_normalized_named(rest));
  } catch (const Error& e) {
    rethrow_with_context("docker-archive parsing reference", e);
  }
  // tag_name_only leaves a digested reference untagged.
  if (!r.tag) throw Error("reference does not include a tag: " + r.to_string());
  if (r.digest) throw Error("docker-archive doesn't support digest references: " + r.to_string());
  out.ref = std::move(r);
  return out;
}

}  // namespace ferry
