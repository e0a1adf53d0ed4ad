import CicadaCore

/// The one-line progress report printed to stderr while a run goes (every 2 s by default).
///
/// Shows what the run is doing now rather than since the start: throughput and latency are
/// over the default sliding window (labelled with its length), so a slowdown shows within
/// seconds. The failure percentage is cumulative, matching what `error_rate` thresholds judge,
/// and the schedule lag p99 tells whether the generator itself is keeping up. In the open
/// model the target arrival rate replaces the user count, and queued and dropped arrivals are
/// shown when there are any. Absent values print as `-`.
///
/// `[  12s/60s] users 50/50 | 512.3 req/s (10s) | p50 1.20ms p99 8.10ms (10s) | fails 0.00% | lag p99 0.050ms`
public enum ProgressLine {
    /// The line for `snapshot` (no trailing newline); `duration` is the planned run time, if
    /// the run has one.
    public static func format(_ snapshot: Snapshot, duration: Duration?) -> String {
        var parts: [String] = []
        let elapsed = String(Int(max(0, snapshot.elapsed.seconds)))
        if let d = duration {
            let total = String(Int(max(0, d.seconds).rounded(.up)))
            let pad = String(repeating: " ", count: max(0, total.count - elapsed.count))
            parts.append("[\(pad)\(elapsed)s/\(total)s]")
        } else {
            parts.append("[\(elapsed)s]")
        }

        var load: String
        if let rate = snapshot.targetRate {
            load = "rate \(Format.number(rate, digits: 1))/s target"
        } else {
            load = "users \(snapshot.gauges.users)/\(snapshot.targetUsers.map(String.init) ?? "-")"
        }
        if snapshot.gauges.queued > 0 { load += " queued \(snapshot.gauges.queued)" }
        if snapshot.dropped > 0 { load += " dropped \(snapshot.dropped)" }
        parts.append(load)
        // In the warm-up or cool-down the figures below are the measured window's (absent
        // during the warm-up): say why.
        if snapshot.phase == .warmup { parts.append("warm-up (\(snapshot.excludedWarmup) not measured)") }
        if snapshot.phase == .cooldown { parts.append("cool-down (\(snapshot.excludedCooldown) not measured)") }

        let label = "(\(snapshot.defaultWindowSeconds)s)"
        let window = snapshot.window
        let h = window?.total.corrected
        let items = [
            "\(window?.qps.map { Format.number($0, digits: 1) } ?? "-") req/s \(label)",
            "p50 \(Format.micros(h?.percentile(50))) p99 \(Format.micros(h?.percentile(99))) \(label)",
            "fails \(snapshot.total.errorRate.map { Format.number($0 * 100, digits: 2) + "%" } ?? "-")",
            "lag p99 \(Format.micros(snapshot.scheduleLag.percentile(99)))",
        ]
        return parts.joined(separator: " ") + " | " + items.joined(separator: " | ")
    }
}
