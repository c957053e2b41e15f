#include "ops/manifest_choice.h"

#include <gtest/gtest.h>

#include "image/manifest/media_types.h"
#include "util/error.h"

namespace ferry {
namespace {

namespace mt = manifest::media_type;
using V = std::vector<std::string>;

TEST(ManifestChoice, FormatFlag) {
  EXPECT_EQ(format_flag_to_mime(""), "");
  EXPECT_EQ(format_flag_to_mime("oci"), mt::kOciManifest);
  EXPECT_EQ(format_flag_to_mime("v2s2"), mt::kDockerV2Schema2);
  EXPECT_EQ(format_flag_to_mime("v2s1"), mt::kDockerV2Schema1Signed);
  try {
    format_flag_to_mime("OCI");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "unknown format \"OCI\". Choose one of the supported formats: 'oci', 'v2s1', or "
                 "'v2s2'");
  }
}

TEST(ManifestChoice, SourceTypeFirstWhenAllowed) {
  EXPECT_EQ(choose_manifest_types({mt::kOciManifest, {}, "", "", false}),
            (V{mt::kOciManifest, mt::kDockerV2Schema2, mt::kDockerV2Schema1Signed}));
}

TEST(ManifestChoice, OciOnlyDestinationConverts) {
  EXPECT_EQ(choose_manifest_types({mt::kDockerV2Schema2, {mt::kOciManifest, mt::kOciIndex}, "", "", false}),
            (V{mt::kOciManifest, mt::kOciIndex}));
}

TEST(ManifestChoice, ForcedFormatReplacesDestinationList) {
  EXPECT_EQ(choose_manifest_types({mt::kOciManifest, {mt::kOciManifest}, mt::kDockerV2Schema2, "", false}),
            (V{mt::kDockerV2Schema2}));
}

TEST(ManifestChoice, UnmodifiableKeepsSourceEvenIfForced) {
  EXPECT_EQ(choose_manifest_types({mt::kDockerV2Schema2, {mt::kOciManifest}, mt::kOciManifest,
                                   "Instructed to preserve digests", false}),
            (V{mt::kDockerV2Schema2}));
}

TEST(ManifestChoice, ZstdNeedsOci) {
  EXPECT_EQ(choose_manifest_types({mt::kDockerV2Schema2, {}, "", "", true}), (V{mt::kOciManifest}));
  EXPECT_THROW(choose_manifest_types({mt::kDockerV2Schema2, {mt::kDockerV2Schema2}, "", "", true}),
               Error);
}

}  // namespace
}  // namespace ferry
