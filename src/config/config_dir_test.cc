#include "config/config_dir.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "config/test_env.h"
#include "io/fs.h"
#include "util/error.h"

namespace ferry {
namespace {

using Names = std::vector<std::string>;

class ConfigDir : public ::testing::Test {
 protected:
  TempDir tmp_{"/tmp", "config-dir-test"};
  std::string dir_ = tmp_.path();
};

TEST_F(ConfigDir, ListsMatchingNamesInNameOrder) {
  write(dir_ + "/b.conf", "");
  write(dir_ + "/a.conf", "");
  write(dir_ + "/.conf", "");
  write(dir_ + "/c.conf.bak", "");
  write(dir_ + "/sub.conf/x", "");
  EXPECT_EQ(list_config_dir(dir_, {.suffix = ".conf"}), (Names{".conf", "a.conf", "b.conf", "sub.conf"}));
  EXPECT_EQ(list_config_dir(dir_, {.suffix = ".conf", .skip_subdirectories = true}),
            (Names{".conf", "a.conf", "b.conf"}));
  EXPECT_EQ(list_config_dir(dir_, {}), (Names{".conf", "a.conf", "b.conf", "c.conf.bak", "sub.conf"}));
}

TEST_F(ConfigDir, MissingDirectoryHasNoEntries) {
  EXPECT_EQ(list_config_dir(dir_ + "/none", {}), Names{});
  EXPECT_EQ(list_config_dir("", {}), Names{});
}

TEST_F(ConfigDir, OtherOpenFailuresThrowUnlessAbsent) {
  write(dir_ + "/file", "");
  EXPECT_EQ(error_of([&] { list_config_dir(dir_ + "/file", {}); }),
            "open " + dir_ + "/file: not a directory");
  EXPECT_EQ(list_config_dir(dir_ + "/file", {.absent = {ENOTDIR}}), Names{});
}

TEST_F(ConfigDir, ReadsAFileThatMayBeGone) {
  write(dir_ + "/a.conf", "text");
  EXPECT_EQ(read_config_file(dir_ + "/a.conf", 100), "text");
  EXPECT_EQ(read_config_file(dir_ + "/gone.conf", 100), std::nullopt);
  EXPECT_EQ(error_of([&] { read_config_file(dir_, 100); }), "read " + dir_ + ": is a directory");
  EXPECT_EQ(error_of([&] { read_config_file(dir_ + "/a.conf", 3); }),
            "reading " + dir_ + "/a.conf: exceeded maximum allowed size of 3 bytes");
}

TEST(ConfigDirHome, HomeFromEnvironmentElsePasswd) {
  ScopedEnv env;
  env.set("HOME", "/home/someone");
  EXPECT_EQ(home_dir(), "/home/someone");
  const passwd* pw = getpwuid(getuid());
  ASSERT_NE(pw, nullptr);
  env.set("HOME", "");
  EXPECT_EQ(home_dir(), pw->pw_dir);
  env.set("HOME", std::nullopt);
  EXPECT_EQ(home_dir(), pw->pw_dir);
}

}  // namespace
}  // namespace ferry
