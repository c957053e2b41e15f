// `inspect IMAGE-NAME`.
#include <cstdio>

#include "cli/command.h"
#include "cli/duration.h"
#include "ops/inspect.h"
#include "ops/retry.h"
#include "transports/docker/docker_reference.h"
#include "transports/docker/docker_source.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry::cli {

namespace {

class InspectCommand : public Command {
 public:
  explicit InspectCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "inspect [command options] IMAGE-NAME";
    h.short_desc = "Inspect image IMAGE-NAME";
    h.long_desc = "Return low-level information about \"IMAGE-NAME\" in a registry/transport\n" +
                  transports_help_paragraph();
    h.example = env_->program + " inspect docker://registry.fedoraproject.org/fedora\n" +
                env_->program + " inspect --config docker://docker.io/alpine\n" + env_->program +
                " inspect  --format \"Name: {{.Name}} Digest: {{.Digest}}\" docker://registry.access.redhat.com/ubi8";
    return h;
  }

  void define(FlagSet& fs) override {
    shared_.define(fs);
    image_.define(fs);
    retry_.define(fs);
    fs.add_bool("raw", 0, &opts_.raw, "output raw manifest or configuration");
    fs.add_bool("config", 0, &opts_.config, "output configuration");
    fs.add_string("format", 'f', &opts_.format, "Format the output to a Go template");
    fs.add_bool("no-tags", 'n', &opts_.no_tags,
                "Do not list the available tags from the repository in the output");
  }

  int run(const std::vector<std::string>& args) override {
    if (args.size() != 1) throw Error("Exactly one argument expected");
    if (opts_.raw && !opts_.format.empty()) throw Error("raw output does not support format option");
    const GlobalOptions& g = *env_->global;
    SystemContext ctx = g.base_context();
    image_.apply(g, shared_, ctx);
    std::unique_ptr<ImageReference> ref;
    try {
      ref = parse_image_name(args[0]);
    } catch (const Error& e) {
      throw Error("Error parsing image name \"" + args[0] + "\": " + e.what(), e.exit_code());
    }
    InspectOptions opts = opts_;
    if (ref->transport_name() == "docker") {
      DockerReference repo = *ref->docker_reference();
      repo.tag.reset();
      repo.digest.reset();
      opts.list_tags = [repo, ctx](ImageSource& src) -> std::vector<std::string> {
        try {
          // The source's client has pinged, authenticated for pulling this
          // repository and holds an open connection: two to four round
          // trips fewer than a client of its own (skopeo pings again).
          if (auto* docker_src = dynamic_cast<docker::DockerSource*>(&src)) {
            if (auto tags = docker_src->list_tags_of(repo)) return *tags;
          }
          return docker::list_tags(repo, ctx);
        } catch (const Error& e) {
          if (!docker::tag_listing_disallowed(e)) rethrow_with_context("Error determining repository tags", e);
          logging::log_warning("Registry disallows tag list retrieval; skipping");
          return {};
        }
      };
    }
    opts.retry =
        make_retry_policy(retry_.retry_times, retry_.retry_delay, logging::log_warning, logging::log_debug, format_go_duration);
    const std::string out = inspect_image(*ref, ctx, opts);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

 private:
  CommandEnv* env_;
  SharedImageOptions shared_;
  ImageOptions image_{""};
  RetryOptions retry_;
  InspectOptions opts_;
};

}  // namespace

std::unique_ptr<Command> make_inspect_command(CommandEnv* env) {
  return std::make_unique<InspectCommand>(env);
}

}  // namespace ferry::cli
