// `manifest-digest MANIFEST-FILE`.
#include <cstdio>

#include "cli/command.h"
#include "image/manifest/manifest.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry::cli {

namespace {

constexpr size_t kMaxManifestFile = 4 << 20;

class ManifestDigestCommand : public Command {
 public:
  explicit ManifestDigestCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "manifest-digest MANIFEST-FILE";
    h.short_desc = "Compute a manifest digest of a file";
    h.example = env_->program + " manifest-digest manifest.json";
    return h;
  }

  void define(FlagSet&) override {}

  int run(const std::vector<std::string>& args) override {
    if (args.size() != 1) throw Error("Usage: " + env_->program + " manifest-digest manifest");
    std::string bytes;
    try {
      bytes = read_file(args[0], kMaxManifestFile);
    } catch (const Error& e) {
      throw Error("Error reading manifest from " + args[0] + ": " + e.what());
    }
    std::string digest;
    try {
      digest = manifest::manifest_digest(bytes);
    } catch (const Error& e) {
      throw Error(std::string("Error computing digest: ") + e.what());
    }
    std::printf("%s\n", digest.c_str());
    return 0;
  }

 private:
  CommandEnv* env_;
};

}  // namespace

std::unique_ptr<Command> make_manifest_digest_command(CommandEnv* env) {
  return std::make_unique<ManifestDigestCommand>(env);
}

}  // namespace ferry::cli
