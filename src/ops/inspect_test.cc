#include "ops/inspect.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "io/digest.h"
#include "io/reader.h"
#include "net/net_error.h"
#include "util/error.h"

namespace ferry {
namespace {

// An image whose config read and tag listing fail (retryably) a given
// number of times first; it counts how often each step runs.
struct Counters {
  int sources = 0;
  int config_reads = 0;
  int config_failures = 0;  // left to fail
  int tag_lists = 0;
  int tag_failures = 0;
};

const std::string kConfig = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";

std::string manifest_json() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         sha256_digest(kConfig) + R"(","size":)" + std::to_string(kConfig.size()) + R"(},"layers":[]})";
}

class FakeSource : public ImageSource {
 public:
  FakeSource(const ImageReference& ref, Counters& c) : ref_(ref), c_(c) {}
  const ImageReference& reference() const override { return ref_; }
  ManifestBytes get_manifest(const std::string&) override {
    return {manifest_json(), "application/vnd.oci.image.manifest.v1+json"};
  }
  std::unique_ptr<Reader> get_blob(const manifest::Descriptor&, int64_t* size) override {
    ++c_.config_reads;
    if (c_.config_failures > 0) {
      --c_.config_failures;
      throw net::NetworkError("connection reset by peer", /*retryable=*/true);
    }
    *size = static_cast<int64_t>(kConfig.size());
    return std::make_unique<StringReader>(kConfig);
  }

 private:
  const ImageReference& ref_;
  Counters& c_;
};

class FakeRef : public ImageReference {
 public:
  explicit FakeRef(Counters& c) : c_(c) {}
  std::string transport_name() const override { return "fake"; }
  std::string string_within_transport() const override { return "img"; }
  std::string policy_identity() const override { return "img"; }
  std::vector<std::string> policy_namespaces() const override { return {}; }
  std::unique_ptr<ImageSource> new_source(const SystemContext&) const override {
    ++c_.sources;
    return std::make_unique<FakeSource>(*this, c_);
  }
  std::unique_ptr<ImageDestination> new_destination(const SystemContext&) const override {
    throw Error("not a destination");
  }

 private:
  Counters& c_;
};

InspectOptions options(Counters& c, int retries, std::vector<std::string>* warnings) {
  InspectOptions o;
  o.format = "{{.RepoTags}}";
  o.list_tags = [&c](ImageSource&) -> std::vector<std::string> {
    ++c.tag_lists;
    if (c.tag_failures > 0) {
      --c.tag_failures;
      throw net::NetworkError("connection refused", /*retryable=*/true);
    }
    return {"v1", "v2"};
  };
  o.retry.max_retries = retries;
  o.retry.fixed_delay = std::chrono::nanoseconds(1);
  o.retry.sleep = [](std::chrono::nanoseconds) {};
  o.retry.random_below = [](int64_t) -> int64_t { return 0; };
  o.retry.format_duration = [](std::chrono::nanoseconds) { return std::string("1ns"); };
  o.retry.warn = [warnings](const std::string& w) { warnings->push_back(w); };
  o.retry.debug = [](const std::string&) {};
  return o;
}

TEST(InspectRetries, EachStepIsRetriedOnItsOwn) {
  // skopeo retries the step that failed; the source is not opened again
  // because the config or the tag list needed a second try.
  Counters c;
  c.config_failures = 1;
  c.tag_failures = 2;
  FakeRef ref(c);
  std::vector<std::string> warnings;
  const std::string out = inspect_image(ref, SystemContext{}, options(c, 3, &warnings));
  EXPECT_EQ(out, "[v1 v2]\n");
  EXPECT_EQ(c.sources, 1);
  EXPECT_EQ(c.config_reads, 2);
  EXPECT_EQ(c.tag_lists, 3);
  EXPECT_EQ(warnings.size(), 3u);
}

TEST(InspectRetries, AStepOutOfRetriesFailsTheCommand) {
  Counters c;
  c.config_failures = 5;
  FakeRef ref(c);
  std::vector<std::string> warnings;
  try {
    inspect_image(ref, SystemContext{}, options(c, 2, &warnings));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "Error reading configuration blob: connection reset by peer");
  }
  EXPECT_EQ(c.sources, 1);
  EXPECT_EQ(c.config_reads, 3);
  EXPECT_EQ(c.tag_lists, 0);
}

}  // namespace
}  // namespace ferry
