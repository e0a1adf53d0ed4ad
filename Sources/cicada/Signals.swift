#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CicadaCore
import Foundation
import Synchronization

/// The last stop signal received (SIGINT or SIGTERM), 0 while none.
let receivedSignal = Atomic<Int32>(0)

/// Whether SIGINT or SIGTERM has arrived.
@Sendable func stopSignalReceived() -> Bool { receivedSignal.load(ordering: .relaxed) != 0 }

/// Installs SIGINT/SIGTERM handlers that only record the signal; the run loop polls it and
/// stops cleanly, so results measured so far are still summarised and written.
func installStopSignalHandlers() {
    let handler: @convention(c) (Int32) -> Void = { sig in
        receivedSignal.store(sig, ordering: .relaxed)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    signal(SIGPIPE, SIG_IGN)
    // A parent may start us with these signals blocked (threads of a dispatch pool block
    // everything, and children inherit the mask): unblock them so a stop always arrives.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
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
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
