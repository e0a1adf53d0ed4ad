import Foundation
import Testing

/// `cicada run --repeat K` end to end on 127.0.0.1: K runs pooled, confidence intervals in the
/// summary and the JSON, and the gate comparing intervals.
@Suite(.serialized) struct RepeatRunTests {
    func scenario(_ dir: URL) throws -> URL {
        let file = dir.appendingPathComponent("repeat.yaml")
        try "name: repeat\ntarget: http://127.0.0.1:1\nusers: 2\nspawn_rate: 100\nrun_time: 2s\ntelemetry: {gpu: none}\ntasks: [{name: p, path: /health}]\n"
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A report with every latency figure, point and interval alike, multiplied by `factor`.
    func scaled(_ json: URL, by factor: Double, to out: URL) throws {
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        var lat = obj["latency_ms"] as! [String: Any]
        for (k, v) in lat { if var h = v as? [String: Any] { for (hk, hv) in h where hk != "count" { if let d = hv as? Double { h[hk] = d * factor } }; lat[k] = h } }
        obj["latency_ms"] = lat
        var conf = try #require(obj["confidence"] as? [String: Any])
        var figures = try #require(conf["figures"] as? [String: [String: Double]])
        for (name, f) in figures where name.contains("p(") || name.contains("mean") { figures[name] = f.mapValues { $0 * factor } }
        conf["figures"] = figures
        obj["confidence"] = conf
        try JSONSerialization.data(withJSONObject: obj).write(to: out)
    }

    @Test func repeatedRunsArePooledWithIntervalsAndGated() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try scenario(dir)
        let json = dir.appendingPathComponent("r.json")
        let r = try cicada(["run", file.path, "--local-target", "--repeat", "2", "--json", json.path, "--plain"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("repetition 2 of 2"))
        #expect(r.stdout.contains("Repetitions (2, seed 1 each"), "\(r.stdout)")
        #expect(r.stdout.contains("Confidence (95% intervals: two-stage bootstrap"), "\(r.stdout)")
        #expect(r.stdout.range(of: #"p99 [0-9.]+ ms \[[0-9.]+, [0-9.]+\]"#, options: .regularExpression) != nil)

        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let reps = try #require(doc["repetitions"] as? [[String: Any]])
        #expect(reps.count == 2)
        let pooled = (doc["totals"] as? [String: Any])?["requests"] as? Double
        let sum = reps.compactMap { $0["requests"] as? Double }.reduce(0, +)
        #expect(pooled == sum && sum > 0, "pooled requests are the repetitions' sum")
        let conf = try #require(doc["confidence"] as? [String: Any])
        #expect(conf["method"] as? String == "two-stage-bootstrap" && conf["repetitions"] as? Double == 2 && conf["resamples"] as? Double == 1000)
        let p99 = try #require((conf["figures"] as? [String: [String: Double]])?["p(99)"])
        #expect(p99["lower"]! <= p99["point"]! && p99["point"]! <= p99["upper"]!)

        // The same report against itself: intervals compared, nothing broken even at +0%.
        let same = try cicada(["diff", json.path, json.path, "--max-regression", "p(99)=+0%", "--plain"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("Compared by confidence intervals"))
        // A hundred times slower, intervals and all: a real regression still exits 99.
        let slow = dir.appendingPathComponent("slow.json")
        try scaled(json, by: 100, to: slow)
        let worse = try cicada(["diff", json.path, slow.path, "--max-regression", "p(99)=+50%", "--plain"])
        #expect(worse.status == 99, "\(worse.stdout)\(worse.stderr)")
        #expect(worse.stdout.contains("FAIL p(99)=+50% (intervals)"))

        // Each repetition has its own warm-up: a request-count warm-up counts from zero again.
        let warm = dir.appendingPathComponent("warm.json")
        let w = try cicada(["run", file.path, "--local-target", "--repeat", "2", "-t", "1s", "--warmup", "3r", "--json", warm.path])
        #expect(w.status == 0, "\(w.stderr)")
        let wdoc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: warm)) as? [String: Any])
        #expect((wdoc["measurement_window"] as? [String: Any])?["excluded_warmup"] as? Double == 6)

        let zero = try cicada(["run", file.path, "--local-target", "--repeat", "0"])
        #expect(zero.status == 2 && zero.stderr.contains("--repeat 0: give a count of 1 or more"), "\(zero.stderr)")
    }
}
