import Foundation

extension SecondWindows {
    /// The windows of a distributed run, from its merged per-wall-clock-second records
    /// (``ShardArtifact/timeline``), for ``WindowBootstrap`` to resample as it does one run's.
    ///
    /// Each record with a measured request is one window, filed at its Unix second counted from
    /// the whole second the run started in (`startUnix` rounded down); the last window ends at
    /// `endUnix`. A record carries requests, failures and the corrected latency of all tasks, so
    /// the windows give intervals on the corrected percentiles and mean, `qps` and `error_rate`
    /// only (raw and per-token figures are not kept per second in an artifact: no interval). When
    /// any record with requests has no histogram (an artifact written before they were kept),
    /// no window gets a latency distribution, so latency intervals are absent rather than drawn
    /// from part of the run.
    ///
    /// Given the same requests in the same seconds, these windows equal those a single run keeps
    /// (``add(_:second:)``) in corrected latency, requests and failures, so the
    /// same seed gives the same intervals on those figures.
    public init(records: [ShardArtifact.SecondRecord], startUnix: Double, endUnix: Double, capacity: Int = 600) {
        self.init(capacity: capacity)
        // Unix times are checked when an artifact is read; a time out of Int64's range here
        // counts from 0 rather than trap.
        let down = startUnix.rounded(.down)
        let origin = down.isFinite && abs(down) < 9e18 ? Int64(down) : 0
        let exact = records.allSatisfy { $0.requests == 0 || $0.corrected != nil }
        for r in records.sorted(by: { $0.second < $1.second }) where r.requests > 0 {
            var w = Window()
            w.requests = r.requests
            w.failures = r.failures
            if exact, let h = r.corrected { w.distributions[Kind.corrected.rawValue].add(h) }
            let (second, overflow) = r.second.subtractingReportingOverflow(origin)
            guard !overflow else { continue }
            add(w, second: second)
        }
        close(atSeconds: endUnix - Double(origin))
    }
}
