#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CicadaCore
import Foundation
import Synchronization

/// The last stop signal received (SIGINT, SIGTERM or SIGHUP), 0 while none.
let receivedSignal = Atomic<Int32>(0)

/// Whether SIGINT, SIGTERM or SIGHUP has arrived (or the dashboard found its terminal gone).
@Sendable func stopSignalReceived() -> Bool { receivedSignal.load(ordering: .relaxed) != 0 }

/// Installs SIGINT/SIGTERM/SIGHUP handlers that only record the signal; the run loop polls it
/// and stops cleanly, so results measured so far are still summarised and written.
///
/// SIGHUP (the terminal closed: ssh dropped, the window or tmux session killed) stops the run as
/// SIGTERM does, unless it was ignored when we started (`nohup cicada ...`): then it stays
/// ignored and the run goes on, as nohup asks. SIGPIPE is ignored: a closed pipe on stdout or
/// stderr must not cost the reports.
func installStopSignalHandlers() {
    let handler: @convention(c) (Int32) -> Void = { sig in
        receivedSignal.store(sig, ordering: .relaxed)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    if !signalIsIgnored(SIGHUP) { signal(SIGHUP, handler) }
    signal(SIGPIPE, SIG_IGN)
    // A parent may start us with these signals blocked (threads of a dispatch pool block
    // everything, and children inherit the mask): unblock them so a stop always arrives.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGHUP)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Whether `sig`'s disposition is SIG_IGN now (inherited from the parent, as under nohup).
func signalIsIgnored(_ sig: Int32) -> Bool {
    var current = sigaction()
    guard sigaction(sig, nil, &current) == 0 else { return false }
    return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
}

/// Records a hang-up found without the signal (the dashboard saw its terminal go away while the
/// shell that owned it did not pass SIGHUP on): the run stops as if SIGHUP had arrived.
func recordTerminalHangUp() {
    _ = receivedSignal.compareExchange(expected: 0, desired: SIGHUP, ordering: .relaxed)
}

/// Waits until a stop signal arrives or `limit` (from now) passes; for the servers that run
/// until stopped (`serve`, `target`).
func waitForStop(limit: Duration?) {
    let clock = MonotonicTimeSource()
    let start = clock.nowNanos()
    while !stopSignalReceived() {
        if let limit, clock.nowNanos() - start >= limit.nanos { break }
        usleep(50_000)
    }
}

/// A `--duration` flag's value, or nil when not given; a value that does not parse is a usage error.
func parseLimit(_ text: String?, flag: String = "--duration") throws -> Duration? {
    try text.map { s in
        guard let d = DurationText.parse(s) else { throw ValidationError("\(flag) '\(s)' is not a duration") }
        return d
    }
}

/// Writes `s` and a newline to stderr.
func printError(_ s: String) {
    writeAll(STDERR_FILENO, s + "\n")
}

/// Writes all of `text` to `fd`, going on after a signal or a short write. Any other error (EIO
/// from a hung-up terminal, EPIPE from a closed pipe, EBADF from a closed descriptor) drops the
/// text: a notice is never worth the run. (FileHandle's `write(_:)` traps on those errors, which
/// killed a run whose stderr was a closed pipe before it wrote its reports.)
func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    var waits = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n > 0 { offset += n; continue }
        if n < 0 && errno == EINTR { continue }
        // A non-blocking descriptor that is full: wait a little for room, then give up on it.
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits < 10 {
            waits += 1
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 100)
            continue
        }
        return
    }
}
