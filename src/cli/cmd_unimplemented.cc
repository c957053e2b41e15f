// Commands whose work lands with later issues (sync, signing).
// They exist so help and scripts see skopeo's command set, and they fail
// with a clear "not supported yet" instead of pretending to work.
#include "cli/command.h"
#include "util/error.h"

namespace ferry::cli {

namespace {

class UnimplementedCommand : public Command {
 public:
  UnimplementedCommand(CommandHelp h, std::function<void(FlagSet&)> flags)
      : help_(std::move(h)), flags_(std::move(flags)) {}
  CommandHelp help() const override { return help_; }
  void define(FlagSet& fs) override {
    if (flags_) flags_(fs);
  }
  int run(const std::vector<std::string>&) override {
    throw Error("the \"" + help_.name() + "\" command is not supported yet by ferry");
  }

 private:
  CommandHelp help_;
  std::function<void(FlagSet&)> flags_;
};

struct Holder {  // storage for flag values nobody reads yet
  std::string s1, s2, s3, s4;
  bool b1 = false, b2 = false, b3 = false, b4 = false, b5 = false;
  std::optional<bool> tls;
  OptionalString os1, os2;
};

}  // namespace

std::vector<std::unique_ptr<Command>> make_unimplemented_commands(CommandEnv* env) {
  static Holder h;
  const std::string& p = env->program;
  std::vector<std::unique_ptr<Command>> out;
  auto add = [&](std::string use, std::string short_desc, std::string example,
                 std::function<void(FlagSet&)> flags) {
    CommandHelp c;
    c.use = std::move(use);
    c.short_desc = std::move(short_desc);
    c.example = std::move(example);
    out.push_back(std::make_unique<UnimplementedCommand>(std::move(c), std::move(flags)));
  };
  add("sync [command options] --src TRANSPORT --dest TRANSPORT SOURCE DESTINATION",
      "Synchronize one or more images from one location to another",
      p + " sync --src docker --dest dir --scoped registry.example.com/busybox /media/usb",
      [](FlagSet& fs) {
        fs.add_string("src", 's', &h.s1, "SOURCE transport type");
        fs.add_string("dest", 'd', &h.s2, "DESTINATION transport type");
        fs.add_bool("scoped", 0, &h.b1, "Images at DESTINATION are prefix using the full source image path as scope");
        fs.add_bool("all", 'a', &h.b2, "Copy all images if SOURCE-IMAGE is a list");
        fs.add_bool("dry-run", 0, &h.b3, "Run without actually copying data");
        fs.add_bool("keep-going", 0, &h.b4, "Do not abort the sync if any image copy fails");
      });
  add("standalone-sign [command options] MANIFEST DOCKER-REFERENCE KEY-FINGERPRINT --output|-o SIGNATURE",
      "Create a signature using local files",
      p + " standalone-sign busybox-manifest.json registry.example.com/example/busybox 1D8230F6CDB6A06716E414C1DB72F2188BB46CC8",
      [](FlagSet& fs) {
        fs.add_string("output", 'o', &h.s1, "output the signature to `SIGNATURE`");
        fs.add_string("passphrase-file", 0, &h.s2, "file that contains a passphrase for the --sign-by key");
      });
  add("standalone-verify MANIFEST DOCKER-REFERENCE KEY-FINGERPRINTS SIGNATURE",
      "Verify a signature using local files",
      p + " standalone-verify busybox-manifest.json registry.example.com/example/busybox 1D8230F6CDB6A06716E414C1DB72F2188BB46CC8 busybox.signature",
      [](FlagSet& fs) {
        fs.add_string("public-key-file", 0, &h.s1, "File containing public keys. If not specified, will use local GPG keys.");
      });
  add("generate-sigstore-key [command options] --output-prefix PREFIX",
      "Generate a sigstore public/private key pair", p + " generate-sigstore-key --output-prefix my-key",
      [](FlagSet& fs) {
        fs.add_string("output-prefix", 0, &h.s1, "Write the keys to `PREFIX`.pub and `PREFIX`.private");
        fs.add_string("passphrase-file", 0, &h.s2, "Read a passphrase for the private key from `PATH`");
      });
  return out;
}

}  // namespace ferry::cli
