#include "ops/progress_bars.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <system_error>

namespace ferry {

namespace {

using progress::LiveBar;

// Counts bytes on their way to the destination. The end of the stream marks
// the blob done; an exception through read() marks it failed. A reader
// dropped before its end (a destination that stops at the known size) is
// done, unless it is dropped while an exception unwinds the copy.
class CountingReader : public Reader {
 public:
  CountingReader(std::unique_ptr<Reader> in, std::shared_ptr<BarDisplay::Counter> c)
      : in_(std::move(in)), c_(std::move(c)), uncaught_(std::uncaught_exceptions()) {}
  ~CountingReader() override {
    settle(std::uncaught_exceptions() > uncaught_ ? BarDisplay::Counter::kFailed
                                                  : BarDisplay::Counter::kDone);
  }
  CountingReader(const CountingReader&) = delete;
  CountingReader& operator=(const CountingReader&) = delete;

  size_t read(uint8_t* buf, size_t n) override {
    size_t got;
    try {
      got = in_->read(buf, n);
    } catch (...) {
      settle(BarDisplay::Counter::kFailed);
      throw;
    }
    if (got == 0) {
      settle(BarDisplay::Counter::kDone);
    } else {
      c_->bytes.fetch_add(static_cast<int64_t>(got), std::memory_order_relaxed);
    }
    return got;
  }
  std::string vouched_digest() const override { return in_->vouched_digest(); }

 private:
  void settle(int to) {
    int expected = BarDisplay::Counter::kActive;
    c_->state.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }

  std::unique_ptr<Reader> in_;
  std::shared_ptr<BarDisplay::Counter> c_;
  int uncaught_;
};

std::string blob_label(const std::string& kind, const std::string& digest) {
  return "Copying " + kind + " " + progress::short_digest(digest);
}

}  // namespace

TermSize terminal_size(FILE* out) {
  TermSize ts;
  if (!out) return ts;
  const int fd = fileno(out);
  struct winsize ws {};
  if (fd >= 0 && ::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col > 0) ts.cols = ws.ws_col;
    if (ws.ws_row > 0) ts.rows = ws.ws_row;
  }
  return ts;
}

BarDisplay::BarDisplay(FILE* out, BarDisplayOptions opts) : out_(out), opts_(std::move(opts)) {
  if (!opts_.now) {
    opts_.now = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
  }
  if (!opts_.term_size) opts_.term_size = [out] { return terminal_size(out); };
  if (!(opts_.interval > 0)) opts_.interval = 0.1;
}

BarDisplay::~BarDisplay() {
  try {
    finish();
  } catch (...) {
    // A progress display must never turn a finished copy into a failure.
  }
}

double BarDisplay::now() const { return opts_.now(); }

void BarDisplay::ensure_thread_locked() {
  if (!opts_.render_thread || finished_ || thread_.joinable()) return;
  try {
    thread_ = std::thread([this] { render_loop(); });
  } catch (const std::system_error&) {
    // No thread: frames are still drawn at every step line and at the end.
    opts_.render_thread = false;
  }
}

void BarDisplay::render_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = std::chrono::duration<double>(opts_.interval);
  while (!stop_) {
    cv_.wait_for(lock, period);
    if (stop_) break;
    draw_locked(now());
  }
}

std::unique_ptr<Reader> BarDisplay::start_blob(const std::string& kind, const std::string& digest,
                                               int64_t size, std::unique_ptr<Reader> in) {
  auto counter = std::make_shared<Counter>();
  std::lock_guard<std::mutex> lock(mu_);
  const double t = now();
  if (group_blobs_ == 0) {
    group_start_ = t;
    group_meter_.add(t, 0);
  }
  ++group_blobs_;
  if (size >= 0) {
    group_size_ += size;
  } else {
    group_size_known_ = false;
  }
  Entry e{kind, digest, size, counter, progress::RateMeter()};
  e.meter.add(t, 0);
  active_.push_back(std::move(e));
  ensure_thread_locked();
  return std::make_unique<CountingReader>(std::move(in), std::move(counter));
}

void BarDisplay::blob_skipped(const std::string& kind, const std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(progress::skipped_line(kind, digest));
  ensure_thread_locked();
}

void BarDisplay::line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  const double t = now();
  collect_locked(t);
  if (active_.empty()) close_group_locked(t);
  pending_.push_back(text);
  draw_locked(t);
}

void BarDisplay::tick() {
  std::lock_guard<std::mutex> lock(mu_);
  draw_locked(now());
}

void BarDisplay::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  const double t = now();
  collect_locked(t);
  for (const auto& e : active_) {
    pending_.push_back(progress::failed_line(e.kind, e.digest,
                                             e.counter->bytes.load(std::memory_order_relaxed),
                                             e.size));
    group_failed_ = true;
  }
  active_.clear();
  close_group_locked(t);
  draw_locked(t);
}

void BarDisplay::collect_locked(double t) {
  std::vector<Entry> still;
  still.reserve(active_.size());
  for (auto& e : active_) {
    const int state = e.counter->state.load(std::memory_order_acquire);
    const int64_t bytes = e.counter->bytes.load(std::memory_order_relaxed);
    if (state == Counter::kActive) {
      e.meter.add(t, bytes);
      still.push_back(std::move(e));
      continue;
    }
    if (state == Counter::kDone) {
      pending_.push_back(progress::done_line(e.kind, e.digest, bytes));
    } else {
      pending_.push_back(progress::failed_line(e.kind, e.digest, bytes, e.size));
      group_failed_ = true;
    }
    // A blob compressed or decompressed on the way has a different length
    // than the source said; the total follows what was really written.
    if (e.size >= 0) group_size_ += bytes - e.size;
    group_finished_bytes_ += bytes;
  }
  active_ = std::move(still);
}

void BarDisplay::close_group_locked(double t) {
  // One blob's line already says all a total would.
  if (group_blobs_ >= 2 && !group_failed_)
    pending_.push_back(progress::total_done_line(group_finished_bytes_, t - group_start_));
  group_blobs_ = 0;
  group_size_known_ = true;
  group_failed_ = false;
  group_size_ = 0;
  group_finished_bytes_ = 0;
  group_meter_ = progress::RateMeter();
}

void BarDisplay::draw_locked(double t) {
  if (broken_ || !out_) {
    pending_.clear();
    return;
  }
  collect_locked(t);

  std::vector<LiveBar> bars;
  int64_t cumulative = group_finished_bytes_;
  for (const auto& e : active_) {
    LiveBar b;
    b.label = blob_label(e.kind, e.digest);
    b.current = e.counter->bytes.load(std::memory_order_relaxed);
    // More bytes than the source's size: the stream is decompressed on the
    // way, so the size says nothing about how much is left.
    b.total = e.size >= 0 && b.current <= e.size ? e.size : -1;
    b.rate = e.meter.rate();
    cumulative += b.current;
    bars.push_back(std::move(b));
  }
  if (group_blobs_ >= 2 && !active_.empty()) {
    group_meter_.add(t, cumulative);
    LiveBar total;
    total.label = "Total";
    total.current = cumulative;
    total.total = group_size_known_ && cumulative <= group_size_ ? group_size_ : -1;
    total.rate = group_meter_.rate();
    bars.push_back(std::move(total));
  }

  const TermSize ts = opts_.term_size();
  // The live region must fit on screen: cursor-up cannot reach above it.
  const size_t max_live = static_cast<size_t>(std::max(1, ts.rows - 1));
  while (bars.size() > max_live) bars.erase(bars.end() - (bars.size() >= 2 ? 2 : 1));
  std::vector<std::string> live = progress::layout_live(bars, ts.cols);

  if (pending_.empty() && live == last_live_) return;
  std::string frame;
  if (live_on_screen_ > 0) frame += "\r\x1b[" + std::to_string(live_on_screen_) + "A";
  for (const auto& l : pending_) frame += "\x1b[2K" + l + "\n";
  for (const auto& l : live) frame += "\x1b[2K" + l + "\n";
  // Whatever of the old region is left below (it was taller) is cleared.
  if (live_on_screen_ > 0) frame += "\x1b[J";
  pending_.clear();
  live_on_screen_ = live.size();
  last_live_ = std::move(live);
  write_locked(frame);
}

void BarDisplay::write_locked(const std::string& s) {
  if (broken_) return;
  if (std::fwrite(s.data(), 1, s.size(), out_) != s.size() || std::fflush(out_) != 0 ||
      std::ferror(out_)) {
    broken_ = true;
  }
}

}  // namespace ferry
