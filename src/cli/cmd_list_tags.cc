// `list-tags SOURCE-IMAGE`: docker-archive now; docker:// with the registry
// transport.
#include <cstdio>

#include "cli/command.h"
#include "cli/duration.h"
#include "image/reference_grammar.h"
#include "ops/retry.h"
#include "transports/docker/docker_reference.h"
#include "transports/docker_archive/archive_reference.h"
#include "util/error.h"
#include "util/gojson.h"
#include "util/log.h"

namespace ferry::cli {

namespace {

class ListTagsCommand : public Command {
 public:
  explicit ListTagsCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "list-tags [command options] SOURCE-IMAGE";
    h.short_desc = "List tags in the transport/repository specified by the SOURCE-IMAGE";
    h.long_desc =
        "Return the list of tags from the transport/repository \"SOURCE-IMAGE\"\n\n"
        "Supported transports:\ndocker docker-archive\n\n"
        "See skopeo-list-tags(1) section \"REPOSITORY NAMES\" for the expected format";
    h.example = env_->program + " list-tags docker://docker.io/fedora";
    return h;
  }

  void define(FlagSet& fs) override {
    shared_.define(fs);
    image_.define(fs);
    retry_.define(fs);
  }

  int run(const std::vector<std::string>& args) override {
    if (args.size() != 1) usage_error(*env_, *this, "Exactly one non-option argument expected");
    const std::string& name = args[0];
    auto colon = name.find(':');
    if (colon == std::string::npos)
      throw Error("Invalid \"" + name + "\": does not specify a transport");
    std::string transport = name.substr(0, colon);
    gojson::Json out = gojson::Json::object();
    if (transport == "docker-archive") {
      auto parts = parse_docker_archive_reference(name.substr(colon + 1));
      std::vector<std::string> tags = docker_archive::list_tags(parts.path);
      out["Tags"] = tags.empty() ? gojson::Json(nullptr) : gojson::Json(tags);
    } else if (transport == "docker") {
      DockerReference repo = docker::parse_repository_reference(name);
      const GlobalOptions& g = *env_->global;
      SystemContext ctx = g.base_context();
      image_.apply(g, shared_, ctx);
      std::vector<std::string> tags;
      const RetryPolicy retry =
          make_retry_policy(retry_.retry_times, retry_.retry_delay, logging::log_warning, logging::log_debug, format_go_duration);
      run_with_retries(retry, [&] {
        try {
          tags = docker::list_tags(repo, ctx);
        } catch (const Error& e) {
          rethrow_with_context("Error listing repository tags", e);
        }
      });
      out["Repository"] = repo.name();
      out["Tags"] = tags;
    } else {
      throw Error("Unsupported transport '" + transport +
                  "' for tag listing. Only supported: docker, docker-archive");
    }
    std::string text = gojson::marshal_indent(out, "", "    ") + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }

 private:
  CommandEnv* env_;
  SharedImageOptions shared_;
  DockerImageOptions image_{""};
  RetryOptions retry_;
};

}  // namespace

std::unique_ptr<Command> make_list_tags_command(CommandEnv* env) {
  return std::make_unique<ListTagsCommand>(env);
}

}  // namespace ferry::cli
