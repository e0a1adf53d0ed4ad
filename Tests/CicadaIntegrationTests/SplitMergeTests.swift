import CicadaTestTarget
import Foundation
import Testing

/// A `split:` run in two shard processes, then `cicada merge` (issue 16): the merged SPLIT
/// section, step window and verdict count every request each target received, once.
@Suite(.serialized) struct SplitMergeTests {
    @Test func twoSplitShardsMergeIntoOneSplitSection() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The canary answers every fourth request with a 503: its error rate fails the bound.
        let stable = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 100_000))
        let canary = TestTarget(config: .init(faults: try FaultPlan(parsing: "503:1,ok:3")))
        try stable.start(); try canary.start()
        defer { stable.stop(); canary.stop() }
        let file = dir.appendingPathComponent("s.yaml")
        try CanarySplitTests.yaml(stable: stable.baseURL, canary: canary.baseURL, verdict: "{error_rate: \"+1%\"}")
            .write(to: file, atomically: true, encoding: .utf8)
        let shards = dir.appendingPathComponent("shards")
        for i in 0..<2 {
            let r = try cicada(["run", file.path, "--workers", "1", "--quiet", "--shard", "\(i)/2", "--out", shards.path])
            #expect(r.status == 99, "each shard's own verdict fails: \(r.stderr)")
        }
        let merged = try cicada(["merge", shards.path, "--plain", "--json", dir.appendingPathComponent("m.json").path,
                                 "--junit", dir.appendingPathComponent("j.xml").path])
        #expect(merged.status == 99, "the merged verdict fails: \(merged.stderr)")
        #expect(merged.stdout.contains("SPLIT") && merged.stdout.contains("CANARY VERDICT: FAILED"), "\(merged.stdout)")
        let m = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("m.json"))) as? [String: Any])
        let split = try #require(m["split"] as? [String: Any])
        let members = try #require(split["members"] as? [[String: Any]])
        let counts = members.map { $0["requests"] as? Int ?? -1 }
        // What each target received: the stable's recorded GETs, the canary's count with faults on.
        let received = [stable.recordedRequests.filter { $0.hasPrefix("GET /health") }.count, canary.receivedCount]
        #expect(counts == received, "each target's count is what it received")
        #expect(members[1]["failures"] as? Int == canary.receivedByFault.filter { $0.key != .ok }.map(\.value).reduce(0, +))
        #expect(counts.reduce(0, +) == (m["totals"] as? [String: Any])?["requests"] as? Int)
        let windows = try #require(split["windows"] as? [[String: Any]])
        #expect(windows.count == 1)
        let w = try #require(windows.first?["members"] as? [[String: Any]])
        #expect(w.map { $0["requests"] as? Int ?? -1 } == counts)
        #expect(split["passed"] as? Bool == false)
        let xml = try String(contentsOf: dir.appendingPathComponent("j.xml"), encoding: .utf8)
        #expect(xml.contains("canary verdict, step 1 (stable 90 / canary 10)") && xml.contains("<failure"), "\(xml)")
    }
}
