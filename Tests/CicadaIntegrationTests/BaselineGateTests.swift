import Foundation
import Testing

/// The baseline gate end to end: `cicada diff` exit codes, and a scenario's `baseline:` making
/// `cicada run` fail when it regressed past its bounds.
@Suite(.serialized) struct BaselineGateTests {
    /// A first run's JSON report with every latency figure multiplied by `factor`.
    func scaled(_ json: URL, by factor: Double, to out: URL) throws {
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        func scale(_ lat: Any?) -> Any? {
            guard var l = lat as? [String: Any] else { return lat }
            for (k, v) in l { if var h = v as? [String: Any] { for (hk, hv) in h where hk != "count" { if let d = hv as? Double { h[hk] = d * factor } }; l[k] = h } }
            return l
        }
        obj["latency_ms"] = scale(obj["latency_ms"])
        obj["tasks"] = (obj["tasks"] as? [[String: Any]] ?? []).map { t in var t = t; t["latency_ms"] = scale(t["latency_ms"]); return t }
        try JSONSerialization.data(withJSONObject: obj).write(to: out)
    }

    func scenario(_ dir: URL, baseline: String?) throws -> URL {
        let file = dir.appendingPathComponent(baseline == nil ? "plain.yaml" : "gated.yaml")
        var text = "name: gate\ntarget: http://127.0.0.1:1\nusers: 2\nspawn_rate: 100\nrun_time: 1s\ntelemetry: {gpu: none}\ntasks: [{name: p, path: /health}]\n"
        if let baseline { text += "baseline: {file: \(baseline), max_regression: [\"p(99)=+50%\", \"error_rate=+1%\"]}\n" }
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func diffExitCodesAndAScenarioThatGatesItself() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first.json")
        let r0 = try cicada(["run", try scenario(dir, baseline: nil).path, "--local-target", "--json", first.path])
        #expect(r0.status == 0, "\(r0.stderr)")
        let fast = dir.appendingPathComponent("fast.json"), slow = dir.appendingPathComponent("slow.json")
        try scaled(first, by: 0.01, to: fast)      // a baseline 100x faster than this machine: the new run regressed
        try scaled(first, by: 100, to: slow)       // a baseline 100x slower: the new run improved

        let worse = try cicada(["diff", fast.path, first.path, "--max-regression", "p(99)=+50%", "--plain"])
        #expect(worse.status == 99, "\(worse.stdout)\(worse.stderr)")
        #expect(worse.stdout.contains("REGRESSED: Aggregated p(99)=+50%"))
        let better = try cicada(["diff", slow.path, first.path, "--max-regression", "p(99)=+50%"])
        #expect(better.status == 0, "\(better.stdout)\(better.stderr)")
        #expect(better.stdout.contains("No bound broken."))
        let truncated = dir.appendingPathComponent("truncated.json")
        try Data(try Data(contentsOf: first).prefix(50)).write(to: truncated)
        let bad = try cicada(["diff", truncated.path, first.path])
        #expect(bad.status == 2 && bad.stderr.contains("\(truncated.path): not a JSON document"), "\(bad.stderr)")
        let badBound = try cicada(["diff", first.path, first.path, "--max-regression", "p(99)"])
        #expect(badBound.status == 2 && badBound.stderr.contains("expected figure=+N%"))

        // baseline: in the scenario (its path relative to the scenario's folder).
        let gatedFail = try cicada(["run", try scenario(dir, baseline: "fast.json").path, "--local-target", "--plain"])
        #expect(gatedFail.status == 99, "\(gatedFail.stderr)")
        #expect(gatedFail.stdout.contains("BASELINE \(dir.path)/fast.json"))
        #expect(gatedFail.stdout.contains("FAIL p(99)=+50%"))
        let gatedPass = try cicada(["run", try scenario(dir, baseline: "slow.json").path, "--local-target"])
        #expect(gatedPass.status == 0, "\(gatedPass.stdout)\(gatedPass.stderr)")
        let missing = try cicada(["run", try scenario(dir, baseline: "nope.json").path, "--local-target"])
        #expect(missing.status == 2 && missing.stderr.contains("baseline.file: cannot read \(dir.path)/nope.json"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("cicada: running"), "refused before any load")
    }
}
