#include "util/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace ferry::interrupt {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
// Pseudo signal number for the deadline: never raised.
constexpr int kDeadline = -1;

// 0: running; a signal number; or kDeadline. Lock-free, so the handler may
// store it (async-signal-safe).
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_signal(int sig) {
  int expected = 0;
  g_stop.compare_exchange_strong(expected, sig);
}

}  // namespace

Interrupted::Interrupted()
    : Error(g_stop.load() == kDeadline ? "context deadline exceeded" : "interrupted") {}

void catch_signals() {
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESETHAND: the second signal finds the default action and kills.
    // SA_RESTART: other system calls carry on; transfers notice the flag.
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    ::sigaction(sig, &sa, nullptr);
  }
}

void request_deadline() {
  int expected = 0;
  g_stop.compare_exchange_strong(expected, kDeadline);
}

bool requested() { return g_stop.load(std::memory_order_relaxed) != 0; }

int signal_number() {
  const int s = g_stop.load();
  return s > 0 ? s : 0;
}

bool deadline_passed() { return g_stop.load() == kDeadline; }

void check() {
  if (requested()) throw Interrupted();
}

void sleep_for(std::chrono::nanoseconds d) {
  // A signal cannot notify a condition variable safely; slices of 50 ms
  // bound the wait after a stop instead.
  const auto end = std::chrono::steady_clock::now() + d;
  for (;;) {
    check();
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(end - now, std::chrono::milliseconds(50)));
  }
}

void die_by_signal() {
  const int sig = signal_number();
  if (sig > 0) {
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
  }
  ::_exit(128 + (sig > 0 ? sig : 1));
}

void reset_for_test() {
  g_stop.store(0);
  for (int sig : kSignals) ::signal(sig, SIG_DFL);
}

}  // namespace ferry::interrupt
