#include "io/spooled_blob.h"

#include <dirent.h>

#include <gtest/gtest.h>

#include <string>

#include "io/digest.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

size_t entries(const std::string& dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  ::closedir(d);
  return n;
}

TEST(SpooledBlob, StoresHashesAndReadsBackLeavingNoFile) {
  TempDir dir("/tmp", "spooled-blob-test-");
  std::string data(3 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 4099) data[i] = static_cast<char>(i);
  SpooledBlob spool(dir.path());
  EXPECT_EQ(entries(dir.path()), 0u);  // unlinked at once
  StringReader in(data);
  spool.fill(in);
  EXPECT_EQ(spool.digest(), sha256_digest(data));
  EXPECT_EQ(spool.size(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(read_all(*spool.reader(), 64 << 20), data);
  EXPECT_EQ(read_all(*spool.reader(), 64 << 20), data);  // again from the start
}

TEST(SpooledBlob, EmptyBlob) {
  TempDir dir("/tmp", "spooled-blob-test-");
  SpooledBlob spool(dir.path());
  StringReader in("");
  spool.fill(in);
  EXPECT_EQ(spool.digest(), sha256_digest(""));
  EXPECT_EQ(read_all(*spool.reader(), 10), "");
}

TEST(SpooledBlob, MissingDirectoryIsNamed) {
  try {
    SpooledBlob spool("/nonexistent-ferry-dir");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-ferry-dir"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ferry
