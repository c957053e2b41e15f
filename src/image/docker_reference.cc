#include "image/docker_reference.h"

#include <locale.h>
#include <wctype.h>

#include <utility>

#include "io/digest.h"
#include "util/error.h"

namespace ferry {

namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoName = "library";
constexpr size_t kNameTotalLengthMax = 255;

// The grammar below is distribution/reference's regexp written out by hand:
// linear time, no recursion, so any input length is safe.

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [a-z0-9]+ ((?:[._]|__|[-]*) [a-z0-9]+)*
bool is_name_component(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (is_lower_alnum(s[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !is_lower_alnum(s[j])) j++;
    std::string_view sep = s.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

// nameComponent (/ nameComponent)*
bool is_remote_name(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    std::string_view part = s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!is_name_component(part)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

// domainComponent (\. domainComponent)* (:[0-9]+)?  (no IPv6 literals in
// c/image's fork)
bool is_domain(std::string_view s) {
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port) {
      if (!is_digit(c)) return false;
    }
    s = s.substr(0, colon);
  }
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_domain_component(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// [\w][\w.-]{0,127}
bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  auto word = [](char c) { return is_alnum(c) || c == '_'; };
  if (!word(s.front())) return false;
  for (char c : s) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}
bool is_reference_digest(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view algorithm = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  bool need_letter = true;
  for (char c : algorithm) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (need_letter) {
      if (!letter) return false;
      need_letter = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      need_letter = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  if (need_letter) return false;  // empty, or ends with a separator
  if (hex.size() < 32) return false;
  for (char c : hex) {
    if (!is_xdigit(c)) return false;
  }
  return true;
}

struct Match {
  std::string_view domain;  // empty: none
  std::string_view path;
  std::string_view name;  // domain/path as written
  std::optional<std::string_view> tag;
  std::optional<std::string_view> digest;
};

// ReferenceRegexp with Go's leftmost-first captures. Decisions that are
// unambiguous in the grammar are taken directly: '@' occurs only before
// the digest; a ':' with no '/' after it can only start the tag (a port is
// always followed by "/path"); the domain, if any, is everything before the
// first '/', preferred whenever it fits, as the regexp's greedy optional
// group prefers it.
std::optional<Match> match_reference(std::string_view s) {
  Match m;
  std::string_view head = s;
  size_t at = s.find('@');
  if (at != std::string_view::npos) {
    std::string_view digest = s.substr(at + 1);
    if (!is_reference_digest(digest)) return std::nullopt;
    m.digest = digest;
    head = s.substr(0, at);
  }
  size_t colon = head.rfind(':');
  if (colon != std::string_view::npos && head.find('/', colon) == std::string_view::npos) {
    std::string_view tag = head.substr(colon + 1);
    if (!is_tag(tag)) return std::nullopt;
    m.tag = tag;
    head = head.substr(0, colon);
  }
  m.name = head;
  size_t slash = head.find('/');
  if (slash != std::string_view::npos && is_domain(head.substr(0, slash)) &&
      is_remote_name(head.substr(slash + 1))) {
    m.domain = head.substr(0, slash);
    m.path = head.substr(slash + 1);
    return m;
  }
  if (!is_remote_name(head)) return std::nullopt;
  m.path = head;
  return m;
}

// Strict UTF-8 decoding as Go's utf8.DecodeRuneInString: returns the code
// point and its length, or length 0 for an invalid sequence.
std::pair<char32_t, size_t> decode_utf8(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || c > 0xf4 || i + len > s.size()) return {0, 0};
  char32_t cp = c & (0x7f >> len);
  for (size_t k = 1; k < len; k++) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (cc & 0x3f);
  }
  bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return {0, 0};
  return {cp, len};
}

// Unicode simple lowercase mapping, from glibc's C.UTF-8 tables (a private
// locale object: no global setlocale).
char32_t unicode_lower(char32_t cp) {
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (!utf8) return cp;
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8));
}

// strings.ToLower(s) != s. Go also rewrites each invalid UTF-8 byte to
// U+FFFD, so such input counts as "not lowercase" -- skopeo then reports
// "repository name must be lowercase", and so do we.
bool go_lower_changes(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') return true;
      i++;
      continue;
    }
    auto [cp, len] = decode_utf8(s, i);
    if (len == 0 || unicode_lower(cp) != cp) return true;
    i += len;
  }
  return false;
}

// strings.ToLower(s), as far as matching is concerned: the grammar is
// ASCII-only, so only code points whose lowercase is ASCII matter -- the
// ASCII capitals, KELVIN SIGN (-> k) and LATIN CAPITAL I WITH DOT (-> i).
std::string go_lower_for_match(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
      i++;
      continue;
    }
    auto [cp, len] = decode_utf8(s, i);
    if (cp == 0x212a) {
      out += 'k';
    } else if (cp == 0x130) {
      out += 'i';
    } else {
      out += '\x80';  // any non-ASCII byte: cannot match
    }
    i += len == 0 ? 1 : len;
  }
  return out;
}

// reference.Parse.
DockerReference parse(std::string_view s) {
  std::optional<Match> m = match_reference(s);
  if (!m) {
    if (s.empty()) throw Error("repository name must have at least one component");
    if (match_reference(go_lower_for_match(s))) throw Error("repository name must be lowercase");
    throw Error("invalid reference format");
  }
  if (m->name.size() > kNameTotalLengthMax) {
    throw Error("repository name must not be more than 255 characters");
  }
  DockerReference r;
  r.domain = m->domain;
  r.path = m->path;
  if (m->tag) r.tag = std::string(*m->tag);
  if (m->digest) {
    if (const char* problem = digest_problem(*m->digest)) throw Error(problem);
    r.digest = std::string(*m->digest);
  }
  return r;
}

bool is_64_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

}  // namespace

std::string DockerReference::name() const {
  if (domain.empty()) return path;
  return domain + "/" + path;
}

std::string DockerReference::to_string() const {
  std::string s = name();
  if (tag) s += ":" + *tag;
  if (digest) s += "@" + *digest;
  return s;
}

std::string DockerReference::familiar_string() const {
  std::string s;
  if (domain == kDefaultDomain) {
    // "library/x" -> "x", but "library/a/b" stays as it is.
    std::string_view p = path;
    size_t slash = p.find('/');
    if (slash != std::string_view::npos && p.substr(0, slash) == kOfficialRepoName &&
        p.find('/', slash + 1) == std::string_view::npos) {
      s = p.substr(slash + 1);
    } else {
      s = path;
    }
  } else {
    s = name();
  }
  if (tag) s += ":" + *tag;
  if (digest) s += "@" + *digest;
  return s;
}

DockerReference parse_normalized_named(std::string_view s) {
  if (is_64_hex(s)) {
    throw Error("invalid repository name (" + std::string(s) + "), cannot specify 64-byte hexadecimal strings");
  }
  // splitDockerDomain: the first component is a registry only if it looks
  // like a host name.
  std::string_view domain = kDefaultDomain;
  std::string_view rest = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = s.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      domain = first;
      rest = s.substr(slash + 1);
    }
  }
  if (domain == kLegacyDefaultDomain) domain = kDefaultDomain;
  std::string remainder(rest);
  if (domain == kDefaultDomain && rest.find('/') == std::string_view::npos) {
    remainder = std::string(kOfficialRepoName) + "/" + remainder;
  }
  std::string_view remote_name = remainder;
  remote_name = remote_name.substr(0, remote_name.find(':'));
  if (go_lower_changes(remote_name)) {
    throw Error("invalid reference format: repository name must be lowercase");
  }
  return parse(std::string(domain) + "/" + remainder);
}

DockerReference tag_name_only(DockerReference r) {
  if (!r.tag && !r.digest) r.tag = "latest";
  return r;
}

DockerReference parse_docker_reference_for_transport(std::string_view s) {
  DockerReference r = tag_name_only(parse_normalized_named(s));
  if (r.tag && r.digest) {
    throw Error("Docker references with both a tag and digest are currently not supported");
  }
  return r;
}

std::string policy_identity(const DockerReference& r) {
  if (r.tag && r.digest) {
    throw Error("Unexpected Docker reference " + r.familiar_string() + " with both a name and a digest");
  }
  if (r.tag) return r.name() + ":" + *r.tag;
  if (r.digest) return r.name() + "@" + *r.digest;
  throw Error("Internal inconsistency: Docker reference " + r.familiar_string() +
              " with neither a tag nor a digest");
}

std::vector<std::string> policy_namespaces(const DockerReference& r) {
  std::vector<std::string> out;
  std::string name = r.name();
  while (true) {
    out.push_back(name);
    size_t slash = name.rfind('/');
    if (slash == std::string::npos) break;
    name.resize(slash);
  }
  // Wildcard scopes carry no port (the policy format has no syntax for it).
  name = name.substr(0, name.find(':'));
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    out.push_back("*." + name.substr(dot + 1));
  }
  return out;
}

}  // namespace ferry
