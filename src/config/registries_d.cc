#include "config/registries_d.h"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "config/config_dir.h"
#include "io/fs.h"
#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {
namespace {

constexpr const char* kSystemDir = "/etc/containers/registries.d";

std::string line_of(const YAML::Node& n) { return std::to_string(n.Mark().line + 1); }

std::string yaml_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: return "!!seq";
    case YAML::NodeType::Map: return "!!map";
    case YAML::NodeType::Null: return "!!null";
    default: return "!!str `" + n.Scalar().substr(0, 64) + "`";
  }
}

[[noreturn]] void unmarshal_error(const YAML::Node& n, const std::string& into) {
  throw Error("yaml: unmarshal errors:\n  line " + line_of(n) + ": cannot unmarshal " +
              yaml_kind(n) + " into " + into);
}

// A scalar into a Go string: any scalar's text; null is "".
std::string decode_string(const YAML::Node& n) {
  if (n.IsNull()) return "";
  if (!n.IsScalar()) unmarshal_error(n, "string");
  return n.Scalar();
}

// yaml.v3 into *bool: YAML 1.2 booleans plus the 1.1 words it still takes.
std::optional<bool> decode_bool(const YAML::Node& n) {
  if (n.IsNull()) return std::nullopt;
  if (n.IsScalar()) {
    static const std::set<std::string> yes = {"true", "True", "TRUE", "y",  "Y", "yes",
                                              "Yes",  "YES",  "on",   "On", "ON"};
    static const std::set<std::string> no = {"false", "False", "FALSE", "n",   "N",  "no",
                                             "No",    "NO",    "off",   "Off", "OFF"};
    if (yes.count(n.Scalar())) return true;
    if (no.count(n.Scalar())) return false;
  }
  unmarshal_error(n, "bool");
}

// Calls fn(key, value) for each member, refusing a repeated key as
// yaml.v3 does.
template <typename Fn>
void for_each_member(const YAML::Node& map, Fn&& fn) {
  std::map<std::string, int> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // it-> yields a temporary pair: copy the (cheap, shared) node handles.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar() && !key.IsNull()) unmarshal_error(key, "string");
    std::string name = key.IsNull() ? "" : key.Scalar();
    int line = key.Mark().line + 1;
    if (auto [pos, fresh] = seen.emplace(name, line); !fresh) {
      throw Error("yaml: unmarshal errors:\n  line " + std::to_string(line) + ": mapping key " +
                  go_quote(name) + " already defined at line " + std::to_string(pos->second));
    }
    fn(name, value);
  }
}

LookasideSection decode_section(const YAML::Node& n) {
  LookasideSection s;
  if (n.IsNull()) return s;
  if (!n.IsMap()) unmarshal_error(n, "docker.registryNamespace");
  for_each_member(n, [&](const std::string& key, const YAML::Node& v) {
    if (key == "lookaside")
      s.lookaside = decode_string(v);
    else if (key == "lookaside-staging")
      s.lookaside_staging = decode_string(v);
    else if (key == "sigstore")
      s.sigstore = decode_string(v);
    else if (key == "sigstore-staging")
      s.sigstore_staging = decode_string(v);
    else if (key == "use-sigstore-attachments")
      s.use_sigstore_attachments = decode_bool(v);
  });
  return s;
}

// The scopes tried for ref, most specific first (c/image's
// PolicyConfigurationIdentity, then PolicyConfigurationNamespaces).
std::vector<std::string> scopes_for(const DockerReference& ref) {
  std::vector<std::string> scopes;
  if (ref.tag.has_value() != ref.digest.has_value()) scopes.push_back(ref.to_string());
  for (std::string& ns : policy_namespaces(ref)) scopes.push_back(std::move(ns));
  return scopes;
}

}  // namespace

std::string LookasideSection::top_level(bool write) const {
  if (write) {
    if (!lookaside_staging.empty()) return lookaside_staging;
    if (!sigstore_staging.empty()) return sigstore_staging;
  }
  if (!lookaside.empty()) return lookaside;
  return sigstore;
}

std::string RegistriesD::default_dir(const SystemContext& ctx) {
  if (!ctx.registries_d.empty()) return ctx.registries_d;
  const std::string user_dir = home_dir() + "/.config/containers/registries.d";
  if (path_exists(user_dir)) return user_dir;
  return kSystemDir;
}

RegistriesD RegistriesD::load(const SystemContext& ctx) { return load_dir(default_dir(ctx)); }

RegistriesD RegistriesD::load_dir(const std::string& dir) {
  RegistriesD merged;
  // Go lists in directory order; name order makes "defined both in" stable.
  for (const std::string& name : list_config_dir(dir, {.suffix = ".yaml"})) {
    const std::string path = dir + "/" + name;
    const std::optional<std::string> text = read_config_file(path, kMaxRegistriesDFileSize);
    if (text) merged.merge(parse(*text, path), path);  // else removed since listing
  }
  return merged;
}

RegistriesD RegistriesD::parse(std::string_view yaml, const std::string& name) {
  RegistriesD conf;
  try {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      throw Error("yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (root.IsNull() || !root.IsDefined()) return conf;
    if (!root.IsMap()) unmarshal_error(root, "docker.registryConfiguration");
    for_each_member(root, [&](const std::string& key, const YAML::Node& v) {
      if (key == "default-docker") {
        // A null section leaves the pointer nil in Go: not defined.
        if (v.IsNull())
          conf.default_docker_.reset();
        else
          conf.default_docker_ = decode_section(v);
      } else if (key == "docker") {
        if (v.IsNull()) return;
        if (!v.IsMap()) unmarshal_error(v, "map[string]docker.registryNamespace");
        for_each_member(v, [&](const std::string& scope, const YAML::Node& section) {
          conf.docker_[scope] = decode_section(section);
        });
      }
    });
  } catch (const Error& e) {
    throw Error("parsing " + name + ": " + e.what());
  } catch (const YAML::Exception& e) {
    // Conversions inside yaml-cpp; should not happen with the checks above.
    throw Error("parsing " + name + ": yaml: " + e.what());
  }
  return conf;
}

void RegistriesD::merge(RegistriesD&& file, const std::string& path) {
  if (file.default_docker_) {
    if (default_docker_) {
      throw Error(
          "Error parsing signature storage configuration: \"default-docker\" defined both in " +
          go_quote(default_docker_from_) + " and " + go_quote(path));
    }
    default_docker_ = std::move(file.default_docker_);
    default_docker_from_ = path;
  }
  for (auto& [scope, section] : file.docker_) {
    if (auto it = docker_from_.find(scope); it != docker_from_.end()) {
      throw Error("Error parsing signature storage configuration: \"docker\" namespace " +
                  go_quote(scope) + " defined both in " + go_quote(it->second) + " and " + go_quote(path));
    }
    docker_[scope] = std::move(section);
    docker_from_[scope] = path;
  }
}

std::string RegistriesD::configured_lookaside(const DockerReference& ref, bool write) const {
  for (const std::string& scope : scopes_for(ref)) {
    if (auto it = docker_.find(scope); it != docker_.end()) {
      if (std::string url = it->second.top_level(write); !url.empty()) return url;
    }
  }
  if (default_docker_) return default_docker_->top_level(write);
  return "";
}

std::string RegistriesD::lookaside_for(const DockerReference& ref, bool write) const {
  std::string url = configured_lookaside(ref, write);
  return url.empty() ? builtin_default_lookaside() : url;
}

std::string RegistriesD::lookaside_base_url(const DockerReference& ref, bool write) const {
  std::string url = lookaside_for(ref, write);
  // The repository extends the URL's path, before any query or fragment.
  size_t scheme = url.find("://");
  size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("?#", from);
  if (end == std::string::npos) end = url.size();
  url.insert(end, "/" + ref.path);
  return url;
}

bool RegistriesD::use_sigstore_attachments(const DockerReference& ref) const {
  for (const std::string& scope : scopes_for(ref)) {
    if (auto it = docker_.find(scope); it != docker_.end() && it->second.use_sigstore_attachments) {
      return *it->second.use_sigstore_attachments;
    }
  }
  if (default_docker_ && default_docker_->use_sigstore_attachments) {
    return *default_docker_->use_sigstore_attachments;
  }
  return false;
}

std::string builtin_default_lookaside() {
  if (::geteuid() == 0) return "file:///var/lib/containers/sigstore";
  return "file://" + home_dir() + "/.local/share/containers/sigstore";
}

}  // namespace ferry
