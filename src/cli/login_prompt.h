// Reading a user name and a password for `login` the way c/common's
// pkg/auth does: --password-stdin takes every line of stdin joined, the
// user name prompt reads one line, the password prompt reads one line from
// the terminal with echo off. Nothing here prints or logs what it reads.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ferry::cli {

// Limits on what is read: a password or a user name is a few hundred bytes,
// so anything this large is not one and is refused rather than buffered.
inline constexpr std::size_t kMaxStdinPasswordSize = 1 << 20;
inline constexpr std::size_t kMaxPromptLineSize = 64 << 10;

// --password-stdin: Go's bufio.Scanner line splitting, joined: every line
// with its "\n" and one trailing "\r" dropped, a last unterminated line
// included. "a\r\nb\n" -> "ab".
std::string join_stdin_password_lines(std::string_view input);

// Reads fd to EOF (at most kMaxStdinPasswordSize bytes, and no line longer
// than bufio.Scanner's 64 KiB token limit), then join_stdin_password_lines.
// Errors: `reading password from stdin: <reason>`.
std::string read_stdin_password(int fd);

// The user name prompt's answer: bytes up to and including '\n', read one
// at a time so nothing after the line is consumed. Throws
// `reading username: EOF` when input ends before a newline (as Go's
// ReadString does), `reading username: line too long` past
// kMaxPromptLineSize.
std::string read_prompt_line(int fd);

// x/term's readPasswordLine over a byte source (next() returns the next
// byte, or -1 at end of input): '\n' ends the line, '\r' is ignored, '\b'
// erases the previous byte. End of input after some bytes returns them;
// with none it throws `EOF`. Throws `line too long` past kMaxPromptLineSize.
std::string password_line(const std::function<int()>& next);

// Reads one password line from the terminal fd with echo off (ICANON, ISIG
// and ICRNL on, as x/term does), restoring the terminal afterwards, also
// when SIGINT/SIGTERM/SIGHUP arrive meanwhile. Throws if fd is no terminal.
std::string read_password_no_echo(int fd);

// Go's strings.TrimSpace for ASCII whitespace (what a user name gets).
std::string trim_space(std::string_view s);

}  // namespace ferry::cli
