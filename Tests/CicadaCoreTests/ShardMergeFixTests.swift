import Foundation
import Testing
@testable import CicadaCore

/// Defects found in review of `cicada merge`: thresholds given to one shard only, the run's
/// end with a warm-up, hand-edited times, a split only some parts carry, empty step windows
/// and the folded last step window.
@Suite struct ShardMergeFixTests {
    static let identity = ShardArtifact.RunIdentity(scenario: "s", scenarioHash: "h", seed: 1, scheduleHash: "x")

    static func splitArtifact(_ index: Int) -> ShardArtifact {
        ShardArtifact(result: SplitStepTests.runResult(SplitStepTests.outcomes(), startedAtUnix: 1_800_000_000), shard: ShardSpec(index: index, count: 2)!,
                      identity: identity, thresholds: [], timeline: [], startAtUnix: nil, writtenAtUnix: 1_800_000_100)
    }

    @Test func aThresholdGivenToOneShardIsJudgedWhateverTheOrder() throws {
        let a = ShardArtifactTests.artifact(shard: 0, seed: 3)
        var b = ShardArtifactTests.artifact(shard: 1, seed: 3)
        b.thresholds.append(ThresholdSpec("p(50)<1ms"))
        let ab = try a.merged(with: b), ba = try b.merged(with: a)
        #expect(ab.thresholds.map(\.expression) == ["p(99)<300ms", "error_rate<5%", "p(50)<1ms"])
        #expect(Set(ba.thresholds.map(\.expression)) == Set(ab.thresholds.map(\.expression)) && ba.thresholds.count == 3)
        let judged = ab.runResult().thresholds.first { $0.threshold.spec.expression == "p(50)<1ms" }
        #expect(judged?.passed == false)
        #expect(ab.runResult().passed == false && ba.runResult().passed == false)
    }

    @Test func aWarmUpDoesNotShortenTheLastWindow() throws {
        var a = TaskAndMergedIntervalsTests.artifact(TaskAndMergedIntervalsTests.stream(seconds: 10, seed: 5), index: 0, count: 1, seconds: 10)
        #expect(a.timeline.last?.requests ?? 0 > 0)
        // A 4 s warm-up: 6 s measured, while the records are dated from the run's real start.
        a.shards[0].measuredSeconds = 6
        let w = try #require(a.runResult().secondWindows)
        let last = w.windows.count - 1
        #expect(last >= 6)
        #expect(w.seconds(of: last) == 1)
    }

    @Test func outOfRangeTimesAreRefusedNamingTheKey() throws {
        let good = ShardArtifactTests.artifact(shard: 0, seed: 4)
        var cases: [(ShardArtifact, String)] = []
        var a = good; a.shards[0].startedAtUnix = 1_800_000_000_000; cases.append((a, "shards[0].started_at_unix"))
        a = good; a.shards[0].measuredSeconds = -1; cases.append((a, "shards[0].measured_seconds"))
        a = good; a.errors = [.init(method: "GET", name: "a", message: "m", occurrences: 1, firstSeenUnix: 1e30, lastSeenUnix: 1e30)]
        cases.append((a, "errors[0].first_seen_unix"))
        a = good; a.timeline[0].second = Int64.max - 1; cases.append((a, "timeline[0].second"))
        a = good; a.events[0].unix = -5; cases.append((a, "events[0].unix"))
        var s = Self.splitArtifact(0); s.split?.windows[1].startUnix = 1_800_000_000_000; cases.append((s, "split.windows[1].start_unix"))
        for (artifact, key) in cases {
            do {
                _ = try ShardArtifact.read(Data(artifact.json().utf8))
                Issue.record("\(key): read without error")
            } catch {
                #expect(error.message.contains("at \(key):") && error.message.contains("not a"), "\(error.message)")
            }
        }
    }

    @Test func wildTimesInMemoryDoNotTrap() throws {
        var a = ShardArtifactTests.artifact(shard: 0, seed: 4)
        a.errors = [.init(method: "GET", name: "a", message: "m", occurrences: 1, firstSeenUnix: .nan, lastSeenUnix: 1e300)]
        var s = Self.splitArtifact(0)
        s.split?.windows[1].startUnix = .infinity
        s.split?.windows[2].startUnix = 1e25
        _ = a.runResult()
        let r = s.runResult()
        #expect(r.split?.windows.count == 3)
        #expect(ShardArtifact.notionalNanos(.nan, start: 0, base: 7) == 7)
        #expect(ShardArtifact.notionalNanos(1e300, start: 0, base: 7) == UInt64.max)
        #expect(ShardArtifact.notionalNanos(2, start: 1, base: 7) == 1_000_000_007)
        let w = SecondWindows(records: [.init(second: 5, requests: 1, failures: 0, users: 0)], startUnix: .nan, endUnix: 6)
        #expect(w.windows.count == 1)
    }

    @Test func aSplitOnlySomePartsCarryIsRefused() throws {
        let a = Self.splitArtifact(0)
        var b = Self.splitArtifact(1)
        b.split = nil
        #expect(throws: ShardArtifact.MergeProblem.self) { try a.merged(with: b) }
        #expect(throws: ShardArtifact.MergeProblem.self) { try b.merged(with: a) }
        #expect(a.mergeProblem(with: b)?.contains("canary verdict") == true)
        var c = Self.splitArtifact(1)
        c.split?.members[1].name = "other"
        #expect(a.mergeProblem(with: c)?.contains("split members") == true)
    }

    @Test func aShardWithNoWindowIsNeutral() throws {
        let a = Self.splitArtifact(0)
        var b = Self.splitArtifact(1)
        b.split?.windows = []
        for m in [try a.merged(with: b), try b.merged(with: a)] {
            #expect(m.split?.windows.count == 3)
            #expect(m.split?.windows.map { $0.stats.map(\.requests) } == a.split?.windows.map { $0.stats.map(\.requests) })
            #expect(m.runResult().split?.windows.count == 3)
        }
    }

    @Test func theFoldedLastWindowKeepsItsLabel() throws {
        var a = Self.splitArtifact(0), b = Self.splitArtifact(1)
        a.split?.windows[2].merged = true
        b.split?.windows[2].merged = true
        let back = try ShardArtifact.read(Data(a.json().utf8))
        #expect(back.split?.windows.map(\.merged) == [false, false, true])
        let m = try back.merged(with: b)
        #expect(m.runResult().split?.windows.map(\.merged) == [false, false, true])
        // Unfolded windows stay unlabelled.
        #expect(try Self.splitArtifact(0).merged(with: Self.splitArtifact(1)).runResult().split?.windows.map(\.merged) == [false, false, false])
    }
}
