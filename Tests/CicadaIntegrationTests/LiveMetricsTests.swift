import CicadaCore
import CicadaReport
import CicadaTelemetry
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `--status-port`: the run's live figures in Prometheus text, equal to the JSON report at the end.
@Suite(.serialized) struct LiveMetricsTests {
    func scenario(in dir: URL) throws -> URL {
        let file = dir.appendingPathComponent("live.yaml")
        try "name: live\ntarget: http://127.0.0.1:1\nusers: 4\nspawn_rate: 100\nrun_time: 2s\ntelemetry: {gpu: none}\ntasks:\n  - {name: ok, path: /health}\n  - {name: missing, path: /nope}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func report(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The exposition parses with Cicada's own Prometheus parser; buckets are cumulative and end
    /// at the count; counters equal the JSON report's after the run.
    @Test func lingeringMetricsParseAndEqualTheReport() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json")
        let p = try RunningCicada(["run", try scenario(in: dir).path, "--local-target", "--status-port", "0", "--status-linger", "30s", "--json", json.path])
        #expect(p.waitForStderr(containing: "/metrics (Prometheus)", limit: 60))
        let port = try #require(p.stderrText.firstMatch(of: /live figures at http:\/\/127\.0\.0\.1:(\d+)\/metrics/).map { String($0.1) })
        // Mid-run /status answers.
        let status = try http("GET", "http://127.0.0.1:\(port)/status")
        #expect(status.status == 200 && status.body.contains("\"scenario\":\"live\""))
        // After the run (the JSON is written before the linger), the final figures.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: json.path), Date() < deadline { usleep(50_000) }
        let text = try http("GET", "http://127.0.0.1:\(port)/metrics").body
        p.signal(SIGINT)
        let done = p.wait(limit: 60)
        #expect(done.status == 0, "a signal during the linger does not make a completed run interrupted: \(done.stderr)")

        let exposition = try PrometheusText.parse(text)
        let r = try report(json)
        let totals = try #require(r["totals"] as? [String: Any])
        let requests = try #require(exposition["cicada_requests_total"]).plainSamples
        #expect(Int(requests.reduce(0) { $0 + $1.value }) == totals["requests"] as? Int)
        let failures = try #require(exposition["cicada_failures_total"]).plainSamples
        #expect(Int(failures.filter { $0.label("kind") == "http_4xx" }.reduce(0) { $0 + $1.value }) == totals["failures"] as? Int)
        #expect((totals["failures"] as? Int ?? 0) > 0, "the /nope task fails with 404")
        let histograms = try #require(exposition["cicada_request_duration_seconds"]).histograms
        #expect(histograms.count == 4, "two tasks x corrected and raw")
        for h in histograms {
            let counts = h.buckets.map(\.cumulativeCount)
            #expect(counts == counts.sorted(), "cumulative")
            #expect(h.buckets.last?.upperBound == .infinity && h.buckets.last?.cumulativeCount == h.count)
        }
        let tasks = try #require(r["tasks"] as? [[String: Any]])
        for t in tasks {
            let name = t["name"] as? String
            let count = histograms.first { $0.labels.contains(PrometheusLabel(name: "task", value: name ?? "")) && $0.labels.contains(PrometheusLabel(name: "timing", value: "corrected")) }?.count
            #expect(count.map(Int.init) == t["requests"] as? Int)
        }
    }

    @Test func aBadPortIsAUsageError() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try cicada(["run", try scenario(in: dir).path, "--local-target", "--status-port", "70000"])
        #expect(bad.status == 2 && bad.stderr.contains("--status-port 70000 is not a port"))
    }

    /// A real Prometheus (Debian's `prometheus`, installed by .ci/run) scrapes the run and its
    /// stored counter equals the JSON report's.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "needs /usr/bin/prometheus"))
    func aRealPrometheusScrapesTheRun() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runPort = try freePort(), promPort = try freePort()
        try """
        global: {scrape_interval: 1s, scrape_timeout: 900ms}
        scrape_configs:
          - job_name: cicada
            static_configs: [{targets: ['127.0.0.1:\(runPort)']}]
        """.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        guard let prom = spawnProcess(["/usr/bin/prometheus", "--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/tsdb",
                                       "--web.listen-address=127.0.0.1:\(promPort)"]) else { Issue.record("prometheus did not start"); return }
        defer { kill(prom, SIGTERM); var st: Int32 = 0; waitpid(prom, &st, 0) }
        let json = dir.appendingPathComponent("r.json")
        let run = try cicada(["run", try scenario(in: dir).path, "--local-target", "--status-port", String(runPort), "--status-linger", "4s", "--json", json.path], limit: 90)
        #expect(run.status == 0, "\(run.stderr)")
        let want = try report(json)["totals"].flatMap { ($0 as? [String: Any])?["requests"] as? Int }
        // Prometheus's last stored value of the summed counter.
        var got: Int?
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let r = try? http("GET", "http://127.0.0.1:\(promPort)/api/v1/query?query=sum(max_over_time(cicada_requests_total%5B1m%5D))"),
               let obj = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
               let result = (obj["data"] as? [String: Any])?["result"] as? [[String: Any]], let v = result.first?["value"] as? [Any],
               let s = v.last as? String, let n = Double(s) {
                got = Int(n)
                if got == want { break }
            }
            usleep(500_000)
        }
        #expect(want != nil && got == want, "Prometheus stored \(String(describing: got)), the report says \(String(describing: want))")
    }
}
