import CicadaCore
@testable import CicadaDashboard
import Testing

/// `cicada dash --shards` learns its thresholds as shards answer: the p99 line on the latency
/// chart follows them, and a threshold judged on part of the shards shows no verdict.
@Suite struct ShardDashThresholdLineTests {
    @Test func theP99LineFollowsTheThresholdsAsTheyArrive() throws {
        var c = ShardKeysTests.shards()
        #expect(c.viewModel(at: Controllers.at(0))?.p99ThresholdMillis == nil)
        c.update(p99ThresholdMillis: 120, lane: 0)
        #expect(c.viewModel(at: Controllers.at(0))?.p99ThresholdMillis == 120)
        c.update(p99ThresholdMillis: nil, lane: 0)
        #expect(c.viewModel(at: Controllers.at(0))?.p99ThresholdMillis == nil)
    }

    @Test func aPartialThresholdShowsNeitherPassNorFail() throws {
        var c = ShardKeysTests.shards()
        var partial = ThresholdResult(threshold: try Threshold(ThresholdSpec("p(99)<100ms over 30s")), passed: false, measured: nil)
        partial.noVerdict = "partial: 1 of 2 shards"
        c.update(snapshot: Fixture.open().snapshot, thresholds: [partial], lane: 0)
        let rows = try #require(c.frame(width: 160, height: 48, at: Controllers.at(0))).text.split(separator: "\n").map(String.init)
        let row = try #require(rows.first { $0.contains("p(99)<100ms over 30s") }, "\(rows)")
        #expect(row.contains("partial: 1 of 2 shards"), "\(row)")
        // The mark just before the expression: "?", not a pass or a fail.
        let at = try #require(row.range(of: "p(99)<100ms over 30s"))
        let mark = row[..<at.lowerBound].suffix(3)
        #expect(mark.contains("?") && !mark.contains("✗") && !mark.contains("✓"), "\(row)")
    }
}
