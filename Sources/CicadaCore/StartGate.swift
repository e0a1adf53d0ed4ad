/// Waits for a wall-clock moment (`--start-at`), so shards on several machines start their
/// load together.
///
/// Wall-clock (CLOCK_REALTIME) on purpose: it is the only clock machines share (through NTP);
/// each shard records how its realtime and monotonic clocks relate at the start
/// (``ShardArtifact/ShardRecord``) so a merge can see clocks that disagree. The clock and the
/// sleep are injected, so tests run it in virtual time.
public enum StartGate {
    /// What the wait ended with.
    public enum Outcome: Sendable, Equatable {
        /// The moment came; `lateSeconds` after it (0 or more: the sleep's overshoot).
        case started(lateSeconds: Double)
        /// The moment had already passed by `seconds` when the wait began.
        case alreadyPassed(seconds: Double)
        /// `shouldStop` asked to stop first.
        case stopped
    }

    /// Sleeps until `nowUnix()` reaches `targetUnix`, in steps of at most `step` so a stop
    /// request is seen promptly.
    public static func wait(untilUnix targetUnix: Double, nowUnix: () -> Double, sleep: (Duration) -> Void,
                            step: Duration = .milliseconds(50), shouldStop: () -> Bool = { false }) -> Outcome {
        let first = nowUnix()
        if first >= targetUnix { return .alreadyPassed(seconds: first - targetUnix) }
        while true {
            if shouldStop() { return .stopped }
            let now = nowUnix()
            // Within a microsecond is on time (and no sleep shorter than the clock can do).
            if now >= targetUnix - 1e-6 { return .started(lateSeconds: max(0, now - targetUnix)) }
            sleep(min(.fromSeconds(targetUnix - now), step))
        }
    }
}
