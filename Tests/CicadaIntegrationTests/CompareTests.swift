import CicadaCore
import CicadaEngineServer
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Testing

/// `compare:` runs: the same load for every variant, engine variants on their own engines.
@Suite(.serialized) struct CompareTests {
    /// Runs `yaml`'s scenario against each base URL at once, as a comparison does.
    func compare(_ yaml: String, targets: [String], workers: Int = 1) throws -> [RunResult] {
        let scenario = try ScenarioReader().parse(yaml, file: "cmp.yaml")
        let lanes = try targets.enumerated().map { i, url in
            var sc = scenario
            sc.target = url
            return CompareRun.Lane(name: "v\(i)", run: try LoadRun(plan: RunPlan(scenario: sc, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(10))))
        }
        return try CompareRun(lanes: lanes).run()
    }

    /// An open-model scenario whose every request differs (sequence, uuid, random numbers, choices).
    static func templated(seed: Int) -> String {
        """
        target: http://127.0.0.1:1
        seed: \(seed)
        arrival: {rate: 150, process: poisson, max_in_flight: 1000}
        run_time: 1500ms
        tasks:
          - {name: a, method: POST, path: "/predict?n={{seq}}", json: {input: "{{uuid}} {{random_int 1 1000000}}"}, weight: 3}
          - {name: b, method: POST, path: /predict, json: {input: "{{choice x y z}} {{random_normal 100 20}}"}}
        """
    }

    @Test func sameSeedGivesEveryVariantTheSameRequests() throws {
        let a = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 10_000))
        // The second target is slower: its pace must not change what it is sent.
        let b = TestTarget(config: .init(serviceTime: .milliseconds(15), recordRequests: 10_000))
        try a.start(); try b.start()
        defer { a.stop(); b.stop() }
        let results = try compare(Self.templated(seed: 42), targets: [a.baseURL, b.baseURL], workers: 2)
        let sentA = a.recordedRequests, sentB = b.recordedRequests
        #expect(sentA.count > 100)
        // Same requests (order on the wire may differ by a few microseconds between connections).
        #expect(sentA.sorted() == sentB.sorted())
        #expect(results[0].snapshot.total.requests == results[1].snapshot.total.requests)
        #expect(results[0].snapshot.perStat.map { $0.requests } == results[1].snapshot.perStat.map { $0.requests })
        // ...and different ones under another seed.
        let c = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 10_000))
        try c.start()
        defer { c.stop() }
        _ = try compare(Self.templated(seed: 43), targets: [c.baseURL])
        #expect(c.recordedRequests.sorted() != sentA.sorted())
    }

    @Test func batchingVariantBeatsNoBatchingUnderTheSameLoad() throws {
        // A100-80GB + 7B without batching serves under 100/s; 150/s overloads it, not the seed preset.
        let doc = try ScenarioReader().parseDocument("""
        target: embedded
        engine: {cache: {enabled: false}}
        seed: 5
        arrival: {rate: 150, process: poisson, max_in_flight: 4000}
        run_time: 2s
        tasks: [{name: p, kind: predict, prompt: "classify {{uuid}}"}]
        compare:
          variants: [{name: none, preset: no-batching}, {name: seed, preset: seed}]
        """, file: "cmp.yaml")
        let spec = try #require(doc.compare)
        var engines: [EngineServer] = []
        defer { engines.forEach { $0.stop() } }
        for v in spec.variants {
            guard case .engine(let e) = v.kind else { Issue.record("not an engine variant"); return }
            var config = e
            config.cacheEntries = 0
            let s = try EngineServer(config: config)
            try s.start()
            engines.append(s)
        }
        let lanes = try zip(spec.variants, engines).map { v, e in
            var sc = doc.scenario
            sc.target = e.baseURL
            return CompareRun.Lane(name: v.name, run: try LoadRun(plan: RunPlan(scenario: sc, environment: [:]), options: RunOptions(workers: 1)))
        }
        let r = try CompareRun(lanes: lanes).run()
        let none = r[0].snapshot, seed = r[1].snapshot
        #expect(none.total.requests == seed.total.requests, "the same arrivals reached both")
        #expect(none.total.failures == 0 && seed.total.failures == 0)
        let p99None = try #require(none.total.corrected.percentile(99)), p99Seed = try #require(seed.total.corrected.percentile(99))
        #expect(p99Seed * 5 < p99None, "seed p99 \(p99Seed) us against no-batching \(p99None) us")
        // The overloaded variant's throughput is what it served, not what was offered.
        #expect(try #require(none.qps) < 0.8 * (try #require(seed.qps)))
        #expect(engines[1].stats.averageBatchSize ?? 0 > 1.5)
        #expect(engines[0].stats.averageBatchSize == 1)
    }

    @Test func cliRunsTheComparisonAndWritesTheTable() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = TestTarget(config: .init(serviceTime: .milliseconds(2)))
        try target.start()
        defer { target.stop() }
        let scenario = dir.appendingPathComponent("c.yaml")
        try """
        target: embedded
        engine: {cache: {enabled: false}}
        arrival: {rate: 40}
        run_time: 1500ms
        tasks: [{name: p, kind: predict, prompt: "q {{seq}}"}]
        thresholds: ["p(99)<2s"]
        compare:
          baseline: mine
          variants:
            - {name: seed, preset: seed}
            - {name: mine, target: "\(target.baseURL)"}
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("c.json").path
        let csv = dir.appendingPathComponent("c").path
        let junit = dir.appendingPathComponent("c.xml").path
        let r = try cicada(["run", scenario.path, "--json", json, "--csv", csv, "--junit", junit, "--quiet"], limit: 60)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("COMPARISON"))
        #expect(r.stdout.contains("mine (base)"))
        #expect(r.stdout.contains("seed vs mine: p99"))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(obj["schema"] as? String == "cicada.compare/v1")
        let variants = try #require(obj["variants"] as? [[String: Any]])
        #expect(variants.map { $0["name"] as? String } == ["seed", "mine"])
        #expect((variants[0]["engine"] as? [String: Any])?["modelled"] as? Bool == true)
        #expect(variants.allSatisfy { ($0["requests"] as? Int ?? 0) >= 40 })
        // Each variant carries its own intervals, and the change says whether it is beyond them.
        for v in variants {
            let conf = try #require(v["confidence"] as? [String: Any], "\(v["name"] ?? "")")
            #expect(conf["qps"] is [String: Any] && conf["p(99)"] is [String: Any])
            #expect((v["report"] as? [String: Any])?["confidence"] is [String: Any])
        }
        let significant = try #require((variants[0]["change"] as? [String: Any])?["significant"] as? [String: Any])
        #expect(significant["p(99)"] is Bool, "the variant and the baseline both carry a p99 interval: judged")
        #expect(obj["lowest_p99_within_noise"] is [Any])
        for f in ["_compare.csv", "_seed_stats.csv", "_mine_stats.csv", "_seed_stats_history.csv"] {
            #expect(FileManager.default.fileExists(atPath: csv + f), "\(f)")
        }
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("[mine]"))
        // Flags that aim the whole run elsewhere make no sense with variants.
        let bad = try cicada(["run", scenario.path, "--engine"], limit: 20)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("do not apply to a comparison"))
    }

    /// A comparison's exit codes: 99 when a variant fails a threshold, 2 when a report cannot be
    /// written (refused before the load), 105 when stopped by a signal (reports still written).
    /// (1, a report failing at the end, is RunSessionTests' for runs and comparisons alike.)
    @Test func comparisonExitCodes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = TestTarget(config: .init(serviceTime: .milliseconds(2)))
        try target.start()
        defer { target.stop() }
        func file(_ runTime: String, _ threshold: String) throws -> String {
            let path = dir.appendingPathComponent("c-\(runTime).yaml").path
            try """
            target: embedded
            engine: {cache: {enabled: false}}
            arrival: {rate: 20}
            run_time: \(runTime)
            telemetry: {gpu: none}
            tasks: [{name: p, kind: predict, prompt: "q {{seq}}"}]
            thresholds: ["\(threshold)"]
            compare:
              variants:
                - {name: seed, preset: seed}
                - {name: mine, target: "\(target.baseURL)"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let short = try file("1s", "p(99)<0.001ms")
        let failed = try cicada(["run", short, "--quiet"], limit: 60)
        #expect(failed.status == 99, "stderr: \(failed.stderr)")
        #expect(failed.stdout.contains("COMPARISON"))

        // A report that cannot be written is refused before any load (exit 2), naming it.
        let missing = dir.appendingPathComponent("no/such/dir/c.json").path
        let unwritable = try cicada(["run", try file("1s", "p(99)<10s"), "--quiet", "--json", missing], limit: 60)
        #expect(unwritable.status == 2, "stderr: \(unwritable.stderr)")
        #expect(unwritable.stderr.contains("--json: cannot write \(missing)"))
        #expect(!unwritable.stdout.contains("COMPARISON"))

        let json = dir.appendingPathComponent("stopped.json").path
        let stopped = try cicada(["run", try file("30s", "p(99)<10s"), "--quiet", "--json", json],
                                 interruptOn: "cicada: comparing", after: 1, signal: SIGTERM, limit: 60)
        #expect(stopped.status == 105, "stderr: \(stopped.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(obj["schema"] as? String == "cicada.compare/v1")
    }
}
