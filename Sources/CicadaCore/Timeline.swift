/// One point of a run's time series (what the JSON report's `timeline` holds).
public struct TimelinePoint: Sendable, Equatable {
    /// Seconds since test start.
    public var t: Double
    public var users: Int
    /// Completed requests per second since the previous point.
    public var qps: Double
    /// Failures per second since the previous point.
    public var failuresPerSecond: Double
    /// Corrected latency percentiles over the default window, in ms; nil with no data.
    public var p50Millis: Double?
    public var p95Millis: Double?
    public var p99Millis: Double?
    /// The phase this second belongs to; a warm-up or cool-down point's rates and percentiles
    /// are those of the excluded requests (shown shaded; in no figure of the report).
    public var phase: MeasurementPhase = .measured
    public init(t: Double, users: Int, qps: Double, failuresPerSecond: Double, p50Millis: Double?, p95Millis: Double?, p99Millis: Double?) {
        self.t = t; self.users = users; self.qps = qps; self.failuresPerSecond = failuresPerSecond
        self.p50Millis = p50Millis; self.p95Millis = p95Millis; self.p99Millis = p99Millis
    }
}

/// A bounded time series: when full, every other point is dropped and the stride doubles,
/// so a run of any length keeps at most `capacity` evenly spaced points (flat memory).
public struct Timeline: Sendable, Equatable {
    public private(set) var points: [TimelinePoint] = []
    public let capacity: Int
    /// Only every `stride`-th offered point is kept.
    public private(set) var stride = 1
    private var offered = 0

    public init(capacity: Int = 3600) { self.capacity = max(2, capacity) }

    public mutating func append(_ p: TimelinePoint) {
        defer { offered += 1 }
        guard offered % stride == 0 else { return }
        points.append(p)
        if points.count >= capacity {
            points = points.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            stride *= 2
        }
    }
}

/// Something that happened during a run, with its time (the JSON report's `events`).
public struct RunEvent: Sendable, Equatable {
    /// Seconds since test start.
    public var t: Double
    public var kind: String
    public var detail: String
    public init(t: Double, kind: String, detail: String) { self.t = t; self.kind = kind; self.detail = detail }
}
