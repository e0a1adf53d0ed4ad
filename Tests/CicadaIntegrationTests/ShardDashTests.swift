import CicadaTestTarget
import Foundation
import Testing

/// `cicada dash --shards`: two real shards serve `--status-port`; the merged line adds them up.
@Suite(.serialized) struct ShardDashTests {
    @Test func dashAddsTheShardsLiveFiguresAndEqualsTheirReportsAtTheEnd() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("s.yaml")
        try ShardFailureTests.scenario(runTime: "3s", rate: 60).write(to: file, atomically: true, encoding: .utf8)
        let target = TestTarget(config: .init(serviceTime: .milliseconds(2), recordRequests: 100_000))
        let port = try target.start()
        defer { target.stop() }
        let start = Date().addingTimeInterval(2)
        let shards = try (0..<2).map { i in
            try RunningCicada(["run", file.path, "--target", "http://127.0.0.1:\(port)", "--workers", "1", "--quiet", "--shard", "\(i)/2",
                               "--start-at", ShardFailureTests.rfc3339(start), "--status-port", "0", "--status-linger", "30s",
                               "--json", dir.appendingPathComponent("r\(i).json").path])
        }
        defer { for s in shards where s.process.isRunning { s.signal(SIGTERM); _ = s.wait(limit: 30) } }
        let urls = try shards.map { try $0.statusURL() }
        // Mid-run (the status server has figures from the first whole second of load on): both
        // answer, and the second line has a rate.
        let midRun = start.addingTimeInterval(1.5)
        if midRun > Date() { usleep(UInt32(midRun.timeIntervalSinceNow * 1_000_000)) }
        let live = try cicada(["dash", "--shards"] + urls + ["--count", "2", "--interval", "500ms"], limit: 30)
        #expect(live.status == 0, "\(live.stderr)")
        let lines = live.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("shards 2/2") }, "\(live.stdout)")
        #expect(lines.last?.contains(/requests \d+ \(\d+\.\d\/s\)/) == true, "\(live.stdout)")

        // After the load (the reports are written, the servers linger with the final figures):
        // the merged count is the two reports' sum; a file of URLs works the same.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !(0..<2).allSatisfy({ FileManager.default.fileExists(atPath: dir.appendingPathComponent("r\($0).json").path) }) {
            usleep(100_000)
        }
        var total = 0
        for i in 0..<2 {
            let r = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r\(i).json"))) as? [String: Any])
            total += try #require((r["totals"] as? [String: Any])?["requests"] as? Int)
        }
        #expect(total == 180)
        let list = dir.appendingPathComponent("shards.txt")
        try "# the two shards\n\(urls[0])\n\n\(urls[1])/metrics\n".write(to: list, atomically: true, encoding: .utf8)
        let end = try cicada(["dash", "--shards-file", list.path, "--count", "1"], limit: 30)
        #expect(end.status == 0, "\(end.stderr)")
        #expect(end.stdout.hasPrefix("shards 2/2") && end.stdout.contains("| requests \(total) "), "\(end.stdout)")

        // Without --count it runs until the shards that answered have all gone for three polls.
        let watching = try RunningCicada(["dash", "--shards"] + urls + ["--interval", "200ms"])
        usleep(1_000_000)
        for sh in shards { sh.signal(SIGTERM); _ = sh.wait(limit: 30) }
        let watched = watching.wait(limit: 30)
        #expect(watched.status == 0, "\(watched.stderr)")
        let seen = watched.stdout.split(separator: "\n")
        #expect(seen.first?.hasPrefix("shards 2/2") == true && seen.suffix(3).allSatisfy { $0.hasPrefix("shards 0/2") }, "\(watched.stdout)")

        // A bad entry names the file and line; no shard answering is exit 1.
        try "http://127.0.0.1:1\nnot a url\n".write(to: list, atomically: true, encoding: .utf8)
        let bad = try cicada(["dash", "--shards-file", list.path, "--count", "1"])
        #expect(bad.status == 2 && bad.stderr.contains("\(list.path):2"), "\(bad.stderr)")
        let nobody = try cicada(["dash", "--shards", "http://127.0.0.1:1", "--count", "1"])
        #expect(nobody.status == 1 && nobody.stdout.hasPrefix("shards 0/1"), "\(nobody.stdout) \(nobody.stderr)")
    }
}

extension RunningCicada {
    /// The base URL of this shard's status server (`--status-port 0`), read from the line it
    /// prints once it listens.
    func statusURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(waitForStderr(containing: "/metrics (Prometheus)", limit: 30), sourceLocation: sourceLocation)
        let m = try #require(stderrText.firstMatch(of: /live figures at (http:\/\/127\.0\.0\.1:\d+)\/metrics/), sourceLocation: sourceLocation)
        return String(m.1)
    }
}
