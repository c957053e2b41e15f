#include <gtest/gtest.h>
TEST(DockerArchive, Placeholder) {}
