import CicadaTestTarget
import Foundation
import Testing

/// Debian's `faketime` command (package `faketime`): it preloads libfaketime with its shared
/// state set up. (Preloading libfaketime.so.1 by hand without `FAKETIME_SHARED` lost the Swift
/// binary's arguments here: cicada printed its usage.)
let faketimeCommand = "/usr/bin/faketime"

/// Runs `cicada ARGS` under `faketime -f OFFSET`, CLOCK_MONOTONIC left alone; stdout dropped,
/// stderr to a file. Returns the exit status and stderr, or nil when it did not stop in `limit` s.
func cicadaUnderFaketime(_ offset: String, _ args: [String], stderrFile: URL, limit: Double) throws -> (status: Int32, stderr: String)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: faketimeCommand)
    p.arguments = ["-f", offset, cicadaBinary] + args
    var env = ProcessInfo.processInfo.environment
    env["CI"] = "true"
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    p.environment = env
    FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: stderrFile)
    try p.run()
    let deadline = Date().addingTimeInterval(limit)
    while p.isRunning, Date() < deadline { usleep(20_000) }
    if p.isRunning { p.terminate(); p.waitUntilExit(); return nil }
    return (p.terminationStatus, (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "")
}

/// Shards that go wrong on the way: one killed mid-run (the merge is partial, the others'
/// artifacts whole), one whose wall clock is off (merge warns about skew, naming it).
/// Real processes against the counting target on 127.0.0.1.
@Suite(.serialized) struct ShardFailureTests {
    static func scenario(runTime: String, rate: Int) -> String {
        """
        name: sharded-failure
        target: http://127.0.0.1:1
        seed: 7
        arrival: {rate: \(rate), process: constant}
        run_time: \(runTime)
        tasks:
          - {name: a, path: /health}
        thresholds: ["error_rate<1%"]

        """
    }

    func json(_ path: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }
    func load(_ target: TestTarget) -> Int { target.recordedRequests.filter { $0.hasPrefix("GET /health") }.count }
    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter(); f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    @Test func aShardKilledMidRunLeavesAPartialMergeAndWholeArtifacts() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("s.yaml")
        // 8 s of load, the kill at 2 s: a test thread woken seconds late (seen when other suites
        // ran beside this one on 2 cores) still kills the shard mid-run.
        try Self.scenario(runTime: "8s", rate: 40).write(to: file, atomically: true, encoding: .utf8)
        let target = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 100_000))
        let port = try target.start()
        defer { target.stop() }
        let out = dir.appendingPathComponent("shards")
        let start = Date().addingTimeInterval(3)
        let procs = try (0..<4).map { i in
            try RunningCicada(["run", file.path, "--target", "http://127.0.0.1:\(port)", "--workers", "1", "--quiet", "--shard", "\(i)/4",
                               "--start-at", Self.rfc3339(start), "--out", out.path])
        }
        // Shard 2 is killed (SIGKILL: no handler, no report) two seconds into its eight.
        #expect(procs[2].waitForStderr(containing: "waiting to start at", limit: 30))
        let killAt = start.addingTimeInterval(2)
        if killAt > Date() { usleep(UInt32(killAt.timeIntervalSinceNow * 1_000_000)) }
        #expect(procs[2].process.isRunning, "shard 2 ended before the kill: the test thread woke \(-killAt.timeIntervalSinceNow) s late")
        procs[2].signal(SIGKILL)
        let killed = procs[2].wait(limit: 30)
        #expect(procs[2].process.terminationReason == .uncaughtSignal && killed.status == SIGKILL)
        for i in [0, 1, 3] {
            let r = procs[i].wait(limit: 60)
            #expect(r.status == 0, "shard \(i): \(r.stderr)")
        }
        // Nothing of shard 2 in the folder (not even a temporary file); the others are whole.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["shard-0-of-4.json", "shard-1-of-4.json", "shard-3-of-4.json"], "\(names)")
        var shardRequests = 0
        for i in [0, 1, 3] {
            let a = try json(out.appendingPathComponent("shard-\(i)-of-4.json"))
            let shard = try #require((a["shards"] as? [[String: Any]])?.first)
            #expect(shard["stop_reason"] as? String == "completed")
            #expect(shard["index"] as? Int == i)
            let tasks = try #require(a["tasks"] as? [[String: Any]])
            let n = tasks.reduce(0) { $0 + (($1["requests"] as? Int) ?? 0) }
            #expect(tasks.allSatisfy { (($0["corrected"] as? [String: Any])?["count"] as? Int) == ($0["requests"] as? Int) })
            // A constant 40/s for 8 s split four ways: 80 each.
            #expect(n == 80, "shard \(i) sent \(n)")
            shardRequests += n
        }
        // The killed shard did send part of its load before it died: the target saw more than
        // the three artifacts hold, and less than the whole.
        let received = load(target)
        #expect(received > shardRequests && received < shardRequests + 80, "target saw \(received), artifacts hold \(shardRequests)")

        // By default every shard must be there: partial, exit 99, the missing shard named.
        let mergedJSON = dir.appendingPathComponent("merged.json")
        let partial = try cicada(["merge", out.path, "--json", mergedJSON.path])
        #expect(partial.status == 99, "\(partial.stderr)")
        #expect(partial.stdout.contains("MERGED 3 of 4 shards (0, 1, 3)"))
        #expect(partial.stdout.contains("PARTIAL: missing shard 2 — fewer than --min-shards 4: FAILED"), "\(partial.stdout)")
        #expect(partial.stderr.contains("only 3 of 4 shards merged, --min-shards is 4"))
        let m = try json(mergedJSON)
        #expect(((m["totals"] as? [String: Any])?["requests"] as? Int) == shardRequests)
        let events = (m["events"] as? [[String: Any]]) ?? []
        #expect(events.contains { $0["kind"] as? String == "partial" && ($0["detail"] as? String)?.contains("missing shard 2 of 4") == true }, "\(events)")

        // --min-shards 3 allows it: the same partial result, a warning, exit 0.
        let allowed = try cicada(["merge", out.path, "--min-shards", "3"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("PARTIAL: missing shard 2 — at least --min-shards 3: warning only"), "\(allowed.stdout)")
        let short = try cicada(["merge", out.path, "--min-shards", "4"])
        #expect(short.status == 99)
    }

    /// One shard's CLOCK_REALTIME runs 3 s ahead under `faketime` (CLOCK_MONOTONIC left alone:
    /// `FAKETIME_DONT_FAKE_MONOTONIC=1`, else libfaketime hands the run a monotonic clock near
    /// the Unix epoch's seconds and the artifact's clock facts are meaningless). It waits for
    /// `--start-at` by its own clock, 3 s early by the kernel's; merge must say its clock is off.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: faketimeCommand) || ProcessInfo.processInfo.environment["CI"] != nil,
                   "needs Debian's faketime"))
    func aShardWithAFakedClockTriggersTheSkewWarning() throws {
        try #require(FileManager.default.isExecutableFile(atPath: faketimeCommand), "\(faketimeCommand) missing: apt-get install faketime (.ci/run does)")
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("s.yaml")
        try Self.scenario(runTime: "2s", rate: 40).write(to: file, atomically: true, encoding: .utf8)
        let target = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 100_000))
        let port = try target.start()
        defer { target.stop() }
        let out = dir.appendingPathComponent("shards")
        let start = Date().addingTimeInterval(6)
        let args = { (i: Int) in ["run", file.path, "--target", "http://127.0.0.1:\(port)", "--workers", "1", "--quiet", "--shard", "\(i)/2",
                                  "--start-at", Self.rfc3339(start), "--out", out.path] }
        let honest = try RunningCicada(args(0))
        let r1 = try #require(try cicadaUnderFaketime("+3s", args(1), stderrFile: dir.appendingPathComponent("faked.err"), limit: 60),
                              "the shard under faketime did not stop")
        let r0 = honest.wait(limit: 60)
        #expect(r0.status == 0, "\(r0.stderr)")
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stderr.contains("shard 1/2: waiting to start at"), "\(r1.stderr)")
        // Both ran their whole load (libfaketime did not break the run's timing).
        for i in 0..<2 {
            let a = try json(out.appendingPathComponent("shard-\(i)-of-2.json"))
            let tasks = try #require(a["tasks"] as? [[String: Any]])
            #expect(tasks.reduce(0) { $0 + (($1["requests"] as? Int) ?? 0) } == 40, "shard \(i)")
            let shard = try #require((a["shards"] as? [[String: Any]])?.first)
            #expect(abs(((shard["measured_seconds"] as? Double) ?? 0) - 2) < 1, "shard \(i): \(shard)")
        }
        #expect(load(target) == 80)

        let merged = try cicada(["merge", out.path])
        #expect(merged.status == 0, "\(merged.stderr)")
        let warning = try #require(merged.stderr.split(separator: "\n").first { $0.contains("shard clocks disagree") }, "\(merged.stderr)")
        #expect(warning.contains("shard 1 reads") && warning.contains("ahead of shard 0"), "\(warning)")
        let ms = try #require(warning.firstMatch(of: /disagree by about (\d+) ms/).flatMap { Int($0.1) })
        #expect(ms > 2000 && ms < 4500, "\(warning)")

        // The same two shards on honest clocks: no clock warning.
        let honestOut = dir.appendingPathComponent("honest")
        let again = Date().addingTimeInterval(4)
        let both = try (0..<2).map { i in
            try RunningCicada(["run", file.path, "--target", "http://127.0.0.1:\(port)", "--workers", "1", "--quiet", "--shard", "\(i)/2",
                               "--start-at", Self.rfc3339(again), "--out", honestOut.path])
        }
        for p in both { #expect(p.wait(limit: 60).status == 0) }
        let clean = try cicada(["merge", honestOut.path])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(!clean.stderr.contains("shard clocks disagree"), "\(clean.stderr)")
    }
}
