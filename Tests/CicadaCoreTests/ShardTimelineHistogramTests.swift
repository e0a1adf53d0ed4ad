import Foundation
import Testing
@testable import CicadaCore

/// Per-second histograms in the shard artifact's timeline, so `cicada merge` gives per-second
/// percentiles of all shards together, exactly.
@Suite struct ShardTimelineHistogramTests {
    static func histogram(_ values: [UInt64]) -> LatencyHistogram {
        var h = LatencyHistogram()
        for v in values { h.record(micros: v) }
        return h
    }

    static func values(_ seed: UInt64, _ n: Int) -> [UInt64] {
        var rng = SeededRandom(seed: seed, stream: 0)
        return (0..<n).map { _ in 100 + rng.next() % 2_000_000 }
    }

    @Test(arguments: [1, 2, 3])
    func aHistogramMinusAnEarlierStateHoldsWhatCameBetween(_ seed: UInt64) throws {
        let before = Self.values(seed, 300), after = Self.values(seed + 100, 200)
        let earlier = Self.histogram(before), later = Self.histogram(before + after)
        let between = try #require(later.subtracting(earlier))
        let expected = Self.histogram(after)
        #expect(between.count == expected.count)
        #expect(between.sumMicros == expected.sumMicros)
        for p in [1.0, 50, 90, 99, 99.9] {
            let got = try #require(between.percentile(p)), want = try #require(expected.percentile(p))
            // The same bucket: within HdrHistogram's 3 significant digits.
            #expect(abs(Double(got) - Double(want)) <= Double(want) / 1000 + 1, "p\(p): \(got) vs \(want)")
        }
        #expect(between.buckets().map(\.count) == expected.buckets().map(\.count))
        // Nothing new: empty; a state that is not earlier (a reset): nil.
        #expect(later.subtracting(later)?.isEmpty == true)
        #expect(earlier.subtracting(later) == nil)
        #expect(Self.histogram(after).subtracting(earlier) == nil)
        #expect(later.subtracting(LatencyHistogram()) == later)
    }

    @Test func theRecorderFilesEachSecondsLatencies() throws {
        var rec = ShardTimelineRecorder()
        var stats = RequestStats()
        var perSecond: [[UInt64]] = []
        func take(_ values: [UInt64], at unix: Double) {
            for (k, v) in values.enumerated() {
                stats.record(RequestOutcome(statIndex: 0, intendedNanos: UInt64(k), sentNanos: UInt64(k), endNanos: UInt64(k) + v * 1000,
                                            ttfbMicros: 1, status: 200, failure: nil, error: nil, bytesIn: 1, bytesOut: 1))
            }
            let snap = Snapshot(elapsed: .zero, names: ["a"], methods: ["GET"], perStat: [stats], total: stats, windows: [:], defaultWindowSeconds: 10,
                                errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(users: 1),
                                targetUsers: nil, targetRate: nil, measuredSeconds: 1)
            rec.add(snap, atUnix: unix)
        }
        let a = Self.values(5, 50), b = Self.values(6, 80), c = Self.values(7, 30)
        take(a, at: 100.5); take(b, at: 101.5); take([], at: 102.5); take(c, at: 103.2)
        perSecond = [a, b, [], c]
        let records = rec.records
        #expect(records.map(\.second) == [100, 101, 102, 103])
        for (r, values) in zip(records, perSecond) {
            let h = try #require(r.corrected)
            #expect(h.count == r.requests && h.count == UInt64(values.count))
            if let got = h.percentile(99), let want = Self.histogram(values).percentile(99) {
                #expect(abs(Double(got) - Double(want)) <= Double(want) / 1000 + 1, "\(got) vs \(want)")
            } else {
                #expect(values.isEmpty && h.isEmpty)
            }
        }
        #expect(records[2].corrected?.isEmpty == true)
    }

    @Test func mergedSecondsHaveTheUnionsPercentilesOrNoneIfAShardKeptNone() throws {
        let identity = ShardArtifactTests.identity
        func withSeconds(_ shard: Int, _ values: [Int64: [UInt64]], histograms: Bool = true) -> ShardArtifact {
            var a = ShardArtifactTests.artifact(shard: shard, of: 3, seed: 9, identity: identity)
            a.timeline = values.keys.sorted().map { s in
                ShardArtifact.SecondRecord(second: s, requests: UInt64(values[s]!.count), failures: 0, users: 1,
                                           corrected: histograms ? Self.histogram(values[s]!) : nil)
            }
            return a
        }
        let v = (0..<6).map { Self.values(UInt64(20 + $0), 40 + $0 * 10) }
        let parts = [withSeconds(0, [1_800_000_000: v[0], 1_800_000_001: v[1]]), withSeconds(1, [1_800_000_000: v[2], 1_800_000_001: v[3]]),
                     withSeconds(2, [1_800_000_001: v[4], 1_800_000_002: v[5]])]
        let merged = try #require(try ShardArtifact.merged(parts))
        let seconds = merged.timeline
        #expect(seconds.map(\.second) == [1_800_000_000, 1_800_000_001, 1_800_000_002])
        #expect(seconds[0].corrected == Self.histogram(v[0] + v[2]))
        #expect(seconds[1].corrected == Self.histogram(v[1] + v[3] + v[4]))
        // In any grouping and order (merge stays associative and commutative).
        let pair = try #require(try ShardArtifact.merged([parts[2], parts[0]]))
        let other = try #require(try ShardArtifact.merged([pair, parts[1]]))
        #expect(other.timeline == merged.timeline)
        // The merged run's timeline reads the percentiles from them.
        let points = merged.runResult().timeline.points
        let all1 = Self.histogram(v[1] + v[3] + v[4])
        #expect(points.count == 3)
        #expect(points[1].p99Millis == all1.percentile(99).map { Double($0) / 1000 })
        #expect(points[1].p50Millis == all1.percentile(50).map { Double($0) / 1000 })
        // Through the file and back.
        #expect(try ShardArtifact.read(Data(merged.json().utf8)) == merged)
        // An artifact without per-second histograms (an older version) makes those seconds absent, never partial.
        let old = withSeconds(1, [1_800_000_000: v[2], 1_800_000_001: v[3]], histograms: false)
        let mixed = try #require(try ShardArtifact.merged([parts[0], old, parts[2]]))
        #expect(mixed.timeline.map { $0.corrected == nil } == [true, true, false])
        #expect(mixed.runResult().timeline.points.map { $0.p99Millis == nil } == [true, true, false])
    }
}
