// The text of ferry's live progress bars, as pure functions so every frame
// can be checked byte for byte: sizes in skopeo's binary units with one
// decimal ("12.3MiB"), rates ("8.1 MiB/s"), durations ("4s", "1m05s"), the
// bar itself and the layout of a frame for a given terminal width.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace ferry::progress {

// "512B", "1.5KiB", "12.3MiB", ... (negative counts as 0).
std::string format_size(int64_t bytes);
// "512 B/s", "8.1 MiB/s" (negative, NaN or infinite counts as 0).
std::string format_rate(double bytes_per_second);
// Whole seconds, rounded: "0s", "4s", "1m05s", "2h03m"; "--" when unknown
// (negative, NaN, or too large to mean anything).
std::string format_duration(double seconds);
// The first 12 characters of a digest's encoded part, as skopeo shows it.
std::string short_digest(const std::string& digest);
// The inside of a bar `inner_width` characters wide: "=====>     ".
std::string render_bar(double fraction, int inner_width);

// One line of the live region.
struct LiveBar {
  std::string label;      // "Copying blob 1a2b3c4d5e6f", "Total"
  int64_t current = 0;    // bytes so far
  int64_t total = -1;     // -1: unknown (no bar, no ETA)
  double rate = 0;        // bytes per second; 0 while not yet measurable
};

// "12.3MiB / 45.6MiB | 8.1 MiB/s | 4s", or "12.3MiB | 8.1 MiB/s" when the
// total is unknown. The ETA is "--" while the rate is 0.
std::string format_counters(const LiveBar& bar);

// Lays bars out for a terminal `width` columns wide: labels padded to one
// column so the bars line up, the bar as wide as fits (at most kMaxBarWidth,
// left out below kMinBarWidth), every line at most width-1 characters so the
// terminal never wraps it (a wrapped line would break cursor-up redraws).
inline constexpr int kMaxBarWidth = 50;
inline constexpr int kMinBarWidth = 10;
std::vector<std::string> layout_live(const std::vector<LiveBar>& bars, int width);

// Lines that stay on screen once a blob is finished.
std::string done_line(const std::string& kind, const std::string& digest, int64_t bytes);
std::string skipped_line(const std::string& kind, const std::string& digest);
std::string failed_line(const std::string& kind, const std::string& digest, int64_t bytes,
                        int64_t total);
// The total once every blob of an image is copied: "Total done   45.6MiB"
// plus " in 5s (9.1 MiB/s)" when the copy took a second or more.
std::string total_done_line(int64_t bytes, double seconds);

// Recent throughput from cumulative byte counts sampled over time: the rate
// over the last `window` seconds, so a stall shows as a falling rate rather
// than being averaged away. Memory is bounded by the samples in the window.
class RateMeter {
 public:
  explicit RateMeter(double window_seconds = 3.0) : window_(window_seconds) {}
  void add(double t, int64_t cumulative_bytes);
  double rate() const;  // bytes per second; 0 with fewer than two samples

 private:
  double window_;
  std::deque<std::pair<double, int64_t>> samples_;
};

}  // namespace ferry::progress
