// `delete IMAGE-NAME`.
#include "cli/command.h"
#include "cli/duration.h"
#include "ops/retry.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry::cli {

namespace {

class DeleteCommand : public Command {
 public:
  explicit DeleteCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "delete [command options] IMAGE-NAME";
    h.short_desc = "Delete image IMAGE-NAME";
    h.long_desc = "Delete an \"IMAGE_NAME\" from a transport\n" + transports_help_paragraph();
    h.example = env_->program + " delete docker://registry.example.com/example/pause:latest";
    return h;
  }

  void define(FlagSet& fs) override {
    shared_.define(fs);
    image_.define(fs);
    retry_.define(fs);
  }

  int run(const std::vector<std::string>& args) override {
    if (args.size() != 1) throw Error("Usage: delete imageReference");
    const GlobalOptions& g = *env_->global;
    std::unique_ptr<ImageReference> ref;
    try {
      ref = parse_image_name(args[0]);
    } catch (const Error& e) {
      throw Error("Invalid source name " + args[0] + ": " + e.what(), e.exit_code());
    }
    SystemContext ctx = g.base_context();
    image_.apply(g, shared_, ctx);
    const RetryPolicy retry =
        make_retry_policy(retry_.retry_times, retry_.retry_delay, logging::log_warning, logging::log_debug, format_go_duration);
    run_with_retries(retry, [&] { ref->delete_image(ctx); });
    return 0;
  }

 private:
  CommandEnv* env_;
  SharedImageOptions shared_;
  ImageOptions image_{""};
  RetryOptions retry_;
};

}  // namespace

std::unique_ptr<Command> make_delete_command(CommandEnv* env) {
  return std::make_unique<DeleteCommand>(env);
}

}  // namespace ferry::cli
