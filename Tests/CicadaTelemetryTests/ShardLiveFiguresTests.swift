import Foundation
import Testing

@testable import CicadaTelemetry

/// `cicada dash --shards`: shards' `/metrics` scrapes added into one live view.
@Suite struct ShardLiveFiguresTests {
    /// A shard's scrape in the `--status-port` form: `n` requests of task `a`, all with corrected
    /// latency inside the bucket ending at `bucket` (seconds), `f` failures, `inFlight` in flight.
    static func scrape(requests n: Int, inBucketEndingAt bucket: Double, failures f: Int, inFlight: Int, elapsed: Double) -> String {
        let bounds = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5]
        var s = """
        # TYPE cicada_requests_total counter
        cicada_requests_total{scenario="s",task="a",method="GET"} \(n)
        # TYPE cicada_failures_total counter
        cicada_failures_total{scenario="s",task="a",method="GET",kind="timeout"} \(f)
        cicada_failures_total{scenario="s",task="a",method="GET",kind="http_5xx"} 0
        # TYPE cicada_request_duration_seconds histogram

        """
        for timing in ["corrected", "raw"] {
            for b in bounds {
                // The raw timing sits one bucket lower, so mixing the two would show.
                let at = timing == "corrected" ? bucket : bounds[max(0, bounds.firstIndex(of: bucket)! - 1)]
                s += "cicada_request_duration_seconds_bucket{scenario=\"s\",task=\"a\",method=\"GET\",timing=\"\(timing)\",le=\"\(b)\"} \(b >= at ? n : 0)\n"
            }
            s += "cicada_request_duration_seconds_bucket{scenario=\"s\",task=\"a\",method=\"GET\",timing=\"\(timing)\",le=\"+Inf\"} \(n)\n"
            s += "cicada_request_duration_seconds_count{scenario=\"s\",task=\"a\",method=\"GET\",timing=\"\(timing)\"} \(n)\n"
        }
        s += "# TYPE cicada_in_flight_requests gauge\ncicada_in_flight_requests{scenario=\"s\"} \(inFlight)\n"
        s += "# TYPE cicada_elapsed_seconds gauge\ncicada_elapsed_seconds{scenario=\"s\"} \(elapsed)\n"
        return s
    }

    @Test func twoShardsAddUpAndPercentilesComeFromTheMergedBuckets() throws {
        let a = ShardLiveFigures(try PrometheusText.parse(Self.scrape(requests: 100, inBucketEndingAt: 0.01, failures: 2, inFlight: 3, elapsed: 4)))
        let b = ShardLiveFigures(try PrometheusText.parse(Self.scrape(requests: 100, inBucketEndingAt: 0.1, failures: 1, inFlight: 5, elapsed: 4.5)))
        #expect(a.requests == 100 && a.failures == 2 && a.inFlight == 3)
        #expect(a.users == nil)   // not exported: absent, not 0
        let m = MergedLiveFigures([a, b])
        #expect(m.answered == 2 && m.shards == 2)
        #expect(m.requests == 200 && m.failures == 3 && m.inFlight == 8 && m.elapsed == 4.5)
        #expect(m.users == nil)
        // Half the requests at or below 10 ms: p50 is the top of a's bucket. p99 is rank 198 of
        // 200, 98 of the 100 in b's bucket (50 ms, 100 ms]: 50 + 50 * 0.98 ms.
        #expect(abs(try #require(m.p50) - 0.01) < 1e-9)
        #expect(abs(try #require(m.p99) - (0.05 + 0.05 * 0.98)) < 1e-9)
        // Shard b alone: its raw timing (one bucket lower) is not mixed in.
        #expect(try #require(ShardLiveFigures.quantile(0.5, b.corrected)) > 0.05)
    }

    @Test func aShardThatDidNotAnswerIsCountedAsMissingNotAsZero() throws {
        let a = ShardLiveFigures(try PrometheusText.parse(Self.scrape(requests: 40, inBucketEndingAt: 0.005, failures: 0, inFlight: 1, elapsed: 2)))
        let m = MergedLiveFigures([a, nil, nil])
        #expect(m.answered == 1 && m.shards == 3 && m.requests == 40)
        let none = MergedLiveFigures([nil, nil])
        #expect(none.requests == nil && none.p99 == nil)
        let line = none.line(previous: nil, seconds: 1)
        #expect(line.hasPrefix("shards 0/2") && line.contains("requests - (-/s)") && line.contains("p99 -"), "\(line)")
        // The rate is the difference over the interval.
        let later = MergedLiveFigures([ShardLiveFigures(requests: 70, corrected: a.corrected), nil, nil])
        #expect(later.line(previous: m, seconds: 2).contains("requests 70 (15.0/s)"))
    }

    @Test func bucketListsWithDifferentBoundsAddAtEachBound() {
        typealias B = PrometheusHistogram.Bucket
        let sum = ShardLiveFigures.sum([[B(upperBound: 0.1, cumulativeCount: 2), B(upperBound: .infinity, cumulativeCount: 3)],
                                        [B(upperBound: 0.05, cumulativeCount: 1), B(upperBound: 0.1, cumulativeCount: 4), B(upperBound: .infinity, cumulativeCount: 4)]])
        #expect(sum.map(\.upperBound) == [0.05, 0.1, .infinity])
        #expect(sum.map(\.cumulativeCount) == [1, 6, 7])
        // A quantile in the +Inf bucket reads as the highest finite bound.
        #expect(ShardLiveFigures.quantile(1, sum) == 0.1)
        #expect(ShardLiveFigures.quantile(0.5, []) == nil)
    }
}
