import CicadaTestTarget
import Foundation
import Testing

/// `cicada run --shard I/N --out DIR` processes against a counting target on 127.0.0.1, then
/// `cicada merge`: the shards together send what one process sends, and merge judges the whole.
@Suite(.serialized) struct ShardMergeTests {
    static let scenario = """
    name: sharded
    target: http://127.0.0.1:1
    seed: 99
    arrival: {rate: 100, process: poisson}
    run_time: 2s
    tasks:
      - {name: a, path: /health, weight: 3}
      - {name: b, path: /status/200}
    thresholds: ["p(99)<2s", "error_rate<1%"]

    """

    func json(_ path: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }
    func requests(_ report: [String: Any]) -> Int { ((report["totals"] as? [String: Any])?["requests"] as? Int) ?? -1 }
    /// The load requests the target received (not the telemetry poller's /metrics scrapes).
    func load(_ target: TestTarget) -> Int { target.recordedRequests.filter { $0.hasPrefix("GET /health") || $0.hasPrefix("GET /status/200") }.count }

    @Test func fourShardProcessesSendWhatOneSendsAndMergeJudgesTheWhole() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("s.yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        let target = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 100_000))
        let port = try target.start()
        defer { target.stop() }
        let url = "http://127.0.0.1:\(port)"

        let single = try cicada(["run", file.path, "--target", url, "--workers", "1", "--quiet", "--json", dir.appendingPathComponent("single.json").path,
                                 "--out", dir.appendingPathComponent("one").path])
        #expect(single.status == 0, "\(single.stderr)")
        let singleCount = load(target)
        #expect(singleCount > 120 && singleCount < 300)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("one/shard-0-of-1.json").path))

        let start = Date().addingTimeInterval(2)
        let f = ISO8601DateFormatter(); f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let shardsDir = dir.appendingPathComponent("shards")
        let procs = try (0..<4).map { i in
            try RunningCicada(["run", file.path, "--target", url, "--workers", "1", "--quiet", "--shard", "\(i)/4",
                               "--start-at", f.string(from: start), "--out", shardsDir.path])
        }
        for p in procs {
            let r = p.wait(limit: 60)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(procs.allSatisfy { $0.stderrText.contains("waiting to start at") })
        // The same seeded schedule, split four ways: exactly as many requests as the single run.
        #expect(load(target) - singleCount == singleCount)

        let merged = try cicada(["merge", shardsDir.path, "--json", dir.appendingPathComponent("merged.json").path,
                                 "--junit", dir.appendingPathComponent("junit.xml").path])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("MERGED 4 of 4 shards"))
        #expect(merged.stdout.contains("THRESHOLDS"))
        let m = try json(dir.appendingPathComponent("merged.json"))
        #expect(requests(m) == singleCount)
        #expect(requests(try json(dir.appendingPathComponent("single.json"))) == singleCount)
        // Intervals from the merged per-second windows: corrected latency, req/s and error rate,
        // each holding the merged figure; no raw interval (an artifact keeps none per second).
        let conf = try #require(m["confidence"] as? [String: Any], "merged report has no confidence")
        let figures = try #require(conf["figures"] as? [String: [String: Double]])
        for name in ["p(99)", "qps", "error_rate"] {
            let f = try #require(figures[name], "\(name)")
            #expect(f["lower"]! <= f["point"]! && f["point"]! <= f["upper"]!, "\(name): \(f)")
        }
        #expect(figures["raw.p(99)"] == nil)
        #expect(merged.stdout.contains("Confidence (95% intervals"))
        // The merged max is the largest shard max, to the microsecond (nothing rounded on the way).
        var shardMax = 0
        for i in 0..<4 {
            let a = try json(shardsDir.appendingPathComponent("shard-\(i)-of-4.json"))
            let tasks = try #require(a["tasks"] as? [[String: Any]])
            for t in tasks { shardMax = max(shardMax, ((t["corrected"] as? [String: Any])?["max_us"] as? Int) ?? 0) }
        }
        let corrected = try #require((m["latency_ms"] as? [String: Any])?["corrected"] as? [String: Any])
        #expect(abs((corrected["max"] as? Double ?? -1) - Double(shardMax) / 1000) < 0.0005)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("junit.xml").path))
        // Each shard second carries the histogram of what completed in it; the merged timeline
        // has per-second percentiles wherever requests completed.
        for i in 0..<4 {
            let a = try json(shardsDir.appendingPathComponent("shard-\(i)-of-4.json"))
            for sec in try #require(a["timeline"] as? [[String: Any]]) {
                #expect((sec["corrected"] as? [String: Any])?["count"] as? Int == sec["requests"] as? Int, "\(sec)")
            }
        }
        let points = try #require(m["timeline"] as? [[String: Any]])
        #expect(points.contains { ($0["qps"] as? Double ?? 0) > 0 })
        for p in points where (p["qps"] as? Double ?? 0) > 0 { #expect(p["p99_ms"] is Double && p["p50_ms"] is Double, "\(p)") }

        // A missing shard: partial; it fails unless --min-shards allows it.
        let three = try (0..<4).filter { $0 != 2 }.map { shardsDir.appendingPathComponent("shard-\($0)-of-4.json").path }
        let partial = try cicada(["merge"] + three)
        #expect(partial.status == 99)
        #expect(partial.stdout.contains("PARTIAL: missing shard 2"))
        let allowed = try cicada(["merge", "--min-shards", "3"] + three)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("warning only"))

        // Another run's artifact (another seed) and a damaged one are refused, naming the file.
        let shard1 = try String(contentsOf: shardsDir.appendingPathComponent("shard-1-of-4.json"), encoding: .utf8)
        let otherSeed = dir.appendingPathComponent("other-seed.json")
        try shard1.replacingOccurrences(of: "\"seed\" : 99", with: "\"seed\" : 98").write(to: otherSeed, atomically: true, encoding: .utf8)
        let refused = try cicada(["merge", three[0], otherSeed.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains(otherSeed.path) && refused.stderr.contains("seed 98"), "\(refused.stderr)")
        let truncated = dir.appendingPathComponent("truncated.json")
        try String(shard1.prefix(shard1.count / 3)).write(to: truncated, atomically: true, encoding: .utf8)
        let damaged = try cicada(["merge", three[0], truncated.path])
        #expect(damaged.status == 2)
        #expect(damaged.stderr.contains(truncated.path), "\(damaged.stderr)")
    }

    @Test func aShardThatIsNotOneIsAUsageError() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("s.yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        let r = try cicada(["run", file.path, "--target", "http://127.0.0.1:1", "--shard", "4/4"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--shard '4/4'"))
        let at = try cicada(["run", file.path, "--target", "http://127.0.0.1:1", "--start-at", "tomorrow"])
        #expect(at.status == 2)
        #expect(at.stderr.contains("--start-at 'tomorrow'"))
        let p = try RunningCicada(["run", file.path, "--target", "http://127.0.0.1:1", "--quiet"], environment: ["SLURM_PROCID": "1"])
        let env = p.wait(limit: 30)
        #expect(env.status == 2)
        #expect(env.stderr.contains("SLURM_NTASKS"))
    }
}
