#include "util/log.h"

#include <gtest/gtest.h>

namespace ferry::logging {
namespace {

TEST(Log, PlainLinesQuoteLikeLogrus) {
  EXPECT_EQ(format_log_line(Level::Fatal, "Error parsing image name \"foo\"", false, 0,
                            "2026-01-02T03:04:05Z"),
            "time=\"2026-01-02T03:04:05Z\" level=fatal msg=\"Error parsing image name \\\"foo\\\"\"");
  EXPECT_EQ(format_log_line(Level::Warning, "plain", false, 0, "T"), "time=\"T\" level=warning msg=plain");
  EXPECT_EQ(format_log_line(Level::Info, "a\nb", false, 0, "T"), "time=\"T\" level=info msg=\"a\\nb\"");
}

TEST(Log, TerminalLinesCarryElapsedSeconds) {
  EXPECT_EQ(format_log_line(Level::Fatal, "boom", true, 3, "T"), "FATA[0003] boom");
  EXPECT_EQ(format_log_line(Level::Debug, "x y", true, 12345, "T"), "DEBU[12345] x y");
}

}  // namespace
}  // namespace ferry::logging
