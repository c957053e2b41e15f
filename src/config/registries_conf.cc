#include "config/registries_conf.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <set>
#include <utility>

#include "config/config_dir.h"
#include "config/toml.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {
namespace {

constexpr const char* kSystemConfPath = "/etc/containers/registries.conf";
constexpr const char* kSystemConfDir = "/etc/containers/registries.conf.d";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// reference.DomainRegexp: host components or a bracketed IPv6 literal, then
// an optional :port.
bool is_domain(std::string_view s) {
  std::string_view host = s;
  if (starts_with(s, "[")) {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
    }
    host = {};
    s = s.substr(close + 1);
    if (s.empty()) return true;
    if (s.front() != ':') return false;
  } else {
    size_t colon = s.find(':');
    host = s.substr(0, colon);
    s = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    size_t start = 0;
    for (;;) {
      size_t dot = host.find('.', start);
      std::string_view part = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (part.empty() || !std::isalnum(static_cast<unsigned char>(part.front())) ||
          !std::isalnum(static_cast<unsigned char>(part.back()))) {
        return false;
      }
      for (char c : part) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (s.empty()) return true;
  }
  std::string_view port = s.substr(1);
  if (port.empty()) return false;
  return std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Trailing '/' dropped; URL schemes refused (c/image's parseLocation).
std::string parse_location(std::string_view input) {
  std::string_view trimmed = input;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  if (starts_with(trimmed, "http://") || starts_with(trimmed, "https://")) {
    throw Error("invalid location '" + std::string(input) + "': URI schemes are not supported");
  }
  return std::string(trimmed);
}

void check_proxy(const std::string& proxy) {
  if (proxy.empty()) return;
  std::string scheme;
  size_t colon = proxy.find(':');
  if (colon != std::string::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(proxy[0]))) {
    scheme = proxy.substr(0, colon);
    bool valid = std::all_of(scheme.begin(), scheme.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    if (!valid) scheme.clear();
  }
  std::string lower = scheme;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower != "http" && lower != "https" && lower != "socks5" && lower != "socks5h") {
    throw Error("proxy URL scheme " + go_quote(lower) +
                " is not supported. Supported are http, https, socks5, socks5h");
  }
}

// refMatchingSubdomainPrefix / refMatchingPrefix: the length of the part of
// ref the prefix covers, or npos.
size_t ref_matching_prefix(std::string_view ref, std::string_view prefix) {
  if (starts_with(prefix, "*.")) {
    std::string_view suffix = prefix.substr(1);  // ".example.com"
    size_t index = ref.find(suffix);
    if (index == std::string_view::npos) return std::string_view::npos;
    if (ref.substr(0, index).find('/') != std::string_view::npos) return std::string_view::npos;
    index += suffix.size();
    if (index == ref.size()) return index;
    char c = ref[index];
    return c == ':' || c == '/' || c == '@' ? index : std::string_view::npos;
  }
  if (ref.size() < prefix.size() || !starts_with(ref, prefix)) return std::string_view::npos;
  if (ref.size() == prefix.size()) return prefix.size();
  char c = ref[prefix.size()];
  return c == ':' || c == '/' || c == '@' ? prefix.size() : std::string_view::npos;
}

// The first path component is a registry if it looks like a host.
std::string raw_domain(std::string_view name) {
  size_t slash = name.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view first = name.substr(0, slash);
  if (first.find_first_of(".:") != std::string_view::npos || first == "localhost")
    return std::string(first);
  return "";
}

void validate_short_name(const std::string& name) {
  DockerReference ref;
  try {
    ref = parse_normalized_named(name);
  } catch (const Error& e) {
    throw Error("cannot parse short name: " + go_quote(name) + ": " + e.what());
  }
  if (ref.digest) throw Error("invalid short name " + go_quote(name) + ": must not contain digest");
  if (ref.tag) throw Error("invalid short name " + go_quote(name) + ": must not contain tag");
  if (!raw_domain(name).empty())
    throw Error("invalid short name " + go_quote(name) + ": must not contain registry");
}

void validate_alias_value(const std::string& alias) {
  DockerReference ref;
  try {
    ref = parse_normalized_named(alias);
  } catch (const Error& e) {
    throw Error("parsing alias " + go_quote(alias) + ": " + e.what());
  }
  if (ref.digest) throw Error("invalid alias " + go_quote(alias) + ": must not contain digest");
  if (ref.tag) throw Error("invalid alias " + go_quote(alias) + ": must not contain tag");
  if (raw_domain(alias).empty()) {
    throw Error("invalid alias " + go_quote(alias) + ": must contain registry and repository");
  }
}

const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "datetime";
    default: return "none";
  }
}

[[noreturn]] void type_error(const toml::node& n, const std::string& key, const char* want) {
  throw Error("toml: line " + std::to_string(n.source().begin.line) + " (last key " + go_quote(key) +
              "): incompatible types: TOML value has type " + toml_type_name(n) +
              "; destination has type " + want);
}

std::string get_string(const toml::node& n, const std::string& key) {
  if (const auto* s = n.as_string()) return s->get();
  type_error(n, key, "string");
}

bool get_bool(const toml::node& n, const std::string& key) {
  if (const auto* b = n.as_boolean()) return b->get();
  type_error(n, key, "bool");
}

std::vector<std::string> get_strings(const toml::node& n, const std::string& key) {
  const toml::array* a = n.as_array();
  if (a == nullptr) type_error(n, key, "[]string");
  std::vector<std::string> out;
  for (const toml::node& item : *a) out.push_back(get_string(item, key));
  return out;
}

const toml::table& get_table(const toml::node& n, const std::string& key) {
  if (const auto* t = n.as_table()) return *t;
  type_error(n, key, "table");
}

RegistryMirror decode_mirror(const toml::table& t) {
  RegistryMirror m;
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key == "location")
      m.location = get_string(v, "registry.mirror.location");
    else if (key == "insecure")
      m.insecure = get_bool(v, "registry.mirror.insecure");
    else if (key == "pull-from-mirror")
      m.pull_from_mirror = get_string(v, "registry.mirror.pull-from-mirror");
    else if (key == "proxy")
      m.proxy = get_string(v, "registry.mirror.proxy");
  }
  return m;
}

struct DecodedRegistry {
  RegistryEntry entry;
  std::string pull_from_mirror;  // only to refuse it on a primary
};

DecodedRegistry decode_registry(const toml::table& t) {
  DecodedRegistry d;
  RegistryEntry& r = d.entry;
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key == "prefix")
      r.prefix = get_string(v, "registry.prefix");
    else if (key == "location")
      r.location = get_string(v, "registry.location");
    else if (key == "insecure")
      r.insecure = get_bool(v, "registry.insecure");
    else if (key == "blocked")
      r.blocked = get_bool(v, "registry.blocked");
    else if (key == "mirror-by-digest-only")
      r.mirror_by_digest_only = get_bool(v, "registry.mirror-by-digest-only");
    else if (key == "proxy")
      r.proxy = get_string(v, "registry.proxy");
    else if (key == "pull-from-mirror")
      d.pull_from_mirror = get_string(v, "registry.pull-from-mirror");
    else if (key == "mirror") {
      const toml::array* mirrors = v.as_array();
      if (mirrors == nullptr) type_error(v, "registry.mirror", "[]sysregistriesv2.Endpoint");
      for (const toml::node& m : *mirrors)
        r.mirrors.push_back(decode_mirror(get_table(m, "registry.mirror")));
    }
  }
  return d;
}

// Sorted by prefix, first of each prefix kept (later duplicates in one
// file can never match, c/image drops them).
std::vector<RegistryEntry> unique_sorted(std::vector<RegistryEntry> entries) {
  std::vector<RegistryEntry> out;
  std::set<std::string> seen;
  for (RegistryEntry& e : entries) {
    if (seen.insert(e.prefix).second) out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(), [](const RegistryEntry& a, const RegistryEntry& b) {
    return a.prefix < b.prefix;
  });
  return out;
}

// *.conf files directly in dir, in name order; a missing dir has none.
std::vector<std::string> drop_in_files(const std::string& dir) {
  std::vector<std::string> names;
  try {
    names = list_config_dir(dir, {.suffix = ".conf", .skip_subdirectories = true, .absent = {ENOTDIR}});
  } catch (const Error& e) {
    throw Error(std::string("reading registries.conf.d: ") + e.what());
  }
  for (std::string& n : names) n = dir + "/" + n;
  return names;
}

}  // namespace

// Decodes and validates one file (c/image's loadConfigFile).
struct RegistriesConfParser {
  static RegistriesConf parse_file(std::string_view text, const std::string& name, bool force_v2) {
    toml::table root;
    try {
      root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
      throw Error("toml: line " + std::to_string(e.source().begin.line) + ", column " +
                  std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
    }

    RegistriesConf conf;
    std::vector<DecodedRegistry> decoded;
    bool v2_set = false;
    bool aliases_set = false;
    std::vector<std::pair<std::string, std::string>> aliases;
    // v1: [registries.search|insecure|block] registries = [...]
    std::optional<std::vector<std::string>> v1_search, v1_insecure, v1_block;

    for (auto&& [k, v] : root) {
      const std::string key(k.str());
      if (key == "registry") {
        const toml::array* regs = v.as_array();
        if (regs == nullptr) type_error(v, "registry", "[]sysregistriesv2.Registry");
        for (const toml::node& r : *regs)
          decoded.push_back(decode_registry(get_table(r, "registry")));
        v2_set = true;
      } else if (key == "unqualified-search-registries") {
        conf.search_ = get_strings(v, key);
        conf.search_set_ = true;
        v2_set = true;
      } else if (key == "credential-helpers") {
        conf.helpers_ = get_strings(v, key);
        conf.helpers_set_ = true;
        v2_set = true;
      } else if (key == "short-name-mode") {
        conf.short_name_mode_ = get_string(v, key);
        if (!conf.short_name_mode_.empty()) v2_set = true;
      } else if (key == "additional-layer-store-auth-helper") {
        conf.als_helper_ = get_string(v, key);
        if (!conf.als_helper_.empty()) v2_set = true;
      } else if (key == "aliases") {
        for (auto&& [ak, av] : get_table(v, key)) {
          aliases.emplace_back(std::string(ak.str()),
                               get_string(av, "aliases." + std::string(ak.str())));
        }
        aliases_set = true;
        v2_set = true;
      } else if (key == "registries") {
        for (auto&& [sk, sv] : get_table(v, key)) {
          const std::string section(sk.str());
          std::optional<std::vector<std::string>>* target = section == "search"     ? &v1_search
                                                            : section == "insecure" ? &v1_insecure
                                                            : section == "block"    ? &v1_block
                                                                                    : nullptr;
          if (target == nullptr) continue;
          const std::string where = "registries." + section;
          for (auto&& [rk, rv] : get_table(sv, where)) {
            if (rk.str() == "registries") *target = get_strings(rv, where + ".registries");
          }
        }
      }
    }

    if (v1_search || v1_insecure || v1_block) {
      if (force_v2) throw Error("registry must be in v2 format but is in v1");
      if (v2_set) throw Error("mixing sysregistry v1/v2 is not supported");
      convert_v1(v1_search, v1_insecure, v1_block, &conf, &decoded);
    }

    post_process(decoded, &conf);

    if (!conf.short_name_mode_.empty() && conf.short_name_mode_ != "disabled" &&
        conf.short_name_mode_ != "enforcing" && conf.short_name_mode_ != "permissive") {
      throw Error("invalid short-name mode: " + go_quote(conf.short_name_mode_));
    }
    for (const RegistryEntry& r : conf.registries_) {
      if (starts_with(r.prefix, "*.") && r.prefix.find_first_of("/@:") != std::string::npos) {
        throw Error("Wildcarded prefix should be in the format: *.example.com. Current prefix " +
                    go_quote(r.prefix) + " is incorrectly formatted");
      }
    }
    if (aliases_set) {
      std::string errors;
      for (auto& [alias_name, value] : aliases) {
        try {
          validate_short_name(alias_name);
          if (!value.empty()) validate_alias_value(value);
        } catch (const Error& e) {
          if (!errors.empty()) errors += "\n";
          errors += e.what();
          continue;
        }
        conf.aliases_[alias_name] = value;
      }
      if (!errors.empty()) throw Error("validating short-name aliases: " + errors);
    }
    return conf;
  }

  // A v1 file becomes [[registry]] entries for blocked and insecure hosts;
  // its search list becomes unqualified-search-registries.
  static void convert_v1(const std::optional<std::vector<std::string>>& search,
                         const std::optional<std::vector<std::string>>& insecure,
                         const std::optional<std::vector<std::string>>& block, RegistriesConf* conf,
                         std::vector<DecodedRegistry>* decoded) {
    decoded->clear();
    auto get = [&](const std::string& raw) -> RegistryEntry& {
      std::string location = parse_location(raw);
      for (DecodedRegistry& d : *decoded) {
        if (d.entry.location == location) return d.entry;
      }
      DecodedRegistry d;
      d.entry.location = location;
      d.entry.prefix = location;
      decoded->push_back(std::move(d));
      return decoded->back().entry;
    };
    if (block) {
      for (const std::string& b : *block) get(b).blocked = true;
    }
    if (insecure) {
      for (const std::string& i : *insecure) get(i).insecure = true;
    }
    if (search) {
      conf->search_ = *search;
      conf->search_set_ = true;
    }
  }

  // c/image's postProcessRegistries.
  static void post_process(std::vector<DecodedRegistry>& decoded, RegistriesConf* conf) {
    std::vector<RegistryEntry> regs;
    for (DecodedRegistry& d : decoded) {
      RegistryEntry r = std::move(d.entry);
      r.location = parse_location(r.location);
      if (r.prefix.empty()) {
        if (r.location.empty())
          throw Error("invalid condition: both location and prefix are unset");
        r.prefix = r.location;
      } else {
        r.prefix = parse_location(r.prefix);
        if (!starts_with(r.prefix, "*.") && r.location.empty()) {
          throw Error(
              "invalid condition: location is unset and prefix is not in the format: "
              "*.example.com");
        }
      }
      check_proxy(r.proxy);
      if (!d.pull_from_mirror.empty()) {
        throw Error("pull-from-mirror must not be set for a non-mirror registry " +
                    go_quote(r.prefix));
      }
      for (RegistryMirror& m : r.mirrors) {
        m.location = parse_location(m.location);
        if (m.location.empty()) throw Error("invalid condition: mirror location is unset");
        check_proxy(m.proxy);
        if (r.mirror_by_digest_only && !m.pull_from_mirror.empty()) {
          throw Error("cannot set mirror usage mirror-by-digest-only for the registry (" +
                      go_quote(r.prefix) + ") and pull-from-mirror for per-mirror (" +
                      go_quote(m.location) + ") at the same time");
        }
        if (!m.pull_from_mirror.empty() && m.pull_from_mirror != "all" &&
            m.pull_from_mirror != "digest-only" && m.pull_from_mirror != "tag-only") {
          throw Error("unsupported pull-from-mirror value " + go_quote(m.pull_from_mirror) +
                      " for mirror " + go_quote(m.location));
        }
      }
      regs.push_back(std::move(r));
    }
    // One physical registry listed under several prefixes must agree on
    // how it is reached. Comparing each entry with the first of its
    // location finds the same conflicts as comparing all pairs, in linear
    // time even for a hostile file with many entries.
    std::map<std::string, const RegistryEntry*> first_by_location;
    for (const RegistryEntry& r : regs) {
      const std::string& id = r.location.empty() ? r.prefix : r.location;
      const RegistryEntry* first = first_by_location.emplace(id, &r).first->second;
      const char* field = r.insecure != first->insecure ? "insecure"
                          : r.proxy != first->proxy     ? "proxy"
                          : r.blocked != first->blocked ? "blocked"
                                                        : nullptr;
      if (field != nullptr) {
        throw Error("registry '" + r.location + "' is defined multiple times with conflicting '" +
                    field + "' setting");
      }
    }
    for (std::string& s : conf->search_) {
      s = parse_location(s);
      if (!is_domain(s)) throw Error("Invalid unqualified-search-registries entry " + go_quote(s));
    }
    conf->registries_ = unique_sorted(std::move(regs));
  }
};

RegistriesConfPaths RegistriesConf::default_paths(const SystemContext& ctx) {
  const std::string home = home_dir();
  const std::string user_file = home + "/.config/containers/registries.conf";
  const std::string user_dir = home + "/.config/containers/registries.conf.d";
  RegistriesConfPaths p;
  if (!ctx.registries_conf.empty()) {
    p.config_path = ctx.registries_conf;
    p.explicit_path = true;
  } else if (path_exists(user_file)) {
    // A per-user file replaces the system configuration entirely.
    p.config_path = user_file;
    p.user_config_dir = user_dir;
    return p;
  } else {
    p.config_path = kSystemConfPath;
  }
  p.config_dir = kSystemConfDir;
  p.user_config_dir = user_dir;
  return p;
}

RegistriesConf RegistriesConf::load(const SystemContext& ctx) {
  return load_from(default_paths(ctx));
}

RegistriesConf RegistriesConf::load_from(const RegistriesConfPaths& paths) {
  RegistriesConf conf;
  auto read = [](const std::string& path, bool force_v2, bool* missing) -> RegistriesConf {
    const std::optional<std::string> text = read_config_file(path, kMaxRegistriesConfSize);
    if (!text) {
      *missing = true;
      return {};
    }
    return RegistriesConfParser::parse_file(*text, path, force_v2);
  };
  try {
    bool missing = false;
    conf = read(paths.config_path, false, &missing);
    if (missing && paths.explicit_path) {
      throw path_error("open", paths.config_path, ENOENT);
    }
  } catch (const Error& e) {
    throw Error("loading registries configuration " + go_quote(paths.config_path) + ": " + e.what());
  }
  std::vector<std::string> drop_ins = drop_in_files(paths.config_dir);
  for (std::string& f : drop_in_files(paths.user_config_dir)) drop_ins.push_back(std::move(f));
  for (const std::string& path : drop_ins) {
    try {
      bool missing = false;
      RegistriesConf drop_in = read(path, true, &missing);
      if (!missing) conf.merge(std::move(drop_in));  // removed since listing: fine
    } catch (const Error& e) {
      throw Error("loading drop-in registries configuration " + go_quote(path) + ": " + e.what());
    }
  }
  conf.config_path_ = paths.config_path;
  conf.config_dir_path_ = paths.user_config_dir.empty() ? paths.config_dir : paths.user_config_dir;
  conf.finish();
  return conf;
}

RegistriesConf RegistriesConf::parse(std::string_view toml, const std::string& name) {
  RegistriesConf conf;
  try {
    conf = RegistriesConfParser::parse_file(toml, name, false);
  } catch (const Error& e) {
    throw Error("loading registries configuration " + go_quote(name) + ": " + e.what());
  }
  conf.config_path_ = name;
  conf.finish();
  return conf;
}

void RegistriesConf::merge(RegistriesConf&& drop_in) {
  std::map<std::string, RegistryEntry> by_prefix;
  for (RegistryEntry& r : registries_) by_prefix[r.prefix] = std::move(r);
  for (RegistryEntry& r : drop_in.registries_) by_prefix[r.prefix] = std::move(r);
  registries_.clear();
  for (auto& [prefix, r] : by_prefix) registries_.push_back(std::move(r));
  if (drop_in.search_set_) {
    search_ = std::move(drop_in.search_);
    search_set_ = true;
  }
  if (drop_in.helpers_set_) {
    helpers_ = std::move(drop_in.helpers_);
    helpers_set_ = true;
  }
  if (!drop_in.short_name_mode_.empty()) short_name_mode_ = std::move(drop_in.short_name_mode_);
  if (!drop_in.als_helper_.empty()) als_helper_ = std::move(drop_in.als_helper_);
  for (auto& [name, value] : drop_in.aliases_) aliases_[name] = std::move(value);
}

void RegistriesConf::finish() {
  if (helpers_.empty()) helpers_ = {std::string(kAuthFileCredentialHelper)};
}

std::string RegistriesConf::short_name_mode() const {
  return short_name_mode_.empty() ? "permissive" : short_name_mode_;
}

const RegistryEntry* RegistriesConf::find(std::string_view name) const {
  const RegistryEntry* best = nullptr;
  for (const RegistryEntry& r : registries_) {
    if (ref_matching_prefix(name, r.prefix) == std::string_view::npos) continue;
    if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
  }
  return best;
}

const RegistryEntry* RegistriesConf::find(const DockerReference& ref) const {
  return find(ref.name());
}

void RegistriesConf::throw_blocked(const RegistryEntry& entry) const {
  std::string where = config_path_;
  if (!config_dir_path_.empty()) where += " or " + config_dir_path_;
  throw Error("registry " + entry.prefix + " is blocked in " + where);
}

std::vector<PullSource> RegistriesConf::pull_sources(const DockerReference& ref) const {
  const RegistryEntry* reg = find(ref);
  if (reg == nullptr) return {PullSource{ref, false, false}};
  if (reg->blocked) throw_blocked(*reg);

  const bool digested = ref.digest.has_value();
  std::vector<const RegistryMirror*> mirrors;
  for (const RegistryMirror& m : reg->mirrors) {
    if (reg->mirror_by_digest_only) {
      if (!digested) continue;
    } else if ((m.pull_from_mirror == "digest-only" && !digested) ||
               (m.pull_from_mirror == "tag-only" && digested)) {
      continue;
    }
    mirrors.push_back(&m);
  }

  const std::string ref_string = ref.to_string();
  auto rewrite = [&](const std::string& location) -> DockerReference {
    size_t matched = ref_matching_prefix(ref_string, reg->prefix);
    if (matched == std::string_view::npos) {
      throw Error("invalid prefix '" + reg->prefix + "' for reference '" + ref_string + "'");
    }
    if (location.empty()) {
      if (!starts_with(reg->prefix, "*.")) {
        throw Error("invalid prefix '" + reg->prefix +
                    "' for empty location, should be in the format: *.example.com");
      }
      return ref;
    }
    const std::string rewritten = location + ref_string.substr(matched);
    DockerReference out;
    try {
      out = parse_normalized_named(rewritten);
    } catch (const Error& e) {
      throw Error(std::string("rewriting reference: ") + e.what());
    }
    // reference.ParseNamed: the text must already be in canonical form.
    if (out.to_string() != rewritten) {
      throw Error("rewriting reference: repository name must be canonical");
    }
    return out;
  };

  std::vector<PullSource> sources;
  for (const RegistryMirror* m : mirrors)
    sources.push_back(PullSource{rewrite(m->location), m->insecure, true});
  sources.push_back(PullSource{rewrite(reg->location), reg->insecure, false});
  return sources;
}

bool RegistriesConf::insecure(const std::string& host) const {
  const RegistryEntry* reg = find(std::string_view(host));
  return reg != nullptr && reg->insecure;
}

bool RegistriesConf::insecure(const DockerReference& ref) const {
  const RegistryEntry* reg = find(ref);
  return reg != nullptr && reg->insecure;
}

void RegistriesConf::check_not_blocked(const DockerReference& ref) const {
  const RegistryEntry* reg = find(ref);
  if (reg != nullptr && reg->blocked) throw_blocked(*reg);
}

}  // namespace ferry
