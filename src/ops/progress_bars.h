// Live progress bars on a terminal: one line per blob in flight with bytes,
// rate and ETA, and a total line, redrawn in place with ANSI cursor-up and
// clear-line. Finished blobs ("done", "skipped: already exists") and step
// lines ("Writing manifest to image destination") are printed above the live
// region and stay on screen, so the region holds only what is still moving
// and never grows taller than the terminal.
//
// Layers copy on up to --image-parallel-copies threads; each read only adds
// to an atomic counter. Frames are drawn by one render thread at most
// 1/interval times a second (or by tick(), for tests with a fake clock).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/reader.h"
#include "ops/progress_format.h"

namespace ferry {

struct TermSize {
  int cols = 80;
  int rows = 24;
};

// The size of the terminal behind out (TIOCGWINSZ), asked every frame so a
// resize takes effect at once; 80x24 when out is not a terminal.
TermSize terminal_size(FILE* out);

struct BarDisplayOptions {
  std::function<double()> now;          // seconds on a monotonic clock; default steady_clock
  std::function<TermSize()> term_size;  // default terminal_size(out)
  bool render_thread = true;            // false: frames only on tick(), line() and finish()
  double interval = 0.1;                // seconds between frames of the render thread
};

class BarDisplay {
 public:
  BarDisplay(FILE* out, BarDisplayOptions opts = {});
  ~BarDisplay();
  BarDisplay(const BarDisplay&) = delete;
  BarDisplay& operator=(const BarDisplay&) = delete;

  // A step line. Blobs already finished are shown first; when none is in
  // flight the image's total is closed, so the next blobs start a new one.
  void line(const std::string& text);
  std::unique_ptr<Reader> start_blob(const std::string& kind, const std::string& digest,
                                     int64_t size, std::unique_ptr<Reader> in);
  void blob_skipped(const std::string& kind, const std::string& digest);
  // Draws a frame now.
  void tick();
  // Stops the render thread and leaves the final state on screen. Blobs
  // still in flight (the copy failed) are shown as failed. Idempotent.
  void finish();

  // Shared between a blob's counting reader (any thread, lock-free) and the
  // display (under mu_). A shared_ptr so neither outlives the other's data.
  struct Counter {
    enum State : int { kActive, kDone, kFailed };
    std::atomic<int64_t> bytes{0};
    std::atomic<int> state{kActive};
  };

 private:
  struct Entry {
    std::string kind, digest;
    int64_t size;
    std::shared_ptr<Counter> counter;
    progress::RateMeter meter;
  };

  double now() const;
  void ensure_thread_locked();
  void render_loop();
  // Moves finished blobs to the permanent lines and samples the others.
  void collect_locked(double t);
  void close_group_locked(double t);
  void draw_locked(double t);
  void write_locked(const std::string& s);

  FILE* out_;
  BarDisplayOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool finished_ = false;
  bool broken_ = false;  // a write failed (terminal gone): draw nothing more

  std::vector<Entry> active_;
  std::vector<std::string> pending_;  // permanent lines not yet drawn
  std::vector<std::string> last_live_;
  size_t live_on_screen_ = 0;

  // The current image's blobs (a group ends at a step line with none in flight).
  int group_blobs_ = 0;
  bool group_size_known_ = true;
  bool group_failed_ = false;
  int64_t group_size_ = 0;
  int64_t group_finished_bytes_ = 0;
  double group_start_ = 0;
  progress::RateMeter group_meter_;
};

}  // namespace ferry
