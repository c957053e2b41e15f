#include "ops/progress_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ferry::progress {

namespace {

constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
constexpr size_t kUnitCount = sizeof kUnits / sizeof kUnits[0];

// v >= 1024 bytes in the largest binary unit that keeps it below 1024, one
// decimal. Rounding can reach "1024.0"; that is shown as the next unit's 1.0.
std::string scaled(double v, const char* sep) {
  size_t u = 0;
  v /= 1024;
  while (v >= 1024 && u + 1 < kUnitCount) {
    v /= 1024;
    ++u;
  }
  std::string n = fmt::format("{:.1f}", v);
  if (n == "1024.0" && u + 1 < kUnitCount) {
    n = "1.0";
    ++u;
  }
  return n + sep + kUnits[u];
}

}  // namespace

std::string format_size(int64_t bytes) {
  if (bytes < 0) bytes = 0;
  if (bytes < 1024) return fmt::format("{}B", bytes);
  return scaled(static_cast<double>(bytes), "");
}

std::string format_rate(double r) {
  if (!std::isfinite(r) || r < 0) r = 0;
  // Below 1023.5 the rounded whole number still reads as bytes.
  if (r < 1023.5) return fmt::format("{:.0f} B/s", r);
  return scaled(std::max(r, 1024.0), " ") + "/s";
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= 100.0 * 3600) return "--";
  const long long s = std::llround(seconds);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string short_digest(const std::string& digest) {
  const size_t colon = digest.find(':');
  const std::string encoded = colon == std::string::npos ? digest : digest.substr(colon + 1);
  return encoded.substr(0, 12);
}

std::string render_bar(double fraction, int inner_width) {
  if (inner_width <= 0) return "";
  if (!std::isfinite(fraction) || fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  const int w = inner_width;
  const int filled = std::min(w, static_cast<int>(std::floor(fraction * w)));
  if (filled >= w) return std::string(static_cast<size_t>(w), '=');
  return std::string(static_cast<size_t>(filled), '=') + ">" +
         std::string(static_cast<size_t>(w - filled - 1), ' ');
}

std::string format_counters(const LiveBar& bar) {
  if (bar.total < 0) return format_size(bar.current) + " | " + format_rate(bar.rate);
  const int64_t remaining = std::max<int64_t>(0, bar.total - bar.current);
  std::string eta;
  if (remaining == 0) {
    eta = "0s";
  } else if (bar.rate > 0 && std::isfinite(bar.rate)) {
    eta = format_duration(std::ceil(static_cast<double>(remaining) / bar.rate));
  } else {
    eta = "--";
  }
  return format_size(bar.current) + " / " + format_size(bar.total) + " | " +
         format_rate(bar.rate) + " | " + eta;
}

std::vector<std::string> layout_live(const std::vector<LiveBar>& bars, int width) {
  const size_t usable = static_cast<size_t>(std::max(width, 2) - 1);
  size_t label_w = 0;
  size_t counters_w = 0;
  std::vector<std::string> counters;
  counters.reserve(bars.size());
  for (const auto& b : bars) {
    label_w = std::max(label_w, b.label.size());
    counters.push_back(format_counters(b));
    if (b.total >= 0) counters_w = std::max(counters_w, counters.back().size());
  }
  // label + " [" + bar + "] " + counters
  const long room = static_cast<long>(usable) - static_cast<long>(label_w) - 4 -
                    static_cast<long>(counters_w);
  const int bar_w = static_cast<int>(std::min<long>(kMaxBarWidth, room));

  std::vector<std::string> out;
  out.reserve(bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    std::string line = b.label;
    line.resize(label_w, ' ');
    if (b.total >= 0 && bar_w >= kMinBarWidth) {
      const double frac =
          b.total == 0 ? 1.0 : static_cast<double>(b.current) / static_cast<double>(b.total);
      line += " [" + render_bar(frac, bar_w) + "] ";
    } else {
      line += " ";
    }
    line += counters[i];
    if (line.size() > usable) {
      line.resize(usable);
      while (!line.empty() && line.back() == ' ') line.pop_back();
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::string done_line(const std::string& kind, const std::string& digest, int64_t bytes) {
  return "Copying " + kind + " " + short_digest(digest) + " done   " + format_size(bytes);
}

std::string skipped_line(const std::string& kind, const std::string& digest) {
  return "Copying " + kind + " " + short_digest(digest) + " skipped: already exists";
}

std::string failed_line(const std::string& kind, const std::string& digest, int64_t bytes,
                        int64_t total) {
  std::string s = "Copying " + kind + " " + short_digest(digest) + " failed at " + format_size(bytes);
  if (total >= 0) s += " / " + format_size(total);
  return s;
}

std::string total_done_line(int64_t bytes, double seconds) {
  std::string s = "Total done   " + format_size(bytes);
  if (std::isfinite(seconds) && seconds >= 1) {
    s += " in " + format_duration(seconds) + " (" +
         format_rate(static_cast<double>(bytes) / seconds) + ")";
  }
  return s;
}

void RateMeter::add(double t, int64_t cumulative_bytes) {
  if (!samples_.empty() && t <= samples_.back().first) {
    // Same instant (or a clock that did not advance): keep the newest count.
    samples_.back().second = cumulative_bytes;
    return;
  }
  samples_.emplace_back(t, cumulative_bytes);
  // Keep one sample at or before the window's start so the rate spans the
  // whole window.
  while (samples_.size() > 2 && samples_[1].first <= t - window_) samples_.pop_front();
}

double RateMeter::rate() const {
  if (samples_.size() < 2) return 0;
  const double dt = samples_.back().first - samples_.front().first;
  if (dt <= 0) return 0;
  const double db = static_cast<double>(samples_.back().second - samples_.front().second);
  return db > 0 ? db / dt : 0;
}

}  // namespace ferry::progress
