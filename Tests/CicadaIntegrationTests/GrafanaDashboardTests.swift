import CicadaEngine
import CicadaEngineServer
import CicadaTelemetry
import Foundation
import Testing

/// deploy/grafana/cicada.json: it parses, and every metric and grouping label its queries name
/// is one that a real `cicada run --status-port` (a streamed chat run against the embedded
/// engine) and a real engine's `/metrics` (with a level-2 cache) export.
@Suite(.serialized) struct GrafanaDashboardTests {
    /// Every sample name and the label names each carries, from a real exposition.
    static func names(_ text: String, into names: inout [String: Set<String>]) throws {
        for f in try PrometheusText.parse(text).families {
            for s in f.samples { names[s.name, default: []].formUnion(s.labels.map(\.name)) }
        }
    }

    @Test func everyQueryNamesMetricsAndLabelsThatExist() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("grafana.yaml")
        try """
        name: grafana
        target: embedded
        users: 4
        spawn_rate: 100
        run_time: 2s
        tasks:
          - {name: chat, kind: openai-chat, prompt: "hello {{seq}}", max_tokens: 8}
          - {name: missing, path: /nope}
        """.write(to: file, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("r.json")
        let p = try RunningCicada(["run", file.path, "--status-port", "0", "--status-linger", "30s", "--json", json.path])
        #expect(p.waitForStderr(containing: "/metrics (Prometheus)", limit: 60))
        let port = try #require(p.stderrText.firstMatch(of: /live figures at http:\/\/127\.0\.0\.1:(\d+)\/metrics/).map { String($0.1) })
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: json.path), Date() < deadline { usleep(50_000) }
        var exported: [String: Set<String>] = [:]
        try Self.names(try http("GET", "http://127.0.0.1:\(port)/metrics").body, into: &exported)
        p.signal(SIGINT)
        _ = p.wait(limit: 60)
        var config = EngineConfig()
        config.l2 = RedisL2Config(port: try freePort())
        try withEngine(config) { e in
            // One answer, so the per-outcome series exist.
            _ = try http("POST", e.baseURL + "/predict", body: #"{"input": "x"}"#)
            try Self.names(try http("GET", e.baseURL + "/metrics").body, into: &exported)
        }

        let data = try Data(contentsOf: URL(fileURLWithPath: ClientVenv.repoRoot + "/deploy/grafana/cicada.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(dashboard["uid"] as? String == "cicada-load-test")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var exprs: [String] = []
        for panel in panels where panel["type"] as? String != "row" {
            let targets = try #require(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "")")
            #expect(!targets.isEmpty)
            for t in targets {
                #expect((t["datasource"] as? [String: Any])?["uid"] as? String == "${datasource}")
                exprs.append(try #require(t["expr"] as? String))
            }
        }
        #expect(exprs.count >= 15)
        for expr in exprs {
            let metrics = expr.matches(of: /cicada_[a-z0-9_]+/).map { String($0.0) }
            #expect(!metrics.isEmpty, "\(expr)")
            var labels: Set<String> = ["le"]
            for m in metrics {
                #expect(exported[m] != nil, "\(m) is not exported (in: \(expr))")
                labels.formUnion(exported[m] ?? [])
            }
            // Labels the query filters or groups by must exist on the series it reads.
            for group in expr.matches(of: /by \(([a-z_, ]+)\)/) {
                for label in group.1.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    #expect(labels.contains(label), "'\(label)' is on none of \(metrics) (in: \(expr))")
                }
            }
            for filter in expr.matches(of: /([a-z_]+)=~?"/) where filter.1 != "scenario" || metrics.allSatisfy({ !$0.hasPrefix("cicada_engine_") }) {
                #expect(labels.contains(String(filter.1)), "'\(filter.1)' is on none of \(metrics) (in: \(expr))")
            }
        }
    }
}
