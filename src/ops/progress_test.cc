#include "ops/progress.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "ops/progress_bars.h"

namespace ferry {
namespace {

TEST(ProgressModeTest, Choice) {
  EXPECT_EQ(choose_progress_mode(false, true, nullptr, "xterm"), ProgressMode::Quiet);
  EXPECT_EQ(choose_progress_mode(false, true, "bars", "xterm"), ProgressMode::Quiet);
  EXPECT_EQ(choose_progress_mode(true, true, nullptr, "xterm"), ProgressMode::Bars);
  EXPECT_EQ(choose_progress_mode(true, true, nullptr, nullptr), ProgressMode::Bars);
  EXPECT_EQ(choose_progress_mode(true, false, nullptr, "xterm"), ProgressMode::Plain);
  EXPECT_EQ(choose_progress_mode(true, true, nullptr, "dumb"), ProgressMode::Plain);
  EXPECT_EQ(choose_progress_mode(true, true, "plain", "xterm"), ProgressMode::Plain);
  EXPECT_EQ(choose_progress_mode(true, false, "bars", "dumb"), ProgressMode::Bars);
  EXPECT_EQ(choose_progress_mode(true, true, "", "xterm"), ProgressMode::Bars);
  EXPECT_EQ(choose_progress_mode(true, false, "fancy", "xterm"), ProgressMode::Plain);
}

std::string read_back(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

void run_copy_steps(ProgressReporter& r) {
  r.line("Getting image source signatures");
  r.blob_skipped("blob", "sha256:aaaa");
  auto in = r.start_blob("blob", "sha256:bbbb", 3, std::make_unique<StringReader>("xyz"));
  EXPECT_EQ(read_all(*in, 10), "xyz");
  in.reset();
  auto cfg = r.start_blob("config", "sha256:cccc", 2, std::make_unique<StringReader>("{}"));
  EXPECT_EQ(read_all(*cfg, 10), "{}");
  cfg.reset();
  r.line("Writing manifest to image destination");
}

// The log lines skopeo writes when stdout is not a terminal, byte for byte.
TEST(ProgressModeTest, PlainLinesAreSkopeos) {
  FILE* f = std::tmpfile();
  {
    ProgressReporter r(f, ProgressMode::Plain);
    run_copy_steps(r);
  }
  EXPECT_EQ(read_back(f),
            "Getting image source signatures\n"
            "Copying blob sha256:aaaa\n"
            "Copying blob sha256:bbbb\n"
            "Copying config sha256:cccc\n"
            "Writing manifest to image destination\n");
  std::fclose(f);
}

TEST(ProgressModeTest, QuietWritesNothing) {
  FILE* f = std::tmpfile();
  {
    ProgressReporter r(f, ProgressMode::Quiet);
    run_copy_steps(r);
  }
  {
    ProgressReporter r(nullptr);
    run_copy_steps(r);
  }
  EXPECT_EQ(read_back(f), "");
  std::fclose(f);
}

TEST(ProgressModeTest, AFileIsNotATerminal) {
  // Not a terminal: plain lines unless FERRY_PROGRESS says otherwise.
  const char* saved = std::getenv("FERRY_PROGRESS");
  const std::string keep = saved ? saved : "";
  ::unsetenv("FERRY_PROGRESS");
  FILE* f = std::tmpfile();
  {
    ProgressReporter r(f);
    r.line("Storing signatures");
  }
  EXPECT_EQ(read_back(f), "Storing signatures\n");
  std::fclose(f);

  ::setenv("FERRY_PROGRESS", "bars", 1);
  FILE* g = std::tmpfile();
  {
    ProgressReporter r(g);
    run_copy_steps(r);
  }
  // A real clock and render thread: the frames in between vary, the
  // lines that stay on screen do not.
  const std::string out = read_back(g);
  for (const char* want : {"\x1b[2KGetting image source signatures\n",
                           "\x1b[2KCopying blob aaaa skipped: already exists\n",
                           "\x1b[2KCopying blob bbbb done   3B\n",
                           "\x1b[2KCopying config cccc done   2B\n",
                           "\x1b[2KTotal done   5B",
                           "\x1b[2KWriting manifest to image destination\n"}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << " in " << out;
  }
  EXPECT_EQ(out.find("sha256:"), std::string::npos) << out;
  std::fclose(g);
  if (saved) {
    ::setenv("FERRY_PROGRESS", keep.c_str(), 1);
  } else {
    ::unsetenv("FERRY_PROGRESS");
  }
}

}  // namespace
}  // namespace ferry
