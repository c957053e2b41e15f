// Stopping a command in order. A process killed outright by Ctrl-C, a CI
// runner's SIGTERM or --command-timeout leaves its staging files behind (an
// OCI layout's oci-put-blob temporaries, a dir: destination's hidden
// .NAME.ferry-XXXX directory, each up to a layer's size). Stopped in order,
// the command unwinds like any failure and the uncommitted destination's
// destructor removes what it wrote; then the process ends as the signal
// would have ended it, so its parent sees what it sees of skopeo.
//
// The stop is cooperative: transfers look at requested() between chunks
// (HttpClient's step, the copy engine's readers), sleeps end early, and the
// error that unwinds is Interrupted, which --retry-times never retries.
#pragma once

#include <chrono>
#include <string>

#include "util/error.h"

namespace ferry::interrupt {

// SIGINT, SIGTERM and SIGHUP ask for a stop (each unless it was ignored when
// the process started, as a shell's background jobs have SIGINT). The
// handler is one-shot: a second signal kills the process at once.
void catch_signals();

// Asks for a stop without a signal (the --command-timeout deadline).
void request_deadline();

// Whether a stop was asked for; a relaxed atomic load, cheap enough per chunk.
bool requested();
// The signal that asked, 0 if none did (or the deadline came first).
int signal_number();
bool deadline_passed();

class Interrupted : public Error {
 public:
  Interrupted();
};

// Throws Interrupted once a stop was asked for.
void check();

// Sleeps for d, returning early (and throwing Interrupted) on a stop.
void sleep_for(std::chrono::nanoseconds d);

// Ends the process by the signal that asked for the stop, with its default
// action (SIGINT: "killed by signal 2", exit status 130 in a shell).
[[noreturn]] void die_by_signal();

// For tests: forgets any request and puts the handlers back to default.
void reset_for_test();

}  // namespace ferry::interrupt
