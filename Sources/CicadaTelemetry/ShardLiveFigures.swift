import Foundation

/// One shard's live figures, read from its `--status-port` `/metrics` (docs/LIVE-METRICS.md):
/// the counters summed over tasks and the corrected latency histogram's buckets.
///
/// A family the scrape lacks stays nil (absent, never 0).
public struct ShardLiveFigures: Sendable, Equatable {
    /// `cicada_requests_total`, all tasks.
    public var requests: Double?
    /// `cicada_failures_total`, all tasks and kinds.
    public var failures: Double?
    /// `cicada_in_flight_requests`.
    public var inFlight: Double?
    /// `cicada_users`.
    public var users: Double?
    /// `cicada_elapsed_seconds`.
    public var elapsed: Double?
    /// `cicada_request_duration_seconds{timing="corrected"}`: cumulative count by upper bound
    /// (seconds; `+Inf` last), summed over tasks.
    public var corrected: [PrometheusHistogram.Bucket]

    /// Creates figures.
    public init(requests: Double? = nil, failures: Double? = nil, inFlight: Double? = nil, users: Double? = nil, elapsed: Double? = nil,
                corrected: [PrometheusHistogram.Bucket] = []) {
        self.requests = requests; self.failures = failures; self.inFlight = inFlight; self.users = users
        self.elapsed = elapsed; self.corrected = corrected
    }

    /// The figures in one scrape of a shard's `/metrics`.
    public init(_ scrape: PrometheusExposition) {
        func total(_ name: String) -> Double? {
            guard let f = scrape[name] else { return nil }
            return f.plainSamples.reduce(0) { $0 + $1.value }
        }
        self.init(requests: total("cicada_requests_total"), failures: total("cicada_failures_total"),
                  inFlight: total("cicada_in_flight_requests"), users: total("cicada_users"), elapsed: total("cicada_elapsed_seconds"),
                  corrected: ShardLiveFigures.sum((scrape["cicada_request_duration_seconds"]?.histograms ?? [])
                      .filter { h in h.labels.contains { $0.name == "timing" && $0.value == "corrected" } }.map(\.buckets)))
    }

    /// Bucket lists added bound by bound (the shards export the same bounds; a bound one list
    /// lacks takes that list's count at the next lower bound it has).
    public static func sum(_ lists: [[PrometheusHistogram.Bucket]]) -> [PrometheusHistogram.Bucket] {
        let bounds = Set(lists.flatMap { $0.map(\.upperBound) }).sorted()
        return bounds.map { b in
            PrometheusHistogram.Bucket(upperBound: b, cumulativeCount: lists.reduce(0) { acc, list in
                acc + (list.last { $0.upperBound <= b }?.cumulativeCount ?? 0)
            })
        }
    }

    /// The `q`-quantile (0...1) of cumulative buckets, interpolated linearly inside the bucket
    /// as Prometheus's `histogram_quantile` does; nil with no observations. A quantile in the
    /// `+Inf` bucket reads as the highest finite bound.
    public static func quantile(_ q: Double, _ buckets: [PrometheusHistogram.Bucket]) -> Double? {
        guard let total = buckets.last?.cumulativeCount, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0, lowerCount = 0.0
        for b in buckets {
            if b.cumulativeCount >= rank {
                if b.upperBound == .infinity { return lowerBound }
                let inBucket = b.cumulativeCount - lowerCount
                return inBucket > 0 ? lowerBound + (b.upperBound - lowerBound) * (rank - lowerCount) / inBucket : b.upperBound
            }
            lowerBound = b.upperBound; lowerCount = b.cumulativeCount
        }
        return lowerBound
    }
}

/// The shards' live figures merged: counters and gauges added, histograms added bucket by
/// bucket, percentiles read from the merged buckets. What `cicada dash --shards` prints.
public struct MergedLiveFigures: Sendable, Equatable {
    /// Shards that answered this poll, and shards asked.
    public var answered: Int
    public var shards: Int
    /// Sums over the shards that answered; nil when none of them exported the family.
    public var requests: Double?
    public var failures: Double?
    public var inFlight: Double?
    public var users: Double?
    /// The longest elapsed time of the shards that answered.
    public var elapsed: Double?
    /// Corrected latency percentiles (seconds) from the merged buckets; nil with no requests.
    public var p50: Double?
    public var p99: Double?

    /// Merges one poll: `nil` for a shard that did not answer.
    public init(_ polls: [ShardLiveFigures?]) {
        let up = polls.compactMap { $0 }
        func sum(_ k: KeyPath<ShardLiveFigures, Double?>) -> Double? {
            let values = up.compactMap { $0[keyPath: k] }
            return values.isEmpty ? nil : values.reduce(0, +)
        }
        answered = up.count; shards = polls.count
        requests = sum(\.requests); failures = sum(\.failures); inFlight = sum(\.inFlight); users = sum(\.users)
        elapsed = up.compactMap(\.elapsed).max()
        let buckets = ShardLiveFigures.sum(up.map(\.corrected))
        p50 = ShardLiveFigures.quantile(0.5, buckets)
        p99 = ShardLiveFigures.quantile(0.99, buckets)
    }

    /// One text line: shards answering, requests and their rate since `previous` over
    /// `seconds`, failures, in flight, users, p50 and p99; absent figures read `-`.
    public func line(previous: MergedLiveFigures?, seconds: Double) -> String {
        func n(_ v: Double?) -> String { v.map { String(Int($0.rounded())) } ?? "-" }
        func ms(_ v: Double?) -> String { v.map { String(format: "%.1fms", $0 * 1000) } ?? "-" }
        var rate = "-"
        if let now = requests, let before = previous?.requests, seconds > 0, now >= before {
            rate = String(format: "%.1f", (now - before) / seconds)
        }
        let t = elapsed.map { String(format: "%.0fs", $0) } ?? "-"
        return "shards \(answered)/\(shards) | t \(t) | requests \(n(requests)) (\(rate)/s) | failures \(n(failures)) | in flight \(n(inFlight))"
            + " | users \(n(users)) | p50 \(ms(p50)) p99 \(ms(p99)) (corrected, from buckets)"
    }
}
