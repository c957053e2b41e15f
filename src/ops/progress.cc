#include "ops/progress.h"

namespace ferry {

void ProgressReporter::line(const std::string& text) {
  if (!out_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

std::unique_ptr<Reader> ProgressReporter::start_blob(const std::string& kind,
                                                     const std::string& digest, int64_t,
                                                     std::unique_ptr<Reader> in) {
  line("Copying " + kind + " " + digest);
  return in;
}

void ProgressReporter::blob_skipped(const std::string& kind, const std::string& digest) {
  // Non-TTY skopeo prints the same line for a reused blob as for a copied
  // one; the bar variant (TTY) adds "skipped: already exists".
  line("Copying " + kind + " " + digest);
}

}  // namespace ferry
