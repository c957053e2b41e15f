// `copy SOURCE-IMAGE DESTINATION-IMAGE`.
#include <sys/stat.h>

#include "cli/command.h"
#include "cli/duration.h"
#include "config/policy_file.h"
#include "image/docker_reference.h"
#include "io/fs.h"
#include "ops/copy.h"
#include "ops/manifest_choice.h"
#include "ops/retry.h"
#include "util/error.h"
#include "util/log.h"

namespace ferry::cli {

namespace {

class CopyCommand : public Command {
 public:
  explicit CopyCommand(CommandEnv* env) : env_(env) {}

  CommandHelp help() const override {
    CommandHelp h;
    h.use = "copy [command options] SOURCE-IMAGE DESTINATION-IMAGE";
    h.short_desc = "Copy an IMAGE-NAME from one location to another";
    h.long_desc = transports_help_paragraph();
    h.example = env_->program + " copy docker://quay.io/skopeo/stable:latest docker://registry.example.com/skopeo:latest";
    return h;
  }

  void define(FlagSet& fs) override {
    shared_.define(fs);
    src_.define(fs);
    dest_.define(fs);
    retry_.define(fs);
    fs.add_alias("screds", "src-creds");
    fs.add_alias("dcreds", "dest-creds");
    fs.add_string_slice("additional-tag", 0, &additional_tags, "additional tags (supports docker-archive)");
    fs.add_bool("all", 'a', &all, "Copy all images if SOURCE-IMAGE is a list");
    fs.add_optional_string("multi-arch", 0, &multi_arch,
                           "How to handle multi-architecture images (system, all, or index-only)");
    fs.add_bool("quiet", 'q', &quiet, "Suppress output information when copying images");
    fs.add_bool("remove-signatures", 0, &remove_signatures, "Do not copy signatures from SOURCE-IMAGE");
    fs.add_string("sign-by", 0, &sign_by, "Sign the image using a GPG key with the specified `FINGERPRINT`");
    fs.add_string("sign-by-sq-fingerprint", 0, &sign_by_sq,
                  "Sign the image using a Sequoia-PGP key with the specified `FINGERPRINT`");
    fs.add_string("sign-by-sigstore", 0, &sign_by_sigstore,
                  "Sign the image using a sigstore parameter file at `PATH`");
    fs.add_string("sign-by-sigstore-private-key", 0, &sign_by_sigstore_key,
                  "Sign the image using a sigstore private key at `PATH`");
    fs.add_string("sign-passphrase-file", 0, &sign_passphrase_file,
                  "Read a passphrase for signing an image from `PATH`");
    fs.add_string("sign-identity", 0, &sign_identity,
                  "Identity of signed image, must be a fully specified docker reference. Defaults to "
                  "the target docker reference.");
    fs.add_string("digestfile", 0, &digestfile, "Write the digest of the pushed image to the specified file");
    fs.add_optional_string("format", 'f', &format,
                           "`MANIFEST TYPE` (oci, v2s1, or v2s2) to use in the destination (default is "
                           "manifest type of source, with fallbacks)");
    fs.add_string_slice("encryption-key", 0, &encryption_keys,
                        "*Experimental* key with the encryption protocol to use needed to encrypt the "
                        "image (e.g. jwe:/path/to/key.pem)");
    fs.add_int_slice("encrypt-layer", 0, &encrypt_layers,
                     "*Experimental* the 0-indexed layer indices, with support for negative indexing "
                     "(e.g. 0 is the first layer, -1 is the last layer)");
    fs.add_string_slice("decryption-key", 0, &decryption_keys,
                        "*Experimental* key needed to decrypt the image");
    fs.add_bool("preserve-digests", 0, &preserve_digests, "Preserve digests of images and lists");
    fs.add_uint("image-parallel-copies", 0, &parallel_copies,
                "Maximum number of image layers to be copied (pulled/pushed) simultaneously. Not "
                "setting this field will fall back to containers/image defaults.");
  }

  int run(const std::vector<std::string>& args) override {
    if (args.size() != 2) usage_error(*env_, *this, "Exactly two arguments expected");
    const GlobalOptions& g = *env_->global;

    not_supported_if(!sign_by.empty(), "--sign-by");
    not_supported_if(!sign_by_sq.empty(), "--sign-by-sq-fingerprint");
    not_supported_if(!sign_by_sigstore.empty(), "--sign-by-sigstore");
    not_supported_if(!sign_by_sigstore_key.empty(), "--sign-by-sigstore-private-key");
    not_supported_if(!sign_identity.empty(), "--sign-identity");
    if (!encrypt_layers.empty() && encryption_keys.empty())
      throw Error("--encrypt-layer can only be used with --encryption-key");
    if (!encryption_keys.empty() && !decryption_keys.empty())
      throw Error("--encryption-key and --decryption-key cannot be specified together");
    not_supported_if(!encryption_keys.empty(), "--encryption-key");
    not_supported_if(!decryption_keys.empty(), "--decryption-key");

    CopyOptions opts;
    if (all && multi_arch.present) throw Error("Cannot use --all and --multi-arch flags together");
    if (all) opts.multi_arch = MultiArch::All;
    if (multi_arch.present) opts.multi_arch = parse_multi_arch(multi_arch.value);
    if (format.present) opts.format_mime = format_flag_to_mime(format.value);
    opts.remove_signatures = remove_signatures;
    opts.preserve_digests = preserve_digests;
    opts.parallel_copies = static_cast<unsigned>(parallel_copies);
    opts.precompute_digests = dest_.precompute_digests;
    opts.report = quiet ? nullptr : stdout;
    if (!dest_.compress_format.empty()) {
      opts.compress_format = compression_from_name(dest_.compress_format);
    }
    if (dest_.force_compress_format) {
      if (dest_.compress_format.empty())
        throw Error("cannot use ForceCompressionFormat with undefined default compression format");
      opts.force_compress_format = true;
    }
    if (dest_.compress_level.present) opts.compress_level = static_cast<int>(dest_.compress_level.value);

    std::unique_ptr<ImageReference> src_ref, dst_ref;
    try {
      src_ref = parse_image_name(args[0]);
    } catch (const Error& e) {
      throw Error("Invalid source name " + args[0] + ": " + e.what(), e.exit_code());
    }
    try {
      dst_ref = parse_image_name(args[1]);
    } catch (const Error& e) {
      throw Error("Invalid destination name " + args[1] + ": " + e.what(), e.exit_code());
    }

    SystemContext src_ctx = g.base_context();
    src_.apply(g, shared_, src_ctx);
    SystemContext dst_ctx = g.base_context();
    dest_.apply(g, shared_, dst_ctx);
    for (const auto& t : additional_tags) {
      DockerReference r;
      try {
        r = parse_normalized_named(t);
      } catch (const Error& e) {
        throw Error("error parsing additional-tag '" + t + "': " + e.what());
      }
      if (!r.tag || r.digest) throw Error("additional-tag '" + t + "' must be a tagged reference");
      dst_ctx.docker_archive_additional_tags.push_back(r.to_string());
    }

    Policy policy = load_policy(g.policy.empty() ? std::nullopt : std::optional<std::string>(g.policy), g.insecure_policy);
    CopyResult result;
    const RetryPolicy retry =
        make_retry_policy(retry_.retry_times, retry_.retry_delay, logging::log_warning, logging::log_debug, format_go_duration);
    run_with_retries(retry, [&] { result = copy_image(policy, *src_ref, src_ctx, *dst_ref, dst_ctx, opts); });

    if (!digestfile.empty()) {
      try {
        write_file_atomic(digestfile, result.manifest_digest, 0644);
      } catch (const Error& e) {
        throw Error("Failed to write digest to file \"" + digestfile + "\": " + e.what());
      }
    }
    return 0;
  }

 private:
  static void not_supported_if(bool used, const std::string& flag) {
    if (used) throw Error(flag + " is not supported yet by ferry");
  }

  CommandEnv* env_;
  SharedImageOptions shared_;
  ImageOptions src_{"src-"};
  ImageDestOptions dest_{"dest-"};
  RetryOptions retry_;
  std::vector<std::string> additional_tags;
  bool all = false, quiet = false, remove_signatures = false, preserve_digests = false;
  OptionalString multi_arch, format;
  std::string sign_by, sign_by_sq, sign_by_sigstore, sign_by_sigstore_key, sign_passphrase_file,
      sign_identity, digestfile;
  std::vector<std::string> encryption_keys, decryption_keys;
  std::vector<int64_t> encrypt_layers;
  uint64_t parallel_copies = 0;
};

}  // namespace

std::unique_ptr<Command> make_copy_command(CommandEnv* env) {
  return std::make_unique<CopyCommand>(env);
}

}  // namespace ferry::cli
