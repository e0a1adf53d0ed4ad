#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The last stop signal received (SIGINT or SIGTERM), 0 while none.
let receivedSignal = Atomic<Int32>(0)

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
