import CicadaCore
import CicadaScenario
import CicadaSession
import CicadaTestTarget
import Foundation
import Testing

/// A `split:` run end to end (issue 16): two servers on 127.0.0.1, one load divided between them
/// by the seeded chooser, per-target figures in the summary and the JSON, the canary verdict's
/// exit status.
@Suite(.serialized) struct CanarySplitTests {
    static func yaml(stable: String, canary: String, verdict: String) -> String {
        """
        name: split-e2e
        seed: 17
        run_time: 2s
        arrival: {rate: 300}
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: hit, path: /health}]
        split:
          targets:
            - {name: stable, weight: 90, baseline: true, target: \(stable)}
            - {name: canary, weight: 10, target: \(canary)}
          verdict: \(verdict)
          steps: [10, 25, 50, 100]

        """
    }

    static func start(_ serviceTime: Duration) throws -> TestTarget {
        let t = TestTarget(config: .init(serviceTime: serviceTime))
        try t.start()
        return t
    }

    /// On both transports (issue 17): the fast path keeps a pool per member.
    @Test(arguments: [TransportChoice.curl, .fast])
    func perTargetCountsAddUpToTheTotalAndMatchTheWeights(transport: TransportChoice) throws {
        let stable = try Self.start(.milliseconds(1)), canary = try Self.start(.milliseconds(1))
        defer { stable.stop(); canary.stop() }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.path + "/r.json", md = dir.path + "/r.md"
        let yaml = Self.yaml(stable: stable.baseURL, canary: canary.baseURL, verdict: "{p99: \"+5000%\", error_rate: \"+1%\"}") + "transport: \(transport.rawValue)\n"
        let doc = try ScenarioReader().parseDocument(yaml, file: "s.yaml")
        let s = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", workers: 2, reports: ReportRequest(json: json, markdown: md)))
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        let r = result.results[0]
        #expect(result.exitStatus == ExitStatus.ok, "\(out.summary.withLock { $0 })")
        #expect(r.transport == transport.rawValue)
        let split = try #require(r.split)
        let counts = split.members.map { $0.stats?.requests ?? 0 }
        let total = r.snapshot.total.requests
        #expect(total > 300, "\(total) requests")
        #expect(counts.reduce(0, +) == total, "per-target \(counts) add up to \(total)")
        // Each server saw exactly what was counted for it.
        #expect(counts == [UInt64(stable.requestCount), UInt64(canary.requestCount)])
        // Arrival k goes to the canary by a Weyl sequence: within a few requests of 10 %.
        #expect(abs(Double(counts[1]) - Double(total) / 10) <= 5, "canary \(counts[1]) of \(total)")
        #expect(split.verdict.checks.count == 2 && split.verdict.passed)
        let summary = out.summary.withLock { $0 }
        #expect(summary.contains("SPLIT") && summary.contains("CANARY VERDICT: PASSED"), "\(summary)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let js = try #require(obj["split"] as? [String: Any])
        let members = try #require(js["members"] as? [[String: Any]])
        #expect(members.map { $0["name"] as? String } == ["stable", "canary"])
        #expect(members.map { ($0["requests"] as? NSNumber)?.uint64Value } == counts.map { Optional($0) })
        #expect((js["verdict"] as? [String: Any])?["passed"] as? Bool == true)
        // The breakdown keeps turns and models only: a split's members are not models.
        #expect(obj["breakdown"] is NSNull)
        #expect(try String(contentsOfFile: md, encoding: .utf8).contains("**Split (canary)**"))
    }

    @Test(arguments: [TransportChoice.curl, .fast])
    func closedModelUsersSplitByTheirRequestNumbers(transport: TransportChoice) throws {
        let stable = try Self.start(.milliseconds(1)), canary = try Self.start(.milliseconds(1))
        defer { stable.stop(); canary.stop() }
        let doc = try ScenarioReader().parseDocument("""
        seed: 5
        users: 20
        spawn_rate: 1000
        run_time: 2s
        wait_time: constant(0.005)
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: hit, path: /health}]
        split:
          targets:
            - {name: stable, weight: 3, baseline: true, target: \(stable.baseURL)}
            - {name: canary, weight: 1, target: \(canary.baseURL)}
        transport: \(transport.rawValue)

        """, file: "s.yaml")
        let s = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", workers: 2))
        let out = CapturedOutput()
        let r = try s.run(view: nil, output: out.output, stopSignal: { false }).results[0]
        #expect(r.transport == transport.rawValue)
        let counts = try #require(r.split).members.map { $0.stats?.requests ?? 0 }
        let total = r.snapshot.total.requests
        #expect(total > 500, "\(total) requests")
        #expect(counts.reduce(0, +) == total)
        #expect(counts == [UInt64(stable.requestCount), UInt64(canary.requestCount)])
        // Users send different numbers of requests, so the bound is looser than an open model's.
        #expect(abs(Double(counts[1]) / Double(total) - 0.25) <= 0.02, "canary \(counts[1]) of \(total)")
    }

    @Test func aFailingCanaryFailsTheVerdictWithExit99() throws {
        // The canary answers every fourth request with a 503: a 25 % error rate against the
        // stable's 0 %, past the +1 point bound whatever the machine's load (no timing involved).
        let stable = try Self.start(.milliseconds(1))
        let canary = TestTarget(config: .init(faults: try FaultPlan(parsing: "503:1,ok:3")))
        try canary.start()
        defer { stable.stop(); canary.stop() }
        let doc = try ScenarioReader().parseDocument(Self.yaml(stable: stable.baseURL, canary: canary.baseURL, verdict: "{error_rate: \"+1%\"}"), file: "s.yaml")
        let s = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", workers: 1))
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        #expect(result.exitStatus == ExitStatus.thresholdsFailed)
        #expect(result.results[0].thresholds.isEmpty, "no threshold: the verdict alone fails the run")
        let check = try #require(result.results[0].split?.verdict.checks.first)
        #expect(check.passed == false && check.baselineValue == 0)
        #expect(abs((check.value ?? 0) - 0.25) < 0.02, "\(check)")
        let summary = out.summary.withLock { $0 }
        #expect(summary.contains("CANARY VERDICT: FAILED"), "\(summary)")
        #expect(summary.contains("canary error_rate=+1%"), "the bound is printed with the figures")
        #expect(summary.contains("(limit 1.00%)"))
    }

    @Test func engineMembersEachStartTheirOwnEngine() throws {
        let doc = try ScenarioReader().parseDocument("""
        run_time: 1s
        arrival: {rate: 50}
        telemetry: {gpu: none}
        tasks: [{name: h, path: /health}]
        split:
          targets:
            - {name: stable, weight: 1, baseline: true, engine: {batching: seed}}
            - {name: canary, weight: 1, engine: {scheduler: continuous}}
        """, file: "s.yaml")
        let s = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", workers: 1))
        let members = try #require(s.lanes[0].run.plan.scenario.split?.members)
        #expect(members.allSatisfy { $0.target.hasPrefix("http://127.0.0.1:") && !$0.target.hasSuffix(":0") })
        #expect(Set(members.map(\.target)).count == 2, "two engines, two ports")
        #expect(s.scenario.target == members[0].target)
        #expect(s.title == "split stable 1 / canary 1")
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        let counts = try #require(result.results[0].split).members.map { $0.stats?.requests ?? 0 }
        #expect(counts.allSatisfy { $0 > 10 } && counts.reduce(0, +) == result.results[0].snapshot.total.requests, "\(counts)")
        #expect(result.results[0].snapshot.total.failures == 0)
    }

    /// The fast path carries a split of plain http:// members; an https:// member needs libcurl.
    @Test func fastTransportIsRefusedWithTheReason() throws {
        let doc = try ScenarioReader().parseDocument(Self.yaml(stable: "http://127.0.0.1:1", canary: "https://127.0.0.1:2", verdict: "{}"), file: "s.yaml")
        var o = ScenarioOverrides()
        o.transport = .fast
        #expect {
            _ = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", overrides: o))
        } throws: { e in
            "\(e)".contains("--transport fast cannot carry this run: TLS (https://) needs libcurl (split member canary)")
        }
    }
}
