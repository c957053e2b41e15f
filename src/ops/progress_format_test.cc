#include "ops/progress_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ferry::progress {
namespace {

TEST(ProgressFormatTest, SizesUseBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(-5), "0B");
  EXPECT_EQ(format_size(1023), "1023B");
  EXPECT_EQ(format_size(1024), "1.0KiB");
  EXPECT_EQ(format_size(1536), "1.5KiB");
  EXPECT_EQ(format_size(12897485), "12.3MiB");
  EXPECT_EQ(format_size(47815065), "45.6MiB");
  EXPECT_EQ(format_size(int64_t{3} << 30), "3.0GiB");
  EXPECT_EQ(format_size(int64_t{5} << 40), "5.0TiB");
  // 1048575 bytes is 1023.999 KiB: rounds to the next unit, not "1024.0KiB".
  EXPECT_EQ(format_size(1048575), "1.0MiB");
  EXPECT_EQ(format_size(1048064), "1023.5KiB");
  EXPECT_EQ(format_size(std::numeric_limits<int64_t>::max()), "8.0EiB");
}

TEST(ProgressFormatTest, Rates) {
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(-3), "0 B/s");
  EXPECT_EQ(format_rate(std::nan("")), "0 B/s");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::infinity()), "0 B/s");
  EXPECT_EQ(format_rate(512.4), "512 B/s");
  EXPECT_EQ(format_rate(1023.4), "1023 B/s");
  EXPECT_EQ(format_rate(1023.6), "1.0 KiB/s");
  EXPECT_EQ(format_rate(8.1 * 1024 * 1024), "8.1 MiB/s");
  EXPECT_EQ(format_rate(1.25 * 1024 * 1024 * 1024), "1.2 GiB/s");
}

TEST(ProgressFormatTest, Durations) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(0.4), "0s");
  EXPECT_EQ(format_duration(4), "4s");
  EXPECT_EQ(format_duration(59.4), "59s");
  EXPECT_EQ(format_duration(59.6), "1m00s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3599), "59m59s");
  EXPECT_EQ(format_duration(3600), "1h00m");
  EXPECT_EQ(format_duration(7380), "2h03m");
  EXPECT_EQ(format_duration(-1), "--");
  EXPECT_EQ(format_duration(std::nan("")), "--");
  EXPECT_EQ(format_duration(1e12), "--");
}

TEST(ProgressFormatTest, ShortDigest) {
  EXPECT_EQ(short_digest("sha256:1a2b3c4d5e6f7a8b9c0d"), "1a2b3c4d5e6f");
  EXPECT_EQ(short_digest("sha512:abcdef"), "abcdef");
  EXPECT_EQ(short_digest("1a2b3c4d5e6f7a8b"), "1a2b3c4d5e6f");
  EXPECT_EQ(short_digest(""), "");
}

TEST(ProgressFormatTest, Bars) {
  EXPECT_EQ(render_bar(0, 10), ">         ");
  EXPECT_EQ(render_bar(0.5, 10), "=====>    ");
  EXPECT_EQ(render_bar(0.99, 10), "=========>");
  EXPECT_EQ(render_bar(1, 10), "==========");
  EXPECT_EQ(render_bar(2, 4), "====");
  EXPECT_EQ(render_bar(-1, 4), ">   ");
  EXPECT_EQ(render_bar(std::nan(""), 4), ">   ");
  EXPECT_EQ(render_bar(0.5, 0), "");
  EXPECT_EQ(render_bar(0.5, -3), "");
}

TEST(ProgressFormatTest, Counters) {
  LiveBar b{"x", 12897485, 47815065, 8.1 * 1024 * 1024};
  // 34917580 bytes left at 8493465.6 B/s: 4.11 s, shown rounded up.
  EXPECT_EQ(format_counters(b), "12.3MiB / 45.6MiB | 8.1 MiB/s | 5s");
  b.rate = 0;
  EXPECT_EQ(format_counters(b), "12.3MiB / 45.6MiB | 0 B/s | --");
  b.current = b.total;
  EXPECT_EQ(format_counters(b), "45.6MiB / 45.6MiB | 0 B/s | 0s");
  LiveBar unknown{"x", 2048, -1, 1024};
  EXPECT_EQ(format_counters(unknown), "2.0KiB | 1.0 KiB/s");
}

TEST(ProgressFormatTest, LayoutFitsTheWidthAndAlignsBars) {
  std::vector<LiveBar> bars = {
      {"Copying blob 1a2b3c4d5e6f", 512, 1024, 256},
      {"Copying config 0f0f0f0f0f0f", 0, 100, 0},
      {"Total", 512, 1124, 256},
  };
  auto lines = layout_live(bars, 80);
  ASSERT_EQ(lines.size(), 3u);
  // Bar: 79 usable - 27 label - 4 - 28 widest counters = 20.
  EXPECT_EQ(lines[0],
            "Copying blob 1a2b3c4d5e6f   [==========>         ] 512B / 1.0KiB | 256 B/s | 2s");
  EXPECT_EQ(lines[1],
            "Copying config 0f0f0f0f0f0f [>                   ] 0B / 100B | 0 B/s | --");
  EXPECT_EQ(lines[2],
            "Total                       [=========>          ] 512B / 1.1KiB | 256 B/s | 3s");
  for (const auto& l : lines) EXPECT_LE(l.size(), 79u);
}

TEST(ProgressFormatTest, LayoutCapsTheBarOnWideTerminals) {
  auto lines = layout_live({{"Copying blob aaaaaaaaaaaa", 0, 10, 0}}, 300);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "Copying blob aaaaaaaaaaaa [>" + std::string(kMaxBarWidth - 1, ' ') +
                          "] 0B / 10B | 0 B/s | --");
}

TEST(ProgressFormatTest, LayoutDropsTheBarWhenNarrowAndTruncates) {
  std::vector<LiveBar> bars = {{"Copying blob aaaaaaaaaaaa", 5, 10, 0}};
  EXPECT_EQ(layout_live(bars, 60)[0], "Copying blob aaaaaaaaaaaa 5B / 10B | 0 B/s | --");
  EXPECT_EQ(layout_live(bars, 29)[0], "Copying blob aaaaaaaaaaaa 5B");
  EXPECT_EQ(layout_live(bars, 0)[0], "C");
}

TEST(ProgressFormatTest, LayoutUnknownSizeHasNoBarOrEta) {
  std::vector<LiveBar> bars = {{"Copying blob aaaaaaaaaaaa", 3 << 20, -1, 1 << 20},
                               {"Copying blob bbbbbbbbbbbb", 0, 20, 0}};
  auto lines = layout_live(bars, 80);
  EXPECT_EQ(lines[0], "Copying blob aaaaaaaaaaaa 3.0MiB | 1.0 MiB/s");
  EXPECT_EQ(lines[1], "Copying blob bbbbbbbbbbbb [>" + std::string(28, ' ') +
                          "] 0B / 20B | 0 B/s | --");
}

TEST(ProgressFormatTest, FinalLines) {
  const std::string d = "sha256:1a2b3c4d5e6f7a8b9c0d1e2f";
  EXPECT_EQ(done_line("blob", d, 47815065), "Copying blob 1a2b3c4d5e6f done   45.6MiB");
  EXPECT_EQ(done_line("config", d, 1536), "Copying config 1a2b3c4d5e6f done   1.5KiB");
  EXPECT_EQ(skipped_line("blob", d), "Copying blob 1a2b3c4d5e6f skipped: already exists");
  EXPECT_EQ(failed_line("blob", d, 1024, 4096), "Copying blob 1a2b3c4d5e6f failed at 1.0KiB / 4.0KiB");
  EXPECT_EQ(failed_line("blob", d, 1024, -1), "Copying blob 1a2b3c4d5e6f failed at 1.0KiB");
  EXPECT_EQ(total_done_line(47815065, 0.5), "Total done   45.6MiB");
  EXPECT_EQ(total_done_line(47815065, 5), "Total done   45.6MiB in 5s (9.1 MiB/s)");
}

TEST(ProgressFormatTest, RateMeterUsesTheRecentWindow) {
  RateMeter m(3.0);
  EXPECT_EQ(m.rate(), 0);
  m.add(0, 0);
  EXPECT_EQ(m.rate(), 0);
  m.add(1, 1000);
  EXPECT_EQ(m.rate(), 1000);
  m.add(2, 2000);
  m.add(3, 3000);
  EXPECT_EQ(m.rate(), 1000);
  // A stall: after the window has passed with no bytes, the rate is 0.
  m.add(4, 3000);
  m.add(5, 3000);
  m.add(6, 3000);
  EXPECT_EQ(m.rate(), 0);
  m.add(7, 5000);
  EXPECT_DOUBLE_EQ(m.rate(), 2000.0 / 3.0);
  // The same instant again replaces the count instead of dividing by zero.
  m.add(7, 8000);
  EXPECT_DOUBLE_EQ(m.rate(), 5000.0 / 3.0);
}

}  // namespace
}  // namespace ferry::progress
