import Foundation
import Testing
@testable import CicadaCore

@Suite struct ShardArtifactTests {
    static let identity = ShardArtifact.RunIdentity(scenario: "s", scenarioHash: "abc123", seed: 42, scheduleHash: "f00d")

    /// A shard's artifact with figures drawn from `seed`.
    static func artifact(shard: Int, of count: Int = 5, seed: UInt64, identity: ShardArtifact.RunIdentity = identity) -> ShardArtifact {
        var rng = SeededRandom(seed: seed, stream: UInt64(shard))
        var perStat = [RequestStats(), RequestStats()]
        for _ in 0..<(50 + Int(rng.next() % 200)) {
            let i = Int(rng.next() % 2)
            let start = rng.next() % 1_000_000_000
            var o = RequestOutcome(statIndex: i, intendedNanos: start, sentNanos: start + rng.next() % 1_000_000,
                                   endNanos: start + 1_000_000 + rng.next() % 900_000_000, ttfbMicros: rng.next() % 50_000,
                                   status: rng.next() % 10 == 0 ? 503 : 200, failure: nil, error: nil, bytesIn: rng.next() % 999, bytesOut: 10)
            if o.status == 503 { o.failure = .http5xx }
            if i == 1 {
                o.stream = StreamOutcome(ttftMicros: rng.next() % 90_000, firstContentMicros: nil, tpotMicros: rng.next() % 9000,
                                         e2elMicros: rng.next() % 900_000, itlMicros: [rng.next() % 5000, rng.next() % 5000],
                                         outputTokens: 3, inputTokens: 7, outputTokensFromUsage: true)
                o.good = rng.next() % 2 == 0
            }
            perStat[i].record(o)
        }
        var lag = LatencyHistogram()
        for _ in 0..<20 { lag.record(micros: rng.next() % 3000) }
        let start = 1_800_000_000 + Double(rng.next() % 1000) / 1000
        let errors = (0..<Int(rng.next() % 3)).map { k in
            ShardArtifact.ErrorRecord(method: "GET", name: "a", message: "HTTP 50\(k)", occurrences: 1 + rng.next() % 9,
                                      firstSeenUnix: start + Double(rng.next() % 5), lastSeenUnix: start + 5 + Double(rng.next() % 5))
        }
        let timeline = (0..<10).map { s in
            ShardArtifact.SecondRecord(second: 1_800_000_000 + Int64(s), requests: rng.next() % 100, failures: rng.next() % 3, users: Int(rng.next() % 10))
        }
        let record = ShardArtifact.ShardRecord(index: shard, startedAtUnix: start, monotonicStartNanos: rng.next() % 1_000_000_000_000,
                                               startAtUnix: nil, measuredSeconds: 10 + Double(rng.next() % 1000) / 1000, stopReason: "completed",
                                               abortThreshold: nil, writtenAtUnix: start + 11, workers: 2, cpuSeconds: 1.5)
        return ShardArtifact(identity: identity, shardCount: count, shards: [record], target: "http://127.0.0.1:1", modelDescription: "open",
                             thresholds: [ThresholdSpec("p(99)<300ms"), ThresholdSpec("error_rate<5%")], goodputConfigured: true,
                             names: ["a", "b"], methods: ["GET", "POST"], perStat: perStat, scheduleLag: lag, dropped: rng.next() % 3,
                             cutOff: rng.next() % 2, errors: errors, timeline: timeline,
                             events: [ShardArtifact.EventRecord(unix: start + 1, shard: shard, kind: "key", detail: "+")])
    }

    @Test(arguments: [1, 2, 3])
    func theJSONFileReadsBackToTheSameArtifact(_ seed: UInt64) throws {
        let a = Self.artifact(shard: 2, seed: seed)
        let text = a.json()
        let back = try ShardArtifact.read(Data(text.utf8))
        #expect(back == a)
        #expect(back.json() == text)
        for i in a.perStat.indices {
            #expect(back.perStat[i].corrected.sumMicros == a.perStat[i].corrected.sumMicros)
            #expect(back.perStat[i].corrected.percentile(99) == a.perStat[i].corrected.percentile(99))
        }
        #expect(back.perStat[1].llm != nil && back.perStat[1].llm == a.perStat[1].llm)
        #expect(text.contains("\"schema\" : \"cicada.shard/v1\""))
    }

    @Test(arguments: [10, 20, 30, 40, 50])
    func mergeIsAssociativeAndCommutative(_ seed: UInt64) throws {
        let parts = (0..<5).map { Self.artifact(shard: $0, seed: seed) }
        let all = try #require(try ShardArtifact.merged(parts))
        var rng = SeededRandom(seed: seed)
        for _ in 0..<6 {
            let shuffled = parts.shuffled(using: &rng)
            #expect(try ShardArtifact.merged(shuffled) == all)
        }
        let (a, b, c) = (parts[0], try parts[1].merged(with: parts[2]), try parts[3].merged(with: parts[4]))
        #expect(try a.merged(with: b).merged(with: c) == all)
        #expect(try a.merged(with: b.merged(with: c)) == all)
        #expect(try c.merged(with: a).merged(with: b) == all)
        // A merged artifact written and read back merges like any other.
        let ab = try ShardArtifact.read(Data(a.merged(with: b).json().utf8))
        #expect(try ab.merged(with: c) == all)
        // And the sums are the shards' sums.
        #expect(all.perStat[0].requests == parts.reduce(0) { $0 + $1.perStat[0].requests })
        var h = LatencyHistogram()
        for p in parts { h.merge(p.perStat[1].corrected) }
        #expect(all.perStat[1].corrected == h)
        #expect(all.timeline.count == 10)
        #expect(all.timeline[3].requests == parts.reduce(0) { $0 + $1.timeline[3].requests })
        #expect(all.shardIndexes == [0, 1, 2, 3, 4] && all.missingShards.isEmpty)
    }

    @Test func anotherRunsArtifactIsRefused() throws {
        let a = Self.artifact(shard: 0, seed: 1)
        var other = Self.identity; other.seed = 43
        #expect(throws: ShardArtifact.MergeProblem.self) { try a.merged(with: Self.artifact(shard: 1, seed: 1, identity: other)) }
        do { _ = try a.merged(with: Self.artifact(shard: 1, seed: 1, identity: other)) } catch { #expect(error.message.contains("seed 43")) }
        other = Self.identity; other.scenarioHash = "zzz"
        #expect(a.mergeProblem(with: Self.artifact(shard: 1, seed: 1, identity: other))?.contains("another scenario") == true)
        other = Self.identity; other.scheduleHash = "beef"
        #expect(a.mergeProblem(with: Self.artifact(shard: 1, seed: 1, identity: other))?.contains("schedule") == true)
        #expect(a.mergeProblem(with: Self.artifact(shard: 1, of: 4, seed: 1))?.contains("shard of 4") == true)
        #expect(a.mergeProblem(with: Self.artifact(shard: 0, seed: 2))?.contains("already") == true)
    }

    @Test func missingShardsAreNamed() throws {
        let m = try #require(try ShardArtifact.merged([Self.artifact(shard: 4, seed: 1), Self.artifact(shard: 1, seed: 1)]))
        #expect(m.missingShards == [0, 2, 3])
        #expect(m.shardIndexes == [1, 4])
    }

    @Test func theMergedRunIsJudgedOnTheMergedFigures() throws {
        let parts = (0..<5).map { Self.artifact(shard: $0, seed: 7) }
        let m = try #require(try ShardArtifact.merged(parts))
        let r = m.runResult()
        let start = parts.map { $0.shards[0].startedAtUnix }.min()!
        let end = parts.map { $0.shards[0].startedAtUnix + $0.shards[0].measuredSeconds }.max()!
        #expect(abs(r.snapshot.measuredSeconds - (end - start)) < 1e-9)
        #expect(r.startedAtUnix == start)
        let requests = parts.reduce(0) { $0 + $1.perStat[0].requests + $1.perStat[1].requests }
        #expect(r.snapshot.total.requests == requests)
        #expect(abs(r.snapshot.qps! - Double(requests) / (end - start)) < 1e-9)
        var total = RequestStats()
        for p in parts { for s in p.perStat { total.merge(s) } }
        #expect(r.snapshot.total.corrected == total.corrected)
        // Thresholds are judged again: error_rate from the merged counts, p99 from the merged histogram.
        let errorRate = r.thresholds.first { $0.threshold.spec.expression == "error_rate<5%" }!
        #expect(errorRate.measured == total.errorRate)
        let p99 = r.thresholds.first { $0.threshold.spec.expression == "p(99)<300ms" }!
        #expect(p99.measured == total.corrected.percentile(99).map { Double($0) / 1000 })
        #expect(p99.passed == (Double(total.corrected.percentile(99)!) / 1000 < 300))
        #expect(r.snapshot.total.llm?.goodRequests == total.llm?.goodRequests)
        #expect(r.goodputConfigured)
        #expect(r.events.count == 5 && r.events.allSatisfy { $0.detail.hasPrefix("shard ") })
        #expect(r.timeline.points.count == 10)
        #expect(r.timeline.points.allSatisfy { $0.p99Millis == nil })
    }

    @Test func damagedFilesAreClearErrors() throws {
        let text = Self.artifact(shard: 0, seed: 3).json()
        func fails(_ s: String, _ words: String) {
            do { _ = try ShardArtifact.read(Data(s.utf8)); Issue.record("read a damaged file (\(words))") } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        fails(String(text.prefix(text.count / 2)), "not valid JSON")
        fails(text.replacingOccurrences(of: "cicada.shard/v1", with: "cicada.shard/v9"), "schema")
        fails(text.replacingOccurrences(of: "\"shard_count\"", with: "\"shard_cnt\""), "shard_count")
        let hdr = try #require(text.range(of: "\"hdr\" : \"HISTFAAA"))
        var bad = text; bad.replaceSubrange(hdr, with: "\"hdr\" : \"HISTFA!!")
        fails(bad, "hdr")
        let cookie = text.replacingCharacters(in: hdr, with: "\"hdr\" : \"AAAAAAAA")
        fails(cookie, "cookie")
        let count = try #require(text.range(of: "\"count\" : "))
        fails(text.replacingCharacters(in: count, with: "\"count\" : 9"), "count")
    }

    /// FuzzArtifact's finding: counts no run reaches (here past 2^63, so two of them overflow
    /// UInt64) made `cicada merge` trap adding them. Every count is now refused past 2^52 when
    /// read, naming its key, and artifacts at the limit merge without overflow.
    @Test func countsNoRunReachesAreRefusedNamingTheKeySoAMergeCannotOverflow() throws {
        var a = Self.artifact(shard: 0, seed: 5)
        a.errors = [ShardArtifact.ErrorRecord(method: "GET", name: "a", message: "HTTP 503", occurrences: 2,
                                              firstSeenUnix: 1_800_000_001, lastSeenUnix: 1_800_000_002)]
        let text = a.json()
        func replacing(_ key: String, in t: String, with value: String) throws -> String {
            let r = try #require(t.range(of: "\"\(key)\" : [0-9]+", options: .regularExpression), "\(key) in the artifact")
            return t.replacingCharacters(in: r, with: "\"\(key)\" : \(value)")
        }
        // (key as written, where its first occurrence is, as the message names it)
        let cases = [("requests", "tasks[0].requests"), ("dropped", "dropped"), ("cut_off", "cut_off"),
                     ("occurrences", "errors[0].occurrences"), ("bytes_in", "tasks[0].bytes_in"), ("bytes_out", "tasks[0].bytes_out"),
                     ("http_5xx", "tasks[0].failures_by_kind.http_5xx"), ("200", "tasks[0].status_codes.200"),
                     ("count", "schedule_lag.count"), ("users", "timeline[0].users"), ("workers", "shards[0].workers")]
        for (key, at) in cases {
            // `users` and `workers` are Ints in the file: Int.max, past the limit but still a number it reads.
            let huge = try replacing(key, in: text, with: key == "users" || key == "workers" ? "9223372036854775807" : "18446744073709551615")
            do { _ = try ShardArtifact.read(Data(huge.utf8)); Issue.record("read \(key) past the limit") } catch {
                #expect(error.message.contains("at \(at):") && error.message.contains("out of range"), "\(key): \(error.message)")
            }
        }
        // Per shard: threads, CPU seconds; one record per timeline second.
        for (key, value, words) in [("workers", "65537", "shards[0].workers"), ("cpu_seconds", "1e300", "shards[0].cpu_seconds")] {
            let r = try #require(text.range(of: "\"\(key)\" : [0-9.e+]+", options: .regularExpression), "\(key) in the artifact")
            let bad = text.replacingCharacters(in: r, with: "\"\(key)\" : \(value)")
            do { _ = try ShardArtifact.read(Data(bad.utf8)); Issue.record("read \(key) = \(value)") } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        var twice = a
        twice.timeline[1].second = twice.timeline[0].second
        do { _ = try ShardArtifact.read(Data(twice.json().utf8)); Issue.record("read a timeline second written twice") } catch {
            #expect(error.message.contains("appears twice"), "\(error.message)")
        }
        // At the limit itself: the reader takes it (the merge's own safety is tested below).
        let limit = try replacing("requests", in: text, with: "\(ShardLiveState.countLimit)")
        let p0 = try ShardArtifact.read(Data(limit.utf8))
        let p1 = try ShardArtifact.read(Data(limit.replacingOccurrences(of: "\"index\" : 0", with: "\"index\" : 1").utf8))
        let both = try #require(try ShardArtifact.merged([p0, p1]))
        #expect(both.perStat.contains { $0.requests == 2 * ShardLiveState.countLimit })
        #expect(both.runResult().snapshot.total.requests >= 2 * ShardLiveState.countLimit)
        // A shard count no run has (cicada merge would list billions of missing shards).
        let wide = try replacing("shard_count", in: text, with: "\(ShardArtifact.maxShardCount + 1)")
        do { _ = try ShardArtifact.read(Data(wide.utf8)); Issue.record("read a shard count past the limit") } catch {
            #expect(error.message.contains("shard_count"), "\(error.message)")
        }
    }

    /// Merges add with saturating sums: whatever gets past the readers cannot trap them.
    @Test func artifactMergesSaturateInsteadOfTrapping() throws {
        var p0 = Self.artifact(shard: 0, seed: 8), p1 = Self.artifact(shard: 1, seed: 8)
        p0.dropped = .max - 1; p1.dropped = 9
        p0.cutOff = .max; p1.cutOff = 1
        let e = ShardArtifact.ErrorRecord(method: "GET", name: "a", message: "HTTP 503", occurrences: .max, firstSeenUnix: 1_800_000_001, lastSeenUnix: 1_800_000_002)
        p0.errors = [e]; p1.errors = [e]
        p0.timeline[0].requests = .max; p1.timeline = [p0.timeline[0]]
        p0.timeline[0].users = .max
        p0.perStat[1].llm?.streams = .max
        let both = try #require(try ShardArtifact.merged([p0, p1]))
        #expect(both.dropped == .max && both.cutOff == .max)
        #expect(both.errors.first?.occurrences == .max)
        #expect(both.timeline.first { $0.second == p0.timeline[0].second }?.requests == .max)
        #expect(both.timeline.first { $0.second == p0.timeline[0].second }?.users == .max)
        #expect(both.perStat[1].llm?.streams == .max)
        _ = both.runResult()
        #expect(Format.number(1e20, digits: 3).contains("e+20"))
    }

    @Test func mergesSaturateInsteadOfTrapping() {
        var a = RequestStats(), b = RequestStats()
        a.requests = .max - 1; b.requests = 5
        a.statusCodes[200] = .max; b.statusCodes[200] = 1
        a.failuresByKind[.timeout] = .max; b.failuresByKind[.timeout] = 2
        a.merge(b)
        #expect(a.requests == .max && a.statusCodes[200] == .max && a.failuresByKind[.timeout] == .max)
        var l = LLMStats(), m = LLMStats()
        l.outputTokens = .max; m.outputTokens = 1
        l.merge(m)
        #expect(l.outputTokens == .max)
        #expect(Int.max.addingSaturating(1) == .max && Int.min.addingSaturating(-1) == .min && 2.addingSaturating(3) == 5)
    }

    @Test func skewBeyondTheBoundIsWarned() throws {
        func shard(_ i: Int, start: Double, at: Double?, written: Double) -> ShardArtifact {
            var a = Self.artifact(shard: i, seed: 1)
            a.shards[0].startedAtUnix = start; a.shards[0].startAtUnix = at; a.shards[0].writtenAtUnix = written
            return a
        }
        let t = 1_800_000_000.0
        let fine = try #require(try ShardArtifact.merged([shard(0, start: t + 0.001, at: t, written: t + 20), shard(1, start: t + 0.02, at: t, written: t + 20.3)]))
        #expect(fine.skewWarnings(bound: 0.05, fileTimes: [0: t + 20.01, 1: t + 20.2]).isEmpty)
        let late = try #require(try ShardArtifact.merged([shard(0, start: t + 0.001, at: t, written: t + 20), shard(1, start: t + 0.3, at: t, written: t + 20)]))
        #expect(late.skewWarnings(bound: 0.05).contains { $0.contains("differ by 299 ms") && $0.contains("shard 1") })
        // Shard 1's clock reads 5 s ahead: it wrote at "t+25" when the file system said t+20.
        let ahead = try #require(try ShardArtifact.merged([shard(0, start: t, at: nil, written: t + 20), shard(1, start: t + 5, at: nil, written: t + 25)]))
        #expect(ahead.skewWarnings(bound: 0.05, fileTimes: [0: t + 20.01, 1: t + 20.02]).contains { $0.contains("shard 1 reads") })
        let differentAt = try #require(try ShardArtifact.merged([shard(0, start: t, at: t, written: t), shard(1, start: t, at: t + 1, written: t)]))
        #expect(differentAt.skewWarnings(bound: 0.05).contains { $0.contains("different --start-at") })
    }

    @Test func theScheduleHashFollowsTheSeedAndTheLoad() {
        let load = LoadProfile.open(.constant(rate: 10, duration: .seconds(5), process: .gamma(burstiness: 1)))
        #expect(ShardArtifact.scheduleHash(load: load, seed: 1) == ShardArtifact.scheduleHash(load: load, seed: 1))
        #expect(ShardArtifact.scheduleHash(load: load, seed: 1) != ShardArtifact.scheduleHash(load: load, seed: 2))
        let other = LoadProfile.open(.constant(rate: 11, duration: .seconds(5), process: .gamma(burstiness: 1)))
        #expect(ShardArtifact.scheduleHash(load: load, seed: 1) != ShardArtifact.scheduleHash(load: other, seed: 1))
    }

    @Test func theTimelineRecorderFilesCountsUnderWallClockSeconds() {
        var rec = ShardTimelineRecorder()
        func snap(_ requests: UInt64, _ failures: UInt64) -> Snapshot {
            var total = RequestStats(); total.requests = requests; total.failures = failures
            return Snapshot(elapsed: .zero, names: [], methods: [], perStat: [], total: total, windows: [:], defaultWindowSeconds: 10,
                            errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(users: 3),
                            targetUsers: nil, targetRate: nil, measuredSeconds: 1)
        }
        rec.add(snap(10, 1), atUnix: 100.4)
        rec.add(snap(25, 1), atUnix: 101.4)
        rec.add(snap(30, 2), atUnix: 101.9)
        rec.add(snap(2, 0), atUnix: 102.5)      // after a statistics reset
        #expect(rec.records.map(\.second) == [100, 101, 102])
        #expect(rec.records.map(\.requests) == [10, 20, 2])
        #expect(rec.records.map(\.failures) == [1, 1, 0])
        #expect(rec.records.map(\.users) == [3, 3, 3])
    }
}

@Suite struct StartGateTests {
    /// A wall clock that moves only when the gate sleeps.
    final class FakeWall: @unchecked Sendable {
        var now: Double
        var slept: [Duration] = []
        init(_ now: Double) { self.now = now }
        func sleep(_ d: Duration) { slept.append(d); now += d.seconds }
    }

    @Test func waitsUntilTheMomentInSteps() {
        let wall = FakeWall(1000)
        let outcome = StartGate.wait(untilUnix: 1002.125, nowUnix: { wall.now }, sleep: wall.sleep)
        #expect(outcome == .started(lateSeconds: 0))
        #expect(abs(wall.now - 1002.125) < 1e-9)
        #expect(wall.slept.allSatisfy { $0 <= .milliseconds(50) })
        #expect(wall.slept.count == 43)    // 42 steps of 50 ms and one of 25 ms
    }

    @Test func aMomentAlreadyPassedStartsAtOnce() {
        let wall = FakeWall(1000)
        #expect(StartGate.wait(untilUnix: 997.5, nowUnix: { wall.now }, sleep: wall.sleep) == .alreadyPassed(seconds: 2.5))
        #expect(wall.slept.isEmpty)
    }

    @Test func aStopRequestEndsTheWait() {
        let wall = FakeWall(1000)
        #expect(StartGate.wait(untilUnix: 2000, nowUnix: { wall.now }, sleep: wall.sleep, shouldStop: { wall.now >= 1001 }) == .stopped)
        #expect(wall.now < 1001.1)
    }
}
