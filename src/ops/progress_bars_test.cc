#include "ops/progress_bars.h"

#include <gtest/gtest.h>

#include <thread>

#include "ops/progress.h"
#include "util/error.h"

namespace ferry {
namespace {

const std::string kA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

// A temp FILE*, a fake clock and a fixed terminal; frames only on tick().
class BarsHarness {
 public:
  explicit BarsHarness(TermSize size = {80, 24}) : file_(std::tmpfile()) {
    BarDisplayOptions o;
    o.now = [this] { return t; };
    o.term_size = [size] { return size; };
    o.render_thread = false;
    display = std::make_unique<BarDisplay>(file_, o);
  }
  ~BarsHarness() {
    display.reset();
    std::fclose(file_);
  }
  // Everything written so far.
  std::string output() {
    std::fflush(file_);
    std::string s;
    std::rewind(file_);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) s.append(buf, n);
    return s;
  }

  double t = 0;
  std::unique_ptr<BarDisplay> display;

 private:
  FILE* file_;
};

size_t pull(Reader& r, size_t n) {
  std::string buf(n, '\0');
  return r.read(reinterpret_cast<uint8_t*>(buf.data()), n);
}

void drain(Reader& r) {
  uint8_t buf[4096];
  while (r.read(buf, sizeof buf) > 0) {
  }
}

class ThrowingReader : public Reader {
 public:
  size_t read(uint8_t*, size_t) override { throw Error("connection reset"); }
};

TEST(ProgressBarsTest, FramesRedrawInPlaceAndLeaveTheFinalStateOnScreen) {
  BarsHarness h;
  auto a = h.display->start_blob("blob", kA, 2048, std::make_unique<StringReader>(std::string(2048, 'a')));
  auto b = h.display->start_blob("blob", kB, 4096, std::make_unique<StringReader>(std::string(4096, 'b')));
  ASSERT_EQ(pull(*a, 1024), 1024u);
  h.t = 1;
  h.display->tick();
  const std::string frame1 =
      "\x1b[2KCopying blob aaaaaaaaaaaa [=========>        ] 1.0KiB / 2.0KiB | 1.0 KiB/s | 1s\n"
      "\x1b[2KCopying blob bbbbbbbbbbbb [>                 ] 0B / 4.0KiB | 0 B/s | --\n"
      "\x1b[2KTotal                     [===>              ] 1.0KiB / 6.0KiB | 1.0 KiB/s | 5s\n";
  EXPECT_EQ(h.output(), frame1);

  // Nothing moved: no frame is written.
  h.display->tick();
  EXPECT_EQ(h.output(), frame1);

  drain(*a);
  ASSERT_EQ(pull(*b, 1024), 1024u);
  h.t = 2;
  h.display->tick();
  const std::string frame2 =
      "\r\x1b[3A"
      "\x1b[2KCopying blob aaaaaaaaaaaa done   2.0KiB\n"
      "\x1b[2KCopying blob bbbbbbbbbbbb [====>             ] 1.0KiB / 4.0KiB | 512 B/s | 6s\n"
      "\x1b[2KTotal                     [=========>        ] 3.0KiB / 6.0KiB | 1.5 KiB/s | 2s\n"
      "\x1b[J";
  EXPECT_EQ(h.output(), frame1 + frame2);

  drain(*b);
  h.t = 3;
  h.display->line("Writing manifest to image destination");
  const std::string frame3 =
      "\r\x1b[2A"
      "\x1b[2KCopying blob bbbbbbbbbbbb done   4.0KiB\n"
      "\x1b[2KTotal done   6.0KiB in 3s (2.0 KiB/s)\n"
      "\x1b[2KWriting manifest to image destination\n"
      "\x1b[J";
  EXPECT_EQ(h.output(), frame1 + frame2 + frame3);

  // The end adds nothing: the final state is already on screen.
  h.display->finish();
  h.display->finish();
  EXPECT_EQ(h.output(), frame1 + frame2 + frame3);
}

TEST(ProgressBarsTest, StepLinesWithoutBlobsArePlain) {
  BarsHarness h;
  h.display->line("Getting image source signatures");
  h.display->line("Copying image sha256:x (1/2)");
  EXPECT_EQ(h.output(),
            "\x1b[2KGetting image source signatures\n\x1b[2KCopying image sha256:x (1/2)\n");
}

TEST(ProgressBarsTest, SkippedBlobsAndASingleCopiedBlobHaveNoTotal) {
  BarsHarness h;
  h.display->blob_skipped("blob", kA);
  auto c = h.display->start_blob("config", kC, 3, std::make_unique<StringReader>("abc"));
  drain(*c);
  c.reset();
  h.display->line("Writing manifest to image destination");
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa skipped: already exists\n"
            "\x1b[2KCopying config cccccccccccc done   3B\n"
            "\x1b[2KWriting manifest to image destination\n");
}

TEST(ProgressBarsTest, EachImageOfAListGetsItsOwnTotal) {
  BarsHarness h;
  for (int image = 0; image < 2; ++image) {
    auto a = h.display->start_blob("blob", kA, 1024, std::make_unique<StringReader>(std::string(1024, 'a')));
    auto b = h.display->start_blob("config", kB, 1024, std::make_unique<StringReader>(std::string(1024, 'b')));
    drain(*a);
    drain(*b);
    h.display->line("Writing manifest to image destination");
  }
  const std::string one =
      "\x1b[2KCopying blob aaaaaaaaaaaa done   1.0KiB\n"
      "\x1b[2KCopying config bbbbbbbbbbbb done   1.0KiB\n"
      "\x1b[2KTotal done   2.0KiB\n"
      "\x1b[2KWriting manifest to image destination\n";
  EXPECT_EQ(h.output(), one + one);
}

TEST(ProgressBarsTest, UnknownSizesShowBytesAndRateOnly) {
  BarsHarness h;
  auto a = h.display->start_blob("blob", kA, -1, std::make_unique<StringReader>(std::string(3000, 'a')));
  auto b = h.display->start_blob("blob", kB, 1000, std::make_unique<StringReader>(std::string(1000, 'b')));
  ASSERT_EQ(pull(*a, 2048), 2048u);
  h.t = 2;
  h.display->tick();
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa 2.0KiB | 1.0 KiB/s\n"
            "\x1b[2KCopying blob bbbbbbbbbbbb [>" + std::string(26, ' ') + "] 0B / 1000B | 0 B/s | --\n"
            "\x1b[2KTotal                     2.0KiB | 1.0 KiB/s\n");
}

TEST(ProgressBarsTest, MoreBytesThanTheSourceSizeDropTheBar) {
  // A layer decompressed on the way is longer than the size the source gave.
  BarsHarness h;
  auto a = h.display->start_blob("blob", kA, 100, std::make_unique<StringReader>(std::string(300, 'a')));
  ASSERT_EQ(pull(*a, 200), 200u);
  h.t = 1;
  h.display->tick();
  EXPECT_EQ(h.output(), "\x1b[2KCopying blob aaaaaaaaaaaa 200B | 200 B/s\n");
  drain(*a);
  a.reset();
  h.display->finish();
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa 200B | 200 B/s\n"
            "\r\x1b[1A\x1b[2KCopying blob aaaaaaaaaaaa done   300B\n\x1b[J");
}

TEST(ProgressBarsTest, FailuresStayVisible) {
  BarsHarness h;
  auto bad = h.display->start_blob("blob", kA, 4096, std::make_unique<ThrowingReader>());
  auto cut = h.display->start_blob("blob", kB, 4096, std::make_unique<StringReader>(std::string(4096, 'b')));
  EXPECT_THROW(pull(*bad, 10), Error);
  ASSERT_EQ(pull(*cut, 1024), 1024u);
  // The copy is abandoned while cut is still in flight.
  h.display->finish();
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa failed at 0B / 4.0KiB\n"
            "\x1b[2KCopying blob bbbbbbbbbbbb failed at 1.0KiB / 4.0KiB\n");
}

TEST(ProgressBarsTest, AReaderDroppedByAnExceptionIsFailed) {
  BarsHarness h;
  try {
    auto r = h.display->start_blob("blob", kA, 10, std::make_unique<StringReader>("0123456789"));
    pull(*r, 4);
    throw Error("destination full");
  } catch (const Error&) {
  }
  auto ok = h.display->start_blob("blob", kB, 10, std::make_unique<StringReader>("0123456789"));
  pull(*ok, 4);
  ok.reset();  // dropped before its end, normally: the destination had all it wanted
  h.display->finish();
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa failed at 4B / 10B\n"
            "\x1b[2KCopying blob bbbbbbbbbbbb done   4B\n");
}

TEST(ProgressBarsTest, TheLiveRegionFitsAShortTerminal) {
  BarsHarness h({70, 3});
  std::vector<std::unique_ptr<Reader>> rs;
  for (const auto* d : {&kA, &kB, &kC})
    rs.push_back(h.display->start_blob("blob", *d, 10, std::make_unique<StringReader>("0123456789")));
  h.display->tick();
  // Two rows for the region: the first blob and the total.
  EXPECT_EQ(h.output(),
            "\x1b[2KCopying blob aaaaaaaaaaaa [>" + std::string(18, ' ') + "] 0B / 10B | 0 B/s | --\n"
            "\x1b[2KTotal                     [>" + std::string(18, ' ') + "] 0B / 30B | 0 B/s | --\n");
}

TEST(ProgressBarsTest, ATerminalResizeReflowsTheNextFrame) {
  TermSize size{80, 24};
  auto file = std::tmpfile();
  double t = 0;
  {
    BarDisplayOptions o;
    o.now = [&t] { return t; };
    o.term_size = [&size] { return size; };
    o.render_thread = false;
    BarDisplay d(file, o);
    auto r = d.start_blob("blob", kA, 10, std::make_unique<StringReader>("0123456789"));
    d.tick();
    size = {40, 24};
    d.tick();
    drain(*r);
  }
  std::fflush(file);
  std::rewind(file);
  char buf[1024] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, file);
  std::fclose(file);
  EXPECT_EQ(std::string(buf, n),
            "\x1b[2KCopying blob aaaaaaaaaaaa [>" + std::string(28, ' ') + "] 0B / 10B | 0 B/s | --\n"
            "\r\x1b[1A\x1b[2KCopying blob aaaaaaaaaaaa 0B / 10B | 0\n\x1b[J"
            "\r\x1b[1A\x1b[2KCopying blob aaaaaaaaaaaa done   10B\n\x1b[J");
}

TEST(ProgressBarsTest, AnOutputThatFailsStopsDrawingWithoutErrors) {
  // stdout closed or the terminal gone: writes fail, the copy goes on.
  FILE* ro = std::fopen("/dev/null", "r");
  ASSERT_NE(ro, nullptr);
  {
    BarDisplayOptions o;
    o.render_thread = false;
    BarDisplay d(ro, o);
    d.line("Getting image source signatures");
    auto r = d.start_blob("blob", kA, 10, std::make_unique<StringReader>("0123456789"));
    drain(*r);
    d.line("Writing manifest to image destination");
  }
  std::fclose(ro);
}

TEST(ProgressBarsTest, ParallelReadersWithTheRenderThread) {
  FILE* file = std::tmpfile();
  {
    BarDisplayOptions o;
    o.term_size = [] { return TermSize{100, 40}; };
    o.interval = 0.001;
    ProgressReporter report(std::make_unique<BarDisplay>(file, o));
    report.line("Getting image source signatures");
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&report, i] {
        const std::string digest = "sha256:" + std::string(64, static_cast<char>('0' + i));
        auto r = report.start_blob("blob", digest, 3 << 20,
                                   std::make_unique<StringReader>(std::string(3 << 20, 'x')));
        uint8_t buf[1024];
        while (r->read(buf, sizeof buf) > 0) {
        }
      });
    }
    for (auto& th : threads) th.join();
    report.line("Writing manifest to image destination");
  }
  std::fflush(file);
  std::rewind(file);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) out.append(buf, n);
  std::fclose(file);
  for (int i = 0; i < 6; ++i) {
    const std::string done = "Copying blob " + std::string(12, static_cast<char>('0' + i)) + " done   3.0MiB\n";
    EXPECT_NE(out.find(done), std::string::npos) << done;
  }
  EXPECT_NE(out.find("\x1b[2KTotal done   18.0MiB"), std::string::npos);
  const std::string last = "\x1b[2KWriting manifest to image destination\n";
  ASSERT_GE(out.size(), last.size());
  EXPECT_EQ(out.rfind(last), out.size() - last.size() - (out.ends_with("\x1b[J") ? 3 : 0));
}

}  // namespace
}  // namespace ferry
