#include "io/libarchive.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

// The unit-test binary links libarchive itself (tar_test.cc), so the table
// must resolve to the very functions the linker bound: the same library,
// every name found.
TEST(LibArchive, ResolvesEveryFunctionToTheLinkedLibrary) {
  const LibArchive& lib = libarchive();
#define FERRY_EXPECT_RESOLVED(name) EXPECT_EQ(reinterpret_cast<void*>(lib.name), reinterpret_cast<void*>(&::name)) << #name;
  FERRY_LIBARCHIVE_FUNCTIONS(FERRY_EXPECT_RESOLVED)
#undef FERRY_EXPECT_RESOLVED
}

TEST(LibArchive, LoadsOnce) { EXPECT_EQ(&libarchive(), &libarchive()); }

}  // namespace
}  // namespace ferry
