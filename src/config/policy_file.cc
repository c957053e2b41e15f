#include "config/policy_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "config/config_dir.h"
#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/go_base64.h"
#include "util/go_quote.h"

namespace ferry {
namespace {

// A policy nests about six levels deep and holds hundreds of values; these
// bound memory and stack on hostile input with a wide margin.
constexpr std::size_t kMaxJsonDepth = 64;
constexpr std::size_t kMaxJsonValues = 200000;

constexpr const char* kSystemPolicyPath = "/etc/containers/policy.json";

// ---------------------------------------------------------------------------
// JSON tree. nlohmann keeps one value per duplicate key; c/image rejects
// duplicates, so the SAX events are collected into a tree that keeps every
// member in document order.

struct JsonValue {
  enum class Kind : unsigned char { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;               // string contents, or a number's literal
  std::vector<std::string> keys;  // objects: keys[i] names items[i]
  std::vector<JsonValue> items;   // array elements / object member values
};

class TreeBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonValue root;
  std::string limit_error;  // set when a bound was hit
  std::size_t error_position = 0;
  int error_id = 0;
  std::string error_text;

  bool null() override { return add(JsonValue{}) != nullptr; }
  bool boolean(bool b) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kBool;
    v.boolean = b;
    return add(std::move(v)) != nullptr;
  }
  bool number_integer(number_integer_t n) override { return add_number(std::to_string(n)); }
  bool number_unsigned(number_unsigned_t n) override { return add_number(std::to_string(n)); }
  bool number_float(number_float_t, const string_t& literal) override {
    return add_number(literal);
  }
  bool string(string_t& s) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kString;
    v.text = std::move(s);
    return add(std::move(v)) != nullptr;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open(JsonValue::Kind::kObject); }
  bool key(string_t& k) override {
    stack_.back()->keys.push_back(std::move(k));
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return open(JsonValue::Kind::kArray); }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_position = position;
    error_id = ex.id;
    error_text = ex.what();
    return false;
  }

 private:
  // Pointers stay valid: only the innermost open container ever grows.
  JsonValue* add(JsonValue&& v) {
    if (++count_ > kMaxJsonValues) {
      limit_error = "JSON document has more than " + std::to_string(kMaxJsonValues) + " values";
      return nullptr;
    }
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    stack_.back()->items.push_back(std::move(v));
    return &stack_.back()->items.back();
  }
  bool add_number(std::string literal) {
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    v.text = std::move(literal);
    return add(std::move(v)) != nullptr;
  }
  bool open(JsonValue::Kind kind) {
    if (stack_.size() >= kMaxJsonDepth) {
      limit_error = "JSON nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    JsonValue v;
    v.kind = kind;
    JsonValue* p = add(std::move(v));
    if (p == nullptr) return false;
    stack_.push_back(p);
    return true;
  }

  std::vector<JsonValue*> stack_;
  std::size_t count_ = 0;
};

std::string describe_position(std::string_view input, std::size_t index) {
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    if (input[i] == '\n') ++line, line_start = i + 1;
  }
  return " at line " + std::to_string(line) + ", column " + std::to_string(index - line_start + 1);
}

JsonValue parse_json_tree(std::string_view input) {
  // nlohmann skips a byte-order mark; Go does not.
  if (input.substr(0, 3) == "\xEF\xBB\xBF") {
    throw Error("invalid character " + go_quote_rune(0xEF) + " looking for beginning of value");
  }
  // nlohmann takes a NUL byte for the end of input and would accept
  // `{...}\0garbage`; a raw NUL is invalid anywhere in JSON text.
  if (std::size_t nul = input.find('\0'); nul != std::string_view::npos) {
    throw Error("invalid character " + go_quote_rune(0) + describe_position(input, nul));
  }
  TreeBuilder builder;
  const char* begin = input.data();
  if (nlohmann::json::sax_parse(begin, begin + input.size(), &builder)) {
    return std::move(builder.root);
  }
  if (!builder.limit_error.empty()) throw Error(builder.limit_error);
  // nlohmann's position counts the offending byte; past the end means EOF.
  std::size_t pos = builder.error_position;
  if (pos == 0 || pos > input.size()) throw Error("unexpected end of JSON input");
  std::size_t index = pos - 1;
  std::string where = describe_position(input, index);
  if (builder.error_id == 406) throw Error("number out of range" + where);
  if (builder.error_text.find("surrogate") != std::string::npos) {
    throw Error("invalid \\u escape (unpaired surrogate)" + where);
  }
  throw Error("invalid character " + go_quote_rune(static_cast<unsigned char>(input[index])) +
              where);
}

// ---------------------------------------------------------------------------
// encoding/json decoding rules, with Go's error texts.

std::string go_kind(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "bool";
    case JsonValue::Kind::kNumber: return "number";
    case JsonValue::Kind::kString: return "string";
    case JsonValue::Kind::kArray: return "array";
    case JsonValue::Kind::kObject: return "object";
  }
  return "value";
}

[[noreturn]] void throw_type_error(const JsonValue& v, std::string_view go_type) {
  throw Error("json: cannot unmarshal " + go_kind(v) + " into Go value of type " +
              std::string(go_type));
}

// The first token of a value that should have been an object.
std::string describe_token(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kArray: return "\"[\"";
    case JsonValue::Kind::kString: return go_quote(v.text);
    case JsonValue::Kind::kNumber: return v.text;
    case JsonValue::Kind::kBool: return v.boolean ? "true" : "false";
    default: return "null";
  }
}

// Go leaves a string untouched when decoding null into it.
void decode_string(const JsonValue& v, std::string& out, std::string_view go_type = "string") {
  if (v.kind == JsonValue::Kind::kNull) return;
  if (v.kind != JsonValue::Kind::kString) throw_type_error(v, go_type);
  out = v.text;
}

// null -> nil slice; [] -> empty, non-nil slice (c/image tells them apart).
void decode_string_list(const JsonValue& v, std::optional<std::vector<std::string>>& out) {
  if (v.kind == JsonValue::Kind::kNull) {
    out.reset();
    return;
  }
  if (v.kind != JsonValue::Kind::kArray) throw_type_error(v, "[]string");
  std::vector<std::string> list(v.items.size());
  for (std::size_t i = 0; i < v.items.size(); ++i) decode_string(v.items[i], list[i]);
  out = std::move(list);
}

// []byte: a base64 string, or (as Go also allows) an array of 0..255.
void decode_bytes(const JsonValue& v, std::optional<std::string>& out) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      out.reset();
      return;
    case JsonValue::Kind::kString:
      out = go_base64_decode(v.text);
      return;
    case JsonValue::Kind::kArray: {
      std::string bytes(v.items.size(), '\0');
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        const JsonValue& e = v.items[i];
        if (e.kind == JsonValue::Kind::kNull) continue;
        if (e.kind != JsonValue::Kind::kNumber) throw_type_error(e, "uint8");
        bool digits = !e.text.empty() && e.text.size() <= 3 &&
                      e.text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoi(e.text) > 255) {
          throw Error("json: cannot unmarshal number " + e.text + " into Go value of type uint8");
        }
        bytes[i] = static_cast<char>(std::stoi(e.text));
      }
      out = std::move(bytes);
      return;
    }
    default:
      throw_type_error(v, "[]uint8");
  }
}

void decode_bytes_list(const JsonValue& v, std::optional<std::vector<std::string>>& out) {
  if (v.kind == JsonValue::Kind::kNull) {
    out.reset();
    return;
  }
  if (v.kind != JsonValue::Kind::kArray) throw_type_error(v, "[][]uint8");
  std::vector<std::string> list;
  list.reserve(v.items.size());
  for (const JsonValue& e : v.items) {
    std::optional<std::string> bytes;
    decode_bytes(e, bytes);
    list.push_back(bytes.value_or(std::string()));
  }
  out = std::move(list);
}

// c/image's ParanoidUnmarshalJSONObject: members in document order; a repeated
// key, or one `on_member` does not claim (returns false), is an error.
template <class F>
void for_each_member(const JsonValue& v, F&& on_member) {
  if (v.kind != JsonValue::Kind::kObject) {
    throw Error("JSON object expected, got " + describe_token(v));
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < v.keys.size(); ++i) {
    const std::string& key = v.keys[i];
    if (!seen.insert(key).second) throw Error("Duplicate key " + go_quote(key));
    if (!on_member(key, v.items[i])) throw Error("Unknown key " + go_quote(key));
  }
}

void require_key(bool present, std::string_view key) {
  if (!present) throw Error("Key " + go_quote(key) + " missing in a JSON object");
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// c/image first decodes a requirement loosely into a struct holding only
// "type" (Go matches that field name case-insensitively, last one wins, and
// ignores other keys) to pick the strict parser.
std::string loose_type_field(const JsonValue& v, std::string_view go_struct,
                             std::string_view go_type) {
  if (v.kind == JsonValue::Kind::kNull) return "";
  if (v.kind != JsonValue::Kind::kObject) {
    throw_type_error(v, "signature." + std::string(go_struct));
  }
  std::string type;
  std::string first_error;
  for (std::size_t i = 0; i < v.keys.size(); ++i) {
    if (!ascii_iequals(v.keys[i], "type")) continue;
    const JsonValue& value = v.items[i];
    if (value.kind == JsonValue::Kind::kString) {
      type = value.text;
    } else if (value.kind != JsonValue::Kind::kNull && first_error.empty()) {
      first_error = "json: cannot unmarshal " + go_kind(value) + " into Go struct field " +
                    std::string(go_struct) + ".type of type " + std::string(go_type);
    }
  }
  if (!first_error.empty()) throw Error(first_error);
  return type;
}

// ---------------------------------------------------------------------------
// docker/distribution reference grammar, enough to validate the references,
// repositories, prefixes and scopes a policy names.

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool is_path_component(std::string_view s) {
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    if (i == start) return false;
    if (i == s.size()) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

bool is_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

bool is_domain_name(std::string_view s) {
  while (true) {
    std::size_t dot = s.find('.');
    if (!is_domain_component(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool is_port(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// host[:port]. c/image's fork of the reference grammar has no IPv6 literals.
bool is_host_and_port(std::string_view s) {
  std::size_t colon = s.find(':');
  if (!is_domain_name(s.substr(0, colon))) return false;
  return colon == std::string_view::npos || is_port(s.substr(colon + 1));
}

// [host[:port]/]path-component(/path-component)*
bool is_repository_name(std::string_view s) {
  std::size_t slash = s.find('/');
  bool all_paths = true;
  for (std::string_view rest = s;;) {
    std::size_t next = rest.find('/');
    if (!is_path_component(rest.substr(0, next))) {
      all_paths = false;
      break;
    }
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  if (all_paths) return true;
  if (slash == std::string_view::npos || !is_host_and_port(s.substr(0, slash))) return false;
  for (std::string_view rest = s.substr(slash + 1);;) {
    std::size_t next = rest.find('/');
    if (!is_path_component(rest.substr(0, next))) return false;
    if (next == std::string_view::npos) return true;
    rest.remove_prefix(next + 1);
  }
}

bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool word = is_alnum(c) || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

// algorithm ":" hex{32,}, algorithm = [A-Za-z][A-Za-z0-9]* joined by [+._-]
bool is_digest_syntax(std::string_view s) {
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view algorithm = s.substr(0, colon), hex = s.substr(colon + 1);
  bool at_component_start = true;
  for (char c : algorithm) {
    if (at_component_start) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
      at_component_start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      at_component_start = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  if (algorithm.empty() || at_component_start || hex.size() < 32) return false;
  for (char c : hex) {
    if (!is_hex(c)) return false;
  }
  return true;
}

struct ReferenceParts {
  std::string_view name, tag, digest;
};

// The anchored ReferenceRegexp: name [":" tag] ["@" digest].
bool split_reference(std::string_view s, ReferenceParts* parts) {
  std::size_t at = s.find('@');
  if (at != std::string_view::npos) {
    parts->digest = s.substr(at + 1);
    if (!is_digest_syntax(parts->digest)) return false;
    s = s.substr(0, at);
  }
  std::size_t last_slash = s.rfind('/');
  std::size_t colon = s.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
  if (colon != std::string_view::npos) {
    parts->tag = s.substr(colon + 1);
    if (!is_tag(parts->tag)) return false;
    s = s.substr(0, colon);
  }
  parts->name = s;
  return is_repository_name(s);
}

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// c/image's reference.ParseNormalizedNamed: the error it would return, if any.
std::optional<std::string> normalized_named_error(std::string_view s, bool* name_only) {
  if (s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos) {
    return "invalid repository name (" + std::string(s) +
           "), cannot specify 64-byte hexadecimal strings";
  }
  std::string domain, remainder;
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos ||
      (s.substr(0, slash).find_first_of(".:") == std::string_view::npos &&
       s.substr(0, slash) != "localhost")) {
    domain = "docker.io";
    remainder = s;
  } else {
    domain = s.substr(0, slash);
    remainder = s.substr(slash + 1);
  }
  if (domain == "index.docker.io") domain = "docker.io";
  if (domain == "docker.io" && remainder.find('/') == std::string::npos) {
    remainder = "library/" + remainder;
  }
  std::string remote_name = remainder.substr(0, remainder.find(':'));
  if (to_lower_ascii(remote_name) != remote_name) {
    return "invalid reference format: repository name must be lowercase";
  }
  std::string full = domain + "/" + remainder;
  ReferenceParts parts;
  if (!split_reference(full, &parts)) {
    ReferenceParts ignored;
    if (split_reference(to_lower_ascii(full), &ignored)) {
      return "invalid reference format: repository name must be lowercase";
    }
    return "invalid reference format";
  }
  if (parts.name.size() > 255) return "repository name must not be more than 255 characters";
  if (!parts.digest.empty()) {
    if (const char* err = go_digest_problem(parts.digest)) return err;
  }
  *name_only = parts.tag.empty() && parts.digest.empty();
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Scope keys. c/image reports an invalid scope only as `Unknown key "SCOPE"`;
// the reason is appended so the user learns which rule was broken.

std::optional<std::string> path_scope_error(std::string_view scope) {
  if (scope.front() != '/') return "must be an absolute path";
  if (scope == "/") return "\"/\" is not allowed, use the default scope \"\"";
  std::string cleaned = clean_path(scope);
  if (cleaned != scope) return "not in canonical form, perhaps try " + go_quote(cleaned);
  return std::nullopt;
}

// What DockerReferenceIdentity / DockerReferenceNamespaces can produce:
// host[:port], host[:port]/ns..., host[:port]/repo[:tag|@digest], *.domain.
std::optional<std::string> docker_scope_error(std::string_view scope) {
  static const std::string kExpected =
      "expected HOST[:PORT], HOST[:PORT]/NAMESPACE, HOST[:PORT]/REPO:TAG, "
      "HOST[:PORT]/REPO@DIGEST or *.DOMAIN";
  if (scope.substr(0, 2) == "*.") {
    if (is_domain_name(scope.substr(2))) return std::nullopt;
    return kExpected;
  }
  if (is_host_and_port(scope)) return std::nullopt;
  std::size_t slash = scope.find('/');
  ReferenceParts parts;
  if (slash == std::string_view::npos || !is_host_and_port(scope.substr(0, slash)) ||
      !split_reference(scope, &parts) || parts.name.size() > 255 ||
      (!parts.tag.empty() && !parts.digest.empty())) {
    return kExpected;
  }
  return std::nullopt;
}

std::optional<std::string> scope_error(std::string_view transport, std::string_view scope) {
  if (transport == "docker") return docker_scope_error(scope);
  if (transport == "docker-daemon") {
    if (go_digest_problem(scope) == nullptr) return "an image ID (algorithm:digest) cannot be a scope";
    return docker_scope_error(scope);
  }
  if (transport == "dir" || transport == "oci" || transport == "oci-archive" ||
      transport == "sif") {
    return path_scope_error(scope);
  }
  if (transport == "docker-archive" || transport == "tarball") {
    return "only the default scope \"\" is supported";
  }
  return std::nullopt;  // unknown to ferry, or not validated (containers-storage)
}

// ---------------------------------------------------------------------------
// Requirements and identities, following c/image's UnmarshalJSON methods
// check for check so the first error reported is the one skopeo reports.

constexpr std::string_view kRequirementTypeGo = "signature.prTypeIdentifier";
constexpr std::string_view kMatchTypeGo = "signature.prmTypeIdentifier";

[[noreturn]] void unexpected_type(const std::string& type) {
  throw Error("Unexpected policy requirement type " + go_quote(type));
}

SignedIdentity parse_signed_identity(const JsonValue& v) {
  using T = SignedIdentity::Type;
  std::string name = loose_type_field(v, "prmCommon", kMatchTypeGo);
  SignedIdentity id;
  std::string_view field1, field2;  // required keys besides "type"
  if (name == "matchExact") {
    id.type = T::kMatchExact;
  } else if (name == "matchRepoDigestOrExact") {
    id.type = T::kMatchRepoDigestOrExact;
  } else if (name == "matchRepository") {
    id.type = T::kMatchRepository;
  } else if (name == "exactReference") {
    id.type = T::kExactReference;
    field1 = "dockerReference";
  } else if (name == "exactRepository") {
    id.type = T::kExactRepository;
    field1 = "dockerRepository";
  } else if (name == "remapIdentity") {
    id.type = T::kRemapIdentity;
    field1 = "prefix";
    field2 = "signedPrefix";
  } else {
    throw Error("Unknown policy reference match type " + go_quote(name));
  }

  std::string type;
  std::string value1, value2;
  bool got_type = false, got1 = false, got2 = false;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "type") {
      got_type = true;
      decode_string(value, type, kMatchTypeGo);
    } else if (!field1.empty() && key == field1) {
      got1 = true;
      decode_string(value, value1);
    } else if (!field2.empty() && key == field2) {
      got2 = true;
      decode_string(value, value2);
    } else {
      return false;
    }
    return true;
  });
  require_key(got_type, "type");
  if (!field1.empty()) require_key(got1, field1);
  if (!field2.empty()) require_key(got2, field2);
  if (type != name) unexpected_type(type);

  bool name_only = false;
  switch (id.type) {
    case T::kExactReference:
      if (auto err = normalized_named_error(value1, &name_only)) {
        throw Error("Invalid format of dockerReference " + go_quote(value1) + ": " + *err);
      }
      if (name_only) {
        throw Error("dockerReference " + go_quote(value1) + " contains neither a tag nor digest");
      }
      id.docker_reference = value1;
      break;
    case T::kExactRepository:
      if (auto err = normalized_named_error(value1, &name_only)) {
        throw Error("Invalid format of dockerRepository " + go_quote(value1) + ": " + *err);
      }
      id.docker_repository = value1;
      break;
    case T::kRemapIdentity:
      for (const std::string* prefix : {&value1, &value2}) {
        // A bare host[:port], or a repository name that starts with one.
        // Like c/image, short names like "ns/repo" are not caught here.
        std::size_t slash = prefix->find('/');
        bool ok = is_host_and_port(*prefix) ||
                  (is_repository_name(*prefix) && slash != std::string::npos &&
                   is_host_and_port(std::string_view(*prefix).substr(0, slash)));
        if (!ok) throw Error("prefix " + go_quote(*prefix) + " is not valid");
      }
      id.prefix = value1;
      id.signed_prefix = value2;
      break;
    default:
      break;
  }
  return id;
}

// "type" alone: insecureAcceptAnything, reject.
void parse_type_only(const JsonValue& v, const std::string& name) {
  std::string type;
  bool got_type = false;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key != "type") return false;
    got_type = true;
    decode_string(value, type, kRequirementTypeGo);
    return true;
  });
  require_key(got_type, "type");
  if (type != name) unexpected_type(type);
}

void decode_key_type(const JsonValue& v, std::string& out) {
  std::string s;
  decode_string(v, s);
  if (s != "GPGKeys" && s != "signedByGPGKeys" && s != "X509Certificates" &&
      s != "signedByX509CAs") {
    throw Error("Unrecognized keyType value " + go_quote(s));
  }
  out = s;
}

SignedByRequirement parse_signed_by(const JsonValue& v) {
  SignedByRequirement r;
  std::string type;
  bool got_key_path = false, got_key_paths = false, got_key_data = false;
  const JsonValue* identity = nullptr;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "type") {
      decode_string(value, type, kRequirementTypeGo);
    } else if (key == "keyType") {
      decode_key_type(value, r.key_type);
    } else if (key == "keyPath") {
      got_key_path = true;
      decode_string(value, r.key_path);
    } else if (key == "keyPaths") {
      got_key_paths = true;
      decode_string_list(value, r.key_paths);
    } else if (key == "keyData") {
      got_key_data = true;
      decode_bytes(value, r.key_data);
    } else if (key == "signedIdentity") {
      identity = &value;
    } else {
      return false;
    }
    return true;
  });
  if (type != "signedBy") unexpected_type(type);
  if (identity != nullptr) r.signed_identity = parse_signed_identity(*identity);

  int got = got_key_path + got_key_paths + got_key_data;
  if (got == 0) {
    throw Error(
        "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present");
  }
  if (got > 1) {
    throw Error(
        "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present");
  }
  if (r.key_type.empty()) throw Error("invalid keyType " + go_quote(r.key_type));
  // Present but null or "" does not count as a source.
  if (r.key_path.empty() && !r.key_paths && !r.key_data) {
    throw Error("exactly one of keyPath, keyPaths and keyData must be specified");
  }
  return r;
}

SigstoreFulcio parse_fulcio(const JsonValue& v) {
  SigstoreFulcio f;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "caPath") {
      decode_string(value, f.ca_path);
    } else if (key == "caData") {
      decode_bytes(value, f.ca_data);
    } else if (key == "oidcIssuer") {
      decode_string(value, f.oidc_issuer);
    } else if (key == "subjectEmail") {
      decode_string(value, f.subject_email);
    } else if (key == "buildSignerURI") {
      decode_string(value, f.build_signer_uri);
    } else {
      return false;
    }
    return true;
  });
  if (!f.ca_path.empty() && f.ca_data) {
    throw Error("caPath and caData cannot be used simultaneously");
  }
  if (f.ca_path.empty() && !f.ca_data) {
    throw Error("At least one of caPath and caData must be specified");
  }
  if (f.oidc_issuer.empty()) throw Error("oidcIssuer not specified");
  if (f.subject_email.empty() && f.build_signer_uri.empty()) {
    throw Error("at least one of subjectEmail or buildSignerURI must be specified");
  }
  return f;
}

SigstorePki parse_pki(const JsonValue& v) {
  SigstorePki p;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "caRootsPath") {
      decode_string(value, p.ca_roots_path);
    } else if (key == "caRootsData") {
      decode_bytes(value, p.ca_roots_data);
    } else if (key == "caIntermediatesPath") {
      decode_string(value, p.ca_intermediates_path);
    } else if (key == "caIntermediatesData") {
      decode_bytes(value, p.ca_intermediates_data);
    } else if (key == "subjectEmail") {
      decode_string(value, p.subject_email);
    } else if (key == "subjectHostname") {
      decode_string(value, p.subject_hostname);
    } else {
      return false;
    }
    return true;
  });
  if (!p.ca_roots_path.empty() && p.ca_roots_data) {
    throw Error("caRootsPath and caRootsData cannot be used simultaneously");
  }
  if (p.ca_roots_path.empty() && !p.ca_roots_data) {
    throw Error("At least one of caRootsPath and caRootsData must be specified");
  }
  if (!p.ca_intermediates_path.empty() && p.ca_intermediates_data) {
    throw Error("caIntermediatesPath and caIntermediatesData cannot be used simultaneously");
  }
  if (p.subject_email.empty() && p.subject_hostname.empty()) {
    throw Error("At least one of subjectEmail, subjectHostname must be specified");
  }
  return p;
}

SigstoreSignedRequirement parse_sigstore_signed(const JsonValue& v) {
  SigstoreSignedRequirement r;
  std::string type;
  bool got_key_paths = false, got_key_datas = false;
  bool got_rekor_paths = false, got_rekor_datas = false;
  const JsonValue* identity = nullptr;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "type") {
      decode_string(value, type, kRequirementTypeGo);
    } else if (key == "keyPath") {
      decode_string(value, r.key_path);
    } else if (key == "keyPaths") {
      got_key_paths = true;
      decode_string_list(value, r.key_paths);
    } else if (key == "keyData") {
      decode_bytes(value, r.key_data);
    } else if (key == "keyDatas") {
      got_key_datas = true;
      decode_bytes_list(value, r.key_datas);
    } else if (key == "fulcio") {
      r.fulcio = parse_fulcio(value);
    } else if (key == "rekorPublicKeyPath") {
      decode_string(value, r.rekor_public_key_path);
    } else if (key == "rekorPublicKeyPaths") {
      got_rekor_paths = true;
      decode_string_list(value, r.rekor_public_key_paths);
    } else if (key == "rekorPublicKeyData") {
      decode_bytes(value, r.rekor_public_key_data);
    } else if (key == "rekorPublicKeyDatas") {
      got_rekor_datas = true;
      decode_bytes_list(value, r.rekor_public_key_datas);
    } else if (key == "pki") {
      r.pki = parse_pki(value);
    } else if (key == "signedIdentity") {
      identity = &value;
    } else {
      return false;
    }
    return true;
  });
  if (type != "sigstoreSigned") unexpected_type(type);
  if (identity != nullptr) r.signed_identity = parse_signed_identity(*identity);

  // The field names' odd capitalisation is c/image's.
  auto empty = [](const std::optional<std::vector<std::string>>& list) {
    return !list || list->empty();
  };
  if (got_key_paths && empty(r.key_paths)) throw Error("\"keyPaths\" contains no entries");
  if (got_key_datas && empty(r.key_datas)) throw Error("\"keyDatas\" contains no entries");
  if (got_rekor_paths && empty(r.rekor_public_key_paths)) {
    throw Error("\"rekorPublickeyPaths\" contains no entries");
  }
  if (got_rekor_datas && empty(r.rekor_public_key_datas)) {
    throw Error("\"rekorPublickeyDatas\" contains no entries");
  }

  int key_sources = !r.key_path.empty() + r.key_paths.has_value() + r.key_data.has_value() +
                    r.key_datas.has_value() + r.fulcio.has_value() + r.pki.has_value();
  if (key_sources != 1) {
    throw Error(
        "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified");
  }
  int rekor_sources = !r.rekor_public_key_path.empty() + r.rekor_public_key_paths.has_value() +
                      r.rekor_public_key_data.has_value() + r.rekor_public_key_datas.has_value();
  if (rekor_sources > 1) {
    throw Error(
        "at most one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and "
        "rekorPublicKeyDatas can be used simultaneously");
  }
  if (r.fulcio && rekor_sources == 0) {
    throw Error(
        "At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and "
        "rekorPublicKeyDatas must be specified if fulcio is used");
  }
  if (r.pki && rekor_sources > 0) {
    throw Error(
        "rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas "
        "are not supported for pki");
  }
  return r;
}

SignedBaseLayerRequirement parse_signed_base_layer(const JsonValue& v) {
  std::string type;
  const JsonValue* identity = nullptr;
  bool got_type = false;
  for_each_member(v, [&](const std::string& key, const JsonValue& value) {
    if (key == "type") {
      got_type = true;
      decode_string(value, type, kRequirementTypeGo);
    } else if (key == "baseLayerIdentity") {
      identity = &value;
    } else {
      return false;
    }
    return true;
  });
  require_key(got_type, "type");
  require_key(identity != nullptr, "baseLayerIdentity");
  if (type != "signedBaseLayer") unexpected_type(type);
  return SignedBaseLayerRequirement{parse_signed_identity(*identity)};
}

PolicyRequirement parse_requirement(const JsonValue& v) {
  std::string type = loose_type_field(v, "prCommon", kRequirementTypeGo);
  if (type == "insecureAcceptAnything") {
    parse_type_only(v, type);
    return PolicyRequirement{InsecureAcceptAnythingRequirement{}};
  }
  if (type == "reject") {
    parse_type_only(v, type);
    return PolicyRequirement{RejectRequirement{}};
  }
  if (type == "signedBy") return PolicyRequirement{parse_signed_by(v)};
  if (type == "sigstoreSigned") return PolicyRequirement{parse_sigstore_signed(v)};
  if (type == "signedBaseLayer") return PolicyRequirement{parse_signed_base_layer(v)};
  throw Error("Unknown policy requirement type " + go_quote(type));
}

PolicyRequirements parse_requirements(const JsonValue& v) {
  if (v.kind != JsonValue::Kind::kNull && v.kind != JsonValue::Kind::kArray) {
    throw_type_error(v, "[]json.RawMessage");
  }
  if (v.items.empty()) {
    throw Error("List of verification policy requirements must not be empty");
  }
  PolicyRequirements requirements;
  requirements.reserve(v.items.size());
  for (const JsonValue& item : v.items) requirements.push_back(parse_requirement(item));
  return requirements;
}

PolicyTransportScopes parse_transport_scopes(const std::string& transport, const JsonValue& v) {
  PolicyTransportScopes scopes;
  for_each_member(v, [&](const std::string& scope, const JsonValue& value) {
    if (!scope.empty()) {
      if (auto reason = scope_error(transport, scope)) {
        throw Error("Unknown key " + go_quote(scope) + " (invalid scope for transport " +
                    go_quote(transport) + ": " + *reason + ")");
      }
    }
    scopes.emplace(scope, parse_requirements(value));
    return true;
  });
  return scopes;
}

}  // namespace

std::string_view signed_identity_type_name(SignedIdentity::Type type) {
  switch (type) {
    case SignedIdentity::Type::kMatchExact: return "matchExact";
    case SignedIdentity::Type::kMatchRepoDigestOrExact: return "matchRepoDigestOrExact";
    case SignedIdentity::Type::kMatchRepository: return "matchRepository";
    case SignedIdentity::Type::kExactReference: return "exactReference";
    case SignedIdentity::Type::kExactRepository: return "exactRepository";
    case SignedIdentity::Type::kRemapIdentity: return "remapIdentity";
  }
  return "";
}

std::string_view PolicyRequirement::type_name() const {
  struct Namer {
    std::string_view operator()(const InsecureAcceptAnythingRequirement&) const {
      return "insecureAcceptAnything";
    }
    std::string_view operator()(const RejectRequirement&) const { return "reject"; }
    std::string_view operator()(const SignedByRequirement&) const { return "signedBy"; }
    std::string_view operator()(const SigstoreSignedRequirement&) const { return "sigstoreSigned"; }
    std::string_view operator()(const SignedBaseLayerRequirement&) const {
      return "signedBaseLayer";
    }
  };
  return std::visit(Namer{}, spec);
}

Policy parse_policy(std::string_view json, const std::string& source_name) {
  try {
    if (json.size() > kMaxPolicyFileSize) {
      throw Error("policy is larger than " + std::to_string(kMaxPolicyFileSize) + " bytes");
    }
    // encoding/json decodes invalid UTF-8 inside strings as U+FFFD (one per bad
    // byte) instead of failing; doing the same up front keeps those files
    // loading with the same values skopeo sees.
    JsonValue root = parse_json_tree(go_replace_invalid_utf8(json));
    Policy policy;
    bool have_default = false;
    for_each_member(root, [&](const std::string& key, const JsonValue& value) {
      if (key == "default") {
        policy.default_requirements = parse_requirements(value);
        have_default = true;
      } else if (key == "transports") {
        for_each_member(value, [&](const std::string& transport, const JsonValue& scopes) {
          policy.transports.emplace(transport, parse_transport_scopes(transport, scopes));
          return true;
        });
      } else {
        return false;
      }
      return true;
    });
    if (!have_default) throw Error("Default policy is missing");
    return policy;
  } catch (const Error& e) {
    throw Error("invalid policy in " + go_quote(source_name) + ": " + e.what());
  }
}

Policy insecure_accept_anything_policy() {
  Policy policy;
  policy.default_requirements.push_back(PolicyRequirement{InsecureAcceptAnythingRequirement{}});
  return policy;
}

std::string default_policy_path() {
  // filepath.Join(homedir, ".config/containers/policy.json"), as c/image.
  std::string user_path = clean_path(home_dir() + "/.config/containers/policy.json");
  if (faccessat(AT_FDCWD, user_path.c_str(), F_OK, AT_EACCESS) == 0) return user_path;
  return kSystemPolicyPath;
}

Policy read_policy_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw path_error("open", path, errno);
  // One byte past the limit is enough for parse_policy to refuse the file.
  std::string data;
  char buf[65536];
  while (data.size() <= kMaxPolicyFileSize) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      throw path_error("read", path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return parse_policy(data, path);
}

Policy load_policy(const std::optional<std::string>& path_flag, bool insecure_policy) {
  if (insecure_policy) return insecure_accept_anything_policy();
  std::string path = path_flag && !path_flag->empty() ? *path_flag : default_policy_path();
  try {
    return read_policy_file(path);
  } catch (const Error& e) {
    rethrow_with_context("Error loading trust policy", e);
  }
}

}  // namespace ferry
