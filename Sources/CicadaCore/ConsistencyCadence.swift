/// When the consistency probe is due: the `every:` / `interval:` rule of a ``ConsistencySpec``
/// as a pure state, asked once per turn of the probe loop with the run's clock and the load's
/// completed requests.
///
/// Pure, so the probe's timing is tested in virtual time; ``ConsistencyProber`` (CicadaRunner)
/// asks it every 20 ms on its own thread.
public struct ConsistencyCadence: Sendable {
    /// The spec's rule.
    public let cadence: ConsistencySpec.Cadence
    private var nextCount: UInt64
    private var nextNanos: UInt64?
    private var lastCount: UInt64 = 0

    /// The rule with nothing sent yet: the first `every: n` probe is due at n completed
    /// requests, the first `interval: d` probe at d after the run's start.
    public init(_ cadence: ConsistencySpec.Cadence) {
        self.cadence = cadence
        if case .everyRequests(let n) = cadence { nextCount = UInt64(max(n, 1)) } else { nextCount = 0 }
    }

    /// Whether a probe is due at `nowNanos`, for a run that started at `startNanos` on the same
    /// clock and has completed `completed` requests; a due probe moves the next due point on.
    ///
    /// Due points that passed while a probe was in flight are skipped, not queued: a slow server
    /// never gets a pile of probes. The count starts again from 0 after a reset (`r`,
    /// `/control`) or in the next repetition (`--repeat`): the next probe is then n requests on.
    public mutating func isDue(nowNanos: UInt64, startNanos: UInt64, completed: UInt64) -> Bool {
        switch cadence {
        case .everyRequests(let n0):
            let n = UInt64(max(n0, 1))
            if completed < lastCount { nextCount = completed + n }
            lastCount = completed
            guard completed >= nextCount else { return false }
            nextCount = (completed / n + 1) * n
            return true
        case .interval(let d):
            let next = nextNanos ?? (startNanos &+ d.nanos)
            guard nowNanos >= next else { nextNanos = next; return false }
            nextNanos = max(next &+ d.nanos, nowNanos)
            return true
        }
    }
}

/// Something the runner can ask for the consistency probe's findings so far (the prober, or a
/// fake in tests); ``Snapshot/consistency`` carries them, so the diagnosis rules judge
/// `inconsistent_outputs` on each live snapshot as they do on the finished run.
public protocol ConsistencyFeed: Sendable {
    /// The findings so far.
    func consistencySummary() -> ConsistencySummary
}
