#include "transports/docker/docker_reference.h"

#include "config/certs_d.h"
#include "config/credentials.h"
#include "config/registries_conf.h"
#include "image/manifest/manifest.h"
#include "image/manifest/media_types.h"
#include "io/digest.h"
#include "net/link_header.h"
#include "transports/docker/docker_destination.h"
#include "transports/docker/docker_source.h"
#include "util/error.h"
#include "util/gotype.h"
#include "util/log.h"

namespace ferry::docker {

namespace mt = manifest::media_type;

namespace {

// Tag lists are not bounded by c/image (it streams them); a page this large
// is not a real registry's.
constexpr size_t kMaxTagsPageSize = 32 << 20;
// Pages followed at most; distribution serves 100 tags per page by default
// when asked, so this is millions of tags.
constexpr int kMaxTagPages = 100000;

// distribution/reference's tag grammar: [\w][\w.-]{0,127}.
bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(t.front())) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

const gojson::Type& tags_body_type() {
  static const gojson::Type t{gojson::Kind::kStruct,
                              "struct { Tags []string }",
                              {{"Tags", &gojson::string_slice_type()}},
                              nullptr};
  return t;
}

}  // namespace

DockerImageReference::DockerImageReference(DockerReference ref, bool unknown_digest)
    : ref_(std::move(ref)), unknown_digest_(unknown_digest) {}

std::string DockerImageReference::string_within_transport() const {
  std::string s = "//" + ref_.familiar_string();
  if (unknown_digest_) s += kUnknownDigestSuffix;
  return s;
}

std::string DockerImageReference::policy_identity() const {
  if (unknown_digest_) return ref_.name();
  return ferry::policy_identity(ref_);
}

std::vector<std::string> DockerImageReference::policy_namespaces() const { return ferry::policy_namespaces(ref_); }

std::string DockerImageReference::tag_or_digest() const {
  if (ref_.digest) return *ref_.digest;
  if (ref_.tag) return *ref_.tag;
  throw Error("Internal error: docker reference " + ref_.to_string() + " has neither a tag nor a digest");
}

std::unique_ptr<ImageSource> DockerImageReference::new_source(const SystemContext& ctx) const {
  return std::make_unique<DockerSource>(*this, ctx);
}

std::unique_ptr<ImageDestination> DockerImageReference::new_destination(const SystemContext& ctx) const {
  return std::make_unique<DockerDestination>(*this, ctx);
}

void DockerImageReference::delete_image(const SystemContext& ctx) const {
  if (unknown_digest_) throw Error("Docker reference without a tag or digest cannot be deleted");
  auto http = make_http_client(ctx);
  auto client = make_client(*http, ctx, ref_, "*");

  net::RegistryClient::Call get;
  get.target = manifest_path(ref_.path, tag_or_digest());
  get.headers.emplace_back("Accept", manifest_accept_header());
  std::string body;
  net::Response r = client->fetch(get, &body, net::kMaxManifestBodySize);
  if (r.status == 404)
    throw Error("Unable to delete " + ref_.to_string() +
                ". Image may not exist or is not stored with a v2 Schema in a v2 registry");
  if (r.status != 200) throw_registry_failure("deleting " + ref_.to_string(), r, body);

  std::string digest;
  try {
    digest = manifest::manifest_digest(body);
  } catch (const Error& e) {
    throw Error(std::string("computing manifest digest: ") + e.what());
  }
  net::RegistryClient::Call del;
  del.method = "DELETE";
  del.target = manifest_path(ref_.path, digest);
  del.headers.emplace_back("Accept", manifest_accept_header());
  std::string del_body;
  net::Response d = client->fetch(del, &del_body, net::kMaxErrorBodySize);
  if (d.status != 202) throw_registry_failure("deleting " + ref_.to_string(), d, del_body);
}

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  if (within.substr(0, 2) != "//")
    throw Error("docker: image reference " + std::string(within) + " does not start with //");
  std::string_view rest = within.substr(2);
  bool unknown = false;
  if (rest.size() >= kUnknownDigestSuffix.size() &&
      rest.substr(rest.size() - kUnknownDigestSuffix.size()) == kUnknownDigestSuffix) {
    unknown = true;
    rest.remove_suffix(kUnknownDigestSuffix.size());
  }
  if (unknown) {
    DockerReference r = parse_normalized_named(rest);
    if (r.tag || r.digest)
      throw Error("docker: image reference \"" + r.to_string() + std::string(kUnknownDigestSuffix) +
                  "\" has unknown digest set but it contains either a tag or digest");
    return std::make_unique<DockerImageReference>(std::move(r), true);
  }
  return std::make_unique<DockerImageReference>(parse_docker_reference_for_transport(rest), false);
}

DockerReference parse_repository_reference(const std::string& image_name) {
  if (image_name.rfind("docker://", 0) != 0)
    throw Error("docker: image reference " + image_name + " does not start with docker://");
  DockerReference r = parse_normalized_named(std::string_view(image_name).substr(9));
  if (r.tag || r.digest) throw Error("No tag or digest allowed in reference");
  return r;
}

std::string api_host(const std::string& domain) {
  return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

std::string manifest_path(const std::string& repo, const std::string& tag_or_digest) {
  return "/v2/" + repo + "/manifests/" + tag_or_digest;
}
std::string blob_path(const std::string& repo, const std::string& digest) {
  return "/v2/" + repo + "/blobs/" + digest;
}
std::string tags_path(const std::string& repo) { return "/v2/" + repo + "/tags/list"; }
std::string upload_path(const std::string& repo) { return "/v2/" + repo + "/blobs/uploads/"; }
std::string mount_path(const std::string& repo, const std::string& digest, const std::string& from_repo) {
  return upload_path(repo) + "?" + net::encode_query({{"mount", digest}, {"from", from_repo}});
}

const std::string& manifest_accept_header() {
  static const std::string accept = std::string(mt::kOciManifest) + ", " + mt::kDockerV2Schema2 + ", " +
                                    mt::kDockerV2Schema1Signed + ", " + mt::kDockerV2Schema1 + ", " +
                                    mt::kDockerV2List + ", " + mt::kOciIndex;
  return accept;
}

std::unique_ptr<net::HttpClient> make_http_client(const SystemContext& ctx) {
  net::HttpClientOptions opts;
  opts.user_agent = ctx.user_agent;
  opts.debug = logging::debug_enabled();
  return std::make_unique<net::HttpClient>(opts);
}

std::unique_ptr<net::RegistryClient> make_client(net::HttpClient& http, const SystemContext& ctx,
                                                 const DockerReference& ref, const std::string& actions,
                                                 std::optional<bool> insecure_override) {
  bool insecure = false;
  if (insecure_override) {
    insecure = *insecure_override;  // a pull source: blocked was checked by pull_sources
  } else {
    RegistriesConf conf = RegistriesConf::load(ctx);
    conf.check_not_blocked(ref);
    insecure = conf.insecure(ref.domain);
  }
  net::RegistryClientConfig cfg;
  cfg.registry = ref.domain;
  cfg.api_host = api_host(ref.domain);
  cfg.repository = ref.path;
  cfg.actions = actions;
  // certs.d is looked up under the name the user wrote (docker.io), as c/image does.
  cfg.tls = tls_config_for(ctx, ref.domain, insecure);
  if (ctx.registry_token && !ctx.registry_token->empty()) cfg.registry_token = ctx.registry_token;
  cfg.credentials = lookup_credentials(ctx, ref.domain, ref.path);
  return std::make_unique<net::RegistryClient>(http, std::move(cfg));
}

[[noreturn]] void throw_registry_failure(const std::string& context, const net::Response& r, const std::string& body,
                                         bool not_found_is_2) {
  net::RegistryHttpFailure f = net::RegistryClient::failure_of(r, body);
  std::string msg = context + ": " + f.text();
  if (not_found_is_2) {
    std::string code = f.code();
    if (code == "MANIFEST_UNKNOWN" || code == "NAME_UNKNOWN" || (r.status == 404 && code.empty()))
      throw NotFoundError(msg);
  }
  throw net::RegistryError(msg, std::move(f));
}

std::vector<std::string> list_tags(const DockerReference& repo, const SystemContext& ctx) {
  auto http = make_http_client(ctx);
  auto client = make_client(*http, ctx, repo, "pull");
  return list_tags(*client, repo);
}

std::vector<std::string> list_tags(net::RegistryClient& client, const DockerReference& repo) {
  std::vector<std::string> tags;
  std::string target = tags_path(repo.path);
  for (int page = 0;; ++page) {
    if (page >= kMaxTagPages) throw Error("fetching tags list: more than " + std::to_string(kMaxTagPages) + " pages");
    net::RegistryClient::Call call;
    call.target = target;
    std::string body;
    net::Response r = client.fetch(call, &body, kMaxTagsPageSize);
    if (r.status != 200) throw_registry_failure("fetching tags list", r, body);
    gojson::Json v;
    try {
      v = gojson::unmarshal(body, tags_body_type());
    } catch (const Error& e) {
      throw Error(std::string("fetching tags list: ") + e.what());
    }
    const gojson::Json& list = v.at("Tags");
    if (list.is_array()) {
      for (const gojson::Json& t : list) {
        std::string tag = t.get<std::string>();
        if (tag.empty()) continue;
        if (!valid_tag(tag)) {
          if (digest_problem(tag) == nullptr) continue;  // Artifactory lists digests
          throw Error("registry returned invalid tag " + gojson::go_quote(tag) + ": invalid tag format");
        }
        tags.push_back(std::move(tag));
      }
    }
    std::optional<std::string> next = net::next_link(r.header_values("link"));
    if (!next) break;
    // Only the path and query are used (c/image): a registry cannot send
    // the client, with its credentials, to another host.
    std::string link = *next;
    if (size_t scheme = link.find("://"); scheme != std::string::npos) {
      size_t path = link.find('/', scheme + 3);
      link = path == std::string::npos ? "/" : link.substr(path);
    }
    if (link.empty() || link.front() != '/') {
      const std::string origin = "http://registry.invalid";
      link = net::resolve_url(origin + tags_path(repo.path), link).substr(origin.size());
    }
    if (size_t hash = link.find('#'); hash != std::string::npos) link.resize(hash);
    target = link;
  }
  return tags;
}

bool tag_listing_disallowed(const Error& e) {
  auto* re = dynamic_cast<const net::RegistryError*>(&e);
  if (!re) return false;
  const net::RegistryHttpFailure& f = re->failure();
  if (f.code() == "DENIED") return true;
  return f.code() == "UNKNOWN" && !f.errors.empty() && f.errors.front().message == "404 page not found";
}

}  // namespace ferry::docker
