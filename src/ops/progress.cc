#include "ops/progress.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "ops/progress_bars.h"

namespace ferry {

ProgressMode choose_progress_mode(bool have_output, bool is_terminal, const char* ferry_progress,
                                  const char* term) {
  if (!have_output) return ProgressMode::Quiet;
  if (ferry_progress && std::strcmp(ferry_progress, "plain") == 0) return ProgressMode::Plain;
  if (ferry_progress && std::strcmp(ferry_progress, "bars") == 0) return ProgressMode::Bars;
  // A dumb terminal cannot move the cursor; it gets the log lines.
  if (!is_terminal || (term && std::strcmp(term, "dumb") == 0)) return ProgressMode::Plain;
  return ProgressMode::Bars;
}

namespace {

ProgressMode mode_for(FILE* out) {
  const bool tty = out && ::isatty(fileno(out)) == 1;
  return choose_progress_mode(out != nullptr, tty, std::getenv("FERRY_PROGRESS"),
                              std::getenv("TERM"));
}

}  // namespace

ProgressReporter::ProgressReporter(FILE* out) : ProgressReporter(out, mode_for(out)) {}

ProgressReporter::ProgressReporter(FILE* out, ProgressMode mode)
    : out_(mode == ProgressMode::Quiet ? nullptr : out) {
  if (out_ && mode == ProgressMode::Bars) bars_ = std::make_unique<BarDisplay>(out_);
}

ProgressReporter::ProgressReporter(std::unique_ptr<BarDisplay> bars)
    : out_(nullptr), bars_(std::move(bars)) {}

// The display's destructor leaves the final frame on screen.
ProgressReporter::~ProgressReporter() = default;

void ProgressReporter::line(const std::string& text) {
  if (bars_) return bars_->line(text);
  if (!out_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

std::unique_ptr<Reader> ProgressReporter::start_blob(const std::string& kind,
                                                     const std::string& digest, int64_t size,
                                                     std::unique_ptr<Reader> in) {
  if (bars_) return bars_->start_blob(kind, digest, size, std::move(in));
  line("Copying " + kind + " " + digest);
  return in;
}

void ProgressReporter::blob_skipped(const std::string& kind, const std::string& digest) {
  if (bars_) return bars_->blob_skipped(kind, digest);
  // Non-TTY skopeo prints the same line for a reused blob as for a copied
  // one; the bar variant (TTY) adds "skipped: already exists".
  line("Copying " + kind + " " + digest);
}

}  // namespace ferry
