#include "transports/docker_archive/archive_reference.h"

#include "image/reference_grammar.h"
#include "transports/docker_archive/archive_source.h"
#include "util/error.h"
#include "util/gotype.h"

namespace ferry::docker_archive {

std::string ArchiveReference::string_within_transport() const {
  if (ref_) return path_ + ":" + ref_->to_string();
  if (index_ >= 0) return path_ + ":@" + std::to_string(index_);
  return path_;
}

std::unique_ptr<ImageReference> parse_reference(std::string_view within) {
  DockerArchiveRefParts parts = parse_docker_archive_reference(within);
  return std::make_unique<ArchiveReference>(std::move(parts.path), std::move(parts.ref), parts.index);
}

std::vector<std::string> list_tags(const std::string& path) { return list_tags(path, SystemContext{}); }

std::vector<std::string> list_tags(const std::string& path, const SystemContext& ctx) {
  ArchiveReader archive(path, ctx);
  const std::vector<ManifestItem>& items = archive.manifest();
  std::vector<std::string> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = " in manifest item @" + std::to_string(i);
    for (const std::string& tag : items[i].repo_tags) {
      DockerReference parsed;
      try {
        parsed = parse_normalized_named(tag);
      } catch (const Error& e) {
        rethrow_with_context("Invalid tag " + gojson::go_quote(tag) + where, e);
      }
      if (!parsed.tag)
        throw Error("Invalid tag " + tag + " (" + parsed.to_string() + "): does not contain a tag");
      if (parsed.digest)
        throw Error("creating a reference for tag " + gojson::go_quote(tag) + where +
                    ": docker-archive doesn't support digest references: " + parsed.to_string());
      // skopeo lists, for each tag, the spelling of the first RepoTag in the
      // archive that names the same image, which may be an earlier item's.
      int tag_index = -1;
      const ManifestItem& chosen = archive.choose(parsed, -1, &tag_index);
      out.push_back(chosen.repo_tags[static_cast<size_t>(tag_index)]);
    }
    if (items[i].repo_tags.empty()) out.push_back("@" + std::to_string(i));
  }
  return out;
}

}  // namespace ferry::docker_archive
