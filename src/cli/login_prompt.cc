#include "cli/login_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include "io/fs.h"
#include "util/error.h"

namespace ferry::cli {

namespace {

// Read one byte, retrying on EINTR. Returns the byte, -1 at EOF; throws on
// a read error.
int read_byte(int fd) {
  for (;;) {
    unsigned char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return c;
    if (n == 0) return -1;
    if (errno == EINTR) continue;
    throw Error(errno_text(errno));
  }
}

// The terminal state to put back if a signal ends the process while echo
// is off. Only async-signal-safe calls touch it from the handler.
struct termios g_saved_termios;
volatile sig_atomic_t g_termios_fd = -1;

constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void restore_terminal_and_die(int sig) {
  if (g_termios_fd >= 0) ::tcsetattr(g_termios_fd, TCSANOW, &g_saved_termios);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Installs the handlers for its lifetime and puts the previous ones back.
class TerminalGuard {
 public:
  TerminalGuard(int fd, const struct termios& saved) : fd_(fd) {
    g_saved_termios = saved;
    g_termios_fd = fd;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_terminal_and_die;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kRestoreSignals); ++i)
      ::sigaction(kRestoreSignals[i], &sa, &old_[i]);
  }
  ~TerminalGuard() {
    ::tcsetattr(fd_, TCSANOW, &g_saved_termios);
    g_termios_fd = -1;
    for (size_t i = 0; i < std::size(kRestoreSignals); ++i) ::sigaction(kRestoreSignals[i], &old_[i], nullptr);
  }
  TerminalGuard(const TerminalGuard&) = delete;
  TerminalGuard& operator=(const TerminalGuard&) = delete;

 private:
  int fd_;
  struct sigaction old_[std::size(kRestoreSignals)];
};

}  // namespace

std::string join_stdin_password_lines(std::string_view input) {
  std::string out;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.append(line);
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  return out;
}

std::string read_stdin_password(int fd) {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("reading password from stdin: " + errno_text(errno));
    }
    if (data.size() + static_cast<size_t>(n) > kMaxStdinPasswordSize) {
      throw Error("reading password from stdin: more than " + std::to_string(kMaxStdinPasswordSize) +
                  " bytes of input");
    }
    data.append(buf, static_cast<size_t>(n));
  }
  for (size_t start = 0; start < data.size();) {
    size_t nl = data.find('\n', start);
    size_t end = nl == std::string::npos ? data.size() : nl;
    if (end - start > kMaxPromptLineSize) throw Error("reading password from stdin: line too long");
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::string out = join_stdin_password_lines(data);
  std::fill(data.begin(), data.end(), '\0');
  return out;
}

std::string read_prompt_line(int fd) {
  std::string line;
  for (;;) {
    int c;
    try {
      c = read_byte(fd);
    } catch (const Error& e) {
      throw Error(std::string("reading username: ") + e.what());
    }
    if (c < 0) throw Error("reading username: EOF");
    line.push_back(static_cast<char>(c));
    if (c == '\n') return line;
    if (line.size() > kMaxPromptLineSize) throw Error("reading username: line too long");
  }
}

std::string password_line(const std::function<int()>& next) {
  std::string out;
  for (;;) {
    int c = next();
    if (c < 0) {
      if (out.empty()) throw Error("EOF");
      return out;
    }
    switch (c) {
      case '\b':
        if (!out.empty()) out.pop_back();
        break;
      case '\n':
        return out;
      case '\r':
        break;
      default:
        if (out.size() >= kMaxPromptLineSize) {
          std::fill(out.begin(), out.end(), '\0');
          throw Error("line too long");
        }
        out.push_back(static_cast<char>(c));
    }
  }
}

std::string read_password_no_echo(int fd) {
  struct termios saved;
  if (::tcgetattr(fd, &saved) != 0) throw Error(errno_text(errno));
  struct termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ICANON | ISIG;
  quiet.c_iflag |= ICRNL;
  TerminalGuard guard(fd, saved);
  if (::tcsetattr(fd, TCSANOW, &quiet) != 0) throw Error(errno_text(errno));
  return password_line([fd] { return read_byte(fd); });
}

std::string trim_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace ferry::cli
