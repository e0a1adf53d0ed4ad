import CicadaCore

/// Decides when a sweep point has measured enough, the way perf_analyzer does: the last
/// `windows` measurement windows agree, in throughput and in mean latency, within `tolerance`
/// (max / min - 1 for each).
///
/// Fed the run's cumulative request count and latency sum at each window's end, so windows are
/// exact differences with no gap or overlap between them. Pure.
public struct StabilityCheck: Sendable {
    /// How many consecutive windows must agree.
    public let windows: Int
    /// Allowed spread, e.g. 0.1 for 10%.
    public let tolerance: Double
    /// Each finished window's throughput (req/s) and mean latency (µs); nil without a request.
    public private(set) var recent: [(qps: Double, meanMicros: Double)?] = []
    private var last: (requests: UInt64, latencyMicros: Double, seconds: Double) = (0, 0, 0)

    public init(windows: Int, tolerance: Double) {
        self.windows = max(2, windows); self.tolerance = tolerance
    }

    /// Closes a window at `seconds` (since the measurement began), given the requests completed
    /// so far and the sum of their latencies; true once the last ``windows`` agree.
    @discardableResult
    public mutating func add(requests: UInt64, latencyMicros: Double, atSeconds seconds: Double) -> Bool {
        let dn = requests &- last.requests, dt = seconds - last.seconds
        if dn > 0, dt > 0 {
            recent.append((Double(dn) / dt, (latencyMicros - last.latencyMicros) / Double(dn)))
        } else {
            recent.append(nil)
        }
        last = (requests, latencyMicros, seconds)
        if recent.count > windows { recent.removeFirst(recent.count - windows) }
        return isStable
    }

    /// Closes a window from a cumulative snapshot's totals (corrected latency).
    @discardableResult
    public mutating func add(_ total: RequestStats, atSeconds seconds: Double) -> Bool {
        let h = total.corrected
        return add(requests: h.count, latencyMicros: (h.meanMicros ?? 0) * Double(h.count), atSeconds: seconds)
    }

    /// Whether the last ``windows`` windows agree. A window without a completed request never does.
    public var isStable: Bool {
        guard recent.count == windows else { return false }
        let ws = recent.compactMap { $0 }
        guard ws.count == windows, ws.allSatisfy({ $0.qps > 0 && $0.meanMicros > 0 }) else { return false }
        func spread(_ xs: [Double]) -> Double { xs.max()! / xs.min()! - 1 }
        return spread(ws.map(\.qps)) <= tolerance && spread(ws.map(\.meanMicros)) <= tolerance
    }
}
