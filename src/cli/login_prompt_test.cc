#include "cli/login_prompt.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "util/error.h"

namespace ferry::cli {
namespace {

// A pipe whose read end holds `data` and is then closed for writing, so a
// reader sees exactly `data` and EOF. The writer runs in a thread: data may
// exceed the pipe's buffer.
class PipeWith {
 public:
  explicit PipeWith(std::string data) {
    // A reader that stops early must not kill the test binary by SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    read_fd_ = fds[0];
    writer_ = std::thread([fd = fds[1], data = std::move(data)] {
      size_t off = 0;
      while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(fd);
    });
  }
  ~PipeWith() {
    ::close(read_fd_);  // unblocks a writer the test did not drain
    writer_.join();
  }
  int fd() const { return read_fd_; }

 private:
  int read_fd_;
  std::thread writer_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::function<int()> bytes(const std::string& s) {
  auto pos = std::make_shared<size_t>(0);
  return [s, pos]() -> int {
    if (*pos >= s.size()) return -1;
    return static_cast<unsigned char>(s[(*pos)++]);
  };
}

TEST(LoginPrompt, JoinsStdinPasswordLinesAsBufioScanner) {
  EXPECT_EQ(join_stdin_password_lines(""), "");
  EXPECT_EQ(join_stdin_password_lines("secret"), "secret");
  EXPECT_EQ(join_stdin_password_lines("secret\n"), "secret");
  EXPECT_EQ(join_stdin_password_lines("secret\r\n"), "secret");
  EXPECT_EQ(join_stdin_password_lines("secret\r"), "secret");
  EXPECT_EQ(join_stdin_password_lines("a\r\nb\n"), "ab");
  EXPECT_EQ(join_stdin_password_lines("a\n\nb"), "ab");
  // Only one \r before the newline goes; one inside a line stays.
  EXPECT_EQ(join_stdin_password_lines("a\rb\r\r\n"), "a\rb\r");
  EXPECT_EQ(join_stdin_password_lines("\n\n"), "");
  EXPECT_EQ(join_stdin_password_lines(" sp ace \n"), " sp ace ");
}

TEST(LoginPrompt, ReadsStdinPasswordToEof) {
  PipeWith p("pass\r\nword\n");
  EXPECT_EQ(read_stdin_password(p.fd()), "password");
  PipeWith empty("");
  EXPECT_EQ(read_stdin_password(empty.fd()), "");
  // A password that does not fit in one read().
  std::string big(20000, 'x');
  PipeWith large(big + "\n");
  EXPECT_EQ(read_stdin_password(large.fd()), big);
}

TEST(LoginPrompt, RefusesOversizedStdinPassword) {
  PipeWith huge(std::string(kMaxStdinPasswordSize + 1, 'x'));
  EXPECT_EQ(error_of([&] { read_stdin_password(huge.fd()); }),
            "reading password from stdin: more than 1048576 bytes of input");
  std::string lines;
  for (int i = 0; i < 3; ++i) lines += std::string(1000, 'y') + "\n";
  lines += std::string(kMaxPromptLineSize + 1, 'z') + "\n";
  PipeWith long_line(lines);
  EXPECT_EQ(error_of([&] { read_stdin_password(long_line.fd()); }), "reading password from stdin: line too long");
}

TEST(LoginPrompt, ReadsOneUsernameLineAndNoMore) {
  PipeWith p("alice\nrest\n");
  EXPECT_EQ(read_prompt_line(p.fd()), "alice\n");
  EXPECT_EQ(read_prompt_line(p.fd()), "rest\n");
  EXPECT_EQ(error_of([&] { read_prompt_line(p.fd()); }), "reading username: EOF");
  // Input ending without a newline is an error, as Go's ReadString('\n').
  PipeWith unterminated("bob");
  EXPECT_EQ(error_of([&] { read_prompt_line(unterminated.fd()); }), "reading username: EOF");
  PipeWith huge(std::string(kMaxPromptLineSize + 10, 'u'));
  EXPECT_EQ(error_of([&] { read_prompt_line(huge.fd()); }), "reading username: line too long");
}

TEST(LoginPrompt, EditsPasswordLineAsXTerm) {
  EXPECT_EQ(password_line(bytes("secret\n")), "secret");
  EXPECT_EQ(password_line(bytes("sec\r\nret\n")), "sec");
  EXPECT_EQ(password_line(bytes("se\bx\bcret\n")), "scret");
  EXPECT_EQ(password_line(bytes("se\bx\b\bcret\n")), "cret");
  EXPECT_EQ(password_line(bytes("\b\bab\n")), "ab");
  EXPECT_EQ(password_line(bytes("\n")), "");
  EXPECT_EQ(password_line(bytes("tail")), "tail");
  EXPECT_EQ(error_of([] { password_line(bytes("")); }), "EOF");
  EXPECT_EQ(error_of([] { password_line(bytes(std::string(kMaxPromptLineSize + 1, 'p'))); }), "line too long");
}

TEST(LoginPrompt, TrimsAsciiSpace) {
  EXPECT_EQ(trim_space("  alice \r\n"), "alice");
  EXPECT_EQ(trim_space("\t\v\f"), "");
  EXPECT_EQ(trim_space("a b"), "a b");
}

TEST(LoginPrompt, NoEchoNeedsATerminal) {
  PipeWith p("secret\n");
  EXPECT_EQ(error_of([&] { read_password_no_echo(p.fd()); }), "inappropriate ioctl for device");
}

TEST(LoginPrompt, ReadsPasswordFromTerminalWithoutEchoAndRestoresIt) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  struct termios before;
  ASSERT_EQ(::tcgetattr(slave, &before), 0);
  ASSERT_NE(before.c_lflag & ECHO, 0u);

  std::string got;
  std::string failure;
  std::thread reader([&] {
    try {
      got = read_password_no_echo(slave);
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  // The reader may not have turned echo off yet when these bytes arrive;
  // wait until it has (the terminal's flags say so) before typing.
  for (;;) {
    struct termios now;
    ASSERT_EQ(::tcgetattr(slave, &now), 0);
    if ((now.c_lflag & ECHO) == 0) break;
    std::this_thread::yield();
  }
  const std::string typed = "s3cr3t\r";  // a terminal sends CR; ICRNL makes it '\n'
  ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  reader.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(got, "s3cr3t");

  struct termios after;
  ASSERT_EQ(::tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);

  // Echo is back on: a marker typed now is echoed, and everything the
  // terminal echoed before it must not contain the password.
  ASSERT_EQ(::write(master, "MARK\n", 5), 5);
  std::string echoed;
  char buf[256];
  while (echoed.find("MARK") == std::string::npos) {
    ssize_t n = ::read(master, buf, sizeof buf);
    ASSERT_GT(n, 0);
    echoed.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(echoed.find("s3cr3t"), std::string::npos) << echoed;
  ::close(slave);
  ::close(master);
}

}  // namespace
}  // namespace ferry::cli
