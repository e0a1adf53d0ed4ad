import CicadaCore
import CicadaEngineServer
import CicadaScenario
import CicadaSession
import CicadaTelemetry
import CicadaTestTarget
import Foundation
import Synchronization
import Testing

/// What a session wrote to its output, captured for the test.
final class CapturedOutput: Sendable {
    let summary = Mutex<String>("")
    let log = Mutex<[String]>([])
    var output: SessionOutput {
        SessionOutput(summary: { s in self.summary.withLock { $0 += s } }, log: { l in self.log.withLock { $0.append(l) } })
    }
}

/// A live view that records its calls and can ask to quit.
final class FakeView: LiveView, @unchecked Sendable {
    let started = Atomic<Bool>(false)
    let stopped = Atomic<Bool>(false)
    let quitAt: Date?
    init(quitAfter: Double?) { quitAt = quitAfter.map { Date().addingTimeInterval($0) } }
    func start() { started.store(true, ordering: .relaxed) }
    func stop() { stopped.store(true, ordering: .relaxed) }
    var quitRequested: Bool { quitAt.map { Date() >= $0 } ?? false }
    var engine: EngineServer? { nil }
}

/// `RunSession` driven without a terminal, against the local test target on 127.0.0.1.
@Suite(.serialized) struct RunSessionTests {
    static let yaml = "target: http://127.0.0.1:1\nusers: 2\nspawn_rate: 100\nrun_time: 1s\nwait_time: constant(0.01)\ntasks: [{name: p, path: /health}]\nthresholds: ['error_rate<1%']\ntelemetry: {gpu: none}\n"

    func session(_ request: SessionRequest, yaml: String = yaml) throws -> RunSession {
        try RunSession(document: try ScenarioReader().parseDocument(yaml, file: "s.yaml"), request: request)
    }

    @Test func aRunAgainstTheLocalTargetWritesEveryReportAndPasses() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.path
        let reports = ReportRequest(json: p + "/r.json", csvPrefix: p + "/r", junit: p + "/r.xml", markdown: p + "/r.md")
        let s = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .milliseconds(1), reports: reports))
        #expect(s.lanes.count == 1 && s.compare == nil)
        #expect(s.lanes[0].telemetry.isEmpty, "the local test target has no /metrics")
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        #expect(result.exitStatus == ExitStatus.ok)
        #expect(result.reportFailures.isEmpty)
        #expect(result.results.count == 1 && result.results[0].passed)
        for f in ["r.json", "r_stats.csv", "r_failures.csv", "r_stats_history.csv", "r.xml", "r.md"] {
            #expect(FileManager.default.fileExists(atPath: p + "/" + f), "\(f)")
        }
        #expect(!FileManager.default.fileExists(atPath: p + "/r_stats_history.csv.partial"))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p + "/r.json"))) as? [String: Any])
        #expect(obj["schema"] as? String == "cicada.report/v1")
        #expect(out.summary.withLock { $0 }.contains("Aggregated"))
        let log = out.log.withLock { $0 }
        #expect(log.first?.hasPrefix("cicada: running") == true)
        #expect(log.first?.contains("local test target") == true)
    }

    @Test func aReportThatCannotBeWrittenIsRefusedBeforeAnyLoad() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.path + "/no/such/folder/r.json"
        do {
            _ = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero, reports: ReportRequest(json: missing)))
            Issue.record("accepted a report in a missing folder")
        } catch let error as SessionError {
            #expect(error.kind == .usage)
            #expect(error.description == "error: --json: cannot write \(missing): the folder \(dir.path)/no/such/folder does not exist")
        }
        do {
            _ = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero, reports: ReportRequest(junit: dir.path)))
            Issue.record("accepted a folder as the JUnit file")
        } catch let error as SessionError {
            #expect(error.description.hasSuffix("it is a folder"))
        }
        let readOnly = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: false)
        chmod(readOnly.path, 0o555)
        defer { chmod(readOnly.path, 0o755) }
        if getuid() != 0 {   // root writes anywhere
            #expect(throws: SessionError.self) {
                _ = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero, reports: ReportRequest(markdown: readOnly.path + "/r.md")))
            }
        }
    }

    @Test func aReportThatFailsAtTheEndIsANamedFailureWhileTheSummaryStillPrints() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out1 = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out1, withIntermediateDirectories: false)
        let json = out1.path + "/r.json"
        let md = dir.path + "/r.md"
        let s = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero,
                                           reports: ReportRequest(json: json, markdown: md), progress: false))
        let out = CapturedOutput()
        // The folder disappears during the run (as a full disk or an unmounted volume would
        // show only at the end).
        let removed = Atomic<Bool>(false)
        let result = try s.run(view: nil, output: out.output, stopSignal: {
            if !removed.exchange(true, ordering: .relaxed) { try? FileManager.default.removeItem(at: out1) }
            return false
        })
        #expect(result.exitStatus == ExitStatus.toolError)
        #expect(result.reportFailures.map(\.path) == [json])
        #expect(FileManager.default.fileExists(atPath: md), "the other reports are still written")
        #expect(out.summary.withLock { $0 }.contains("Aggregated"))
        #expect(out.log.withLock { $0 }.contains { $0.hasPrefix("error: cannot write report \(json): ") })
    }

    @Test func aFailedThresholdIs99AndAStopSignalIs105() throws {
        let failing = try session(SessionRequest(file: "s.yaml", extraThresholds: ["p(99)<0.001ms"], workers: 1, localTargetServiceTime: .zero, progress: false))
        #expect(try failing.run(view: nil, output: CapturedOutput().output, stopSignal: { false }).exitStatus == ExitStatus.thresholdsFailed)

        let long = Self.yaml.replacingOccurrences(of: "run_time: 1s", with: "run_time: 30s")
        let stopAt = Date().addingTimeInterval(0.8)
        let stopped = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero, progress: false), yaml: long)
        let result = try stopped.run(view: nil, output: CapturedOutput().output, stopSignal: { Date() >= stopAt })
        #expect(result.exitStatus == ExitStatus.signal)
        #expect(result.results[0].stopReason == .interrupted)
    }

    @Test func aLiveViewRunsInsteadOfProgressLinesAndItsQuitKeyIsNoSignal() throws {
        let long = Self.yaml.replacingOccurrences(of: "run_time: 1s", with: "run_time: 30s")
        let s = try session(SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero), yaml: long)
        let view = FakeView(quitAfter: 0.8)
        let out = CapturedOutput()
        let result = try s.run(view: view, output: out.output, stopSignal: { false })
        #expect(view.started.load(ordering: .relaxed) && view.stopped.load(ordering: .relaxed))
        #expect(result.results[0].stopReason == .interrupted)
        #expect(result.exitStatus != ExitStatus.signal, "q is not a signal")
        #expect(out.log.withLock { $0 }.isEmpty, "no progress or start lines under a live view")
    }

    @Test func aComparisonOfTwoTargetsWritesEachVariantsFiles() throws {
        let a = TestTarget(config: .init(serviceTime: .milliseconds(1))), b = TestTarget(config: .init(serviceTime: .milliseconds(3)))
        try a.start(); try b.start()
        defer { a.stop(); b.stop() }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = Self.yaml + "compare:\n  baseline: b\n  variants:\n    - {name: a, target: \"\(a.baseURL)\"}\n    - {name: b, target: \"\(b.baseURL)\"}\n"
        let s = try session(SessionRequest(file: "c.yaml", workers: 1, reports: ReportRequest(json: dir.path + "/c.json", csvPrefix: dir.path + "/c"), plain: true), yaml: yaml)
        #expect(s.lanes.map(\.name) == ["a", "b"] && s.lanes.map(\.isBaseline) == [false, true])
        #expect(s.makeEngine == nil)
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        #expect(result.exitStatus == ExitStatus.ok)
        #expect(result.comparison != nil)
        for f in ["c_compare.csv", "c_a_stats.csv", "c_b_stats_history.csv", "c.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.path + "/" + f), "\(f)")
        }
        let summary = out.summary.withLock { $0 }
        #expect(summary.contains("=== variant b (baseline)"))
        #expect(summary.contains("COMPARISON"))
        #expect(out.log.withLock { $0 }.first?.hasPrefix("cicada: comparing a vs b") == true)
    }

    @Test(arguments: [
        (SessionRequest(file: "s.yaml", startEngine: true, localTargetServiceTime: .zero), "error: --engine and --local-target each start a server; choose one"),
        (SessionRequest(file: "s.yaml", windowSeconds: 0), "error: --window must be 1..3600 seconds"),
        (SessionRequest(file: "s.yaml", overrides: ScenarioOverrides(rate: 5)), "--rate applies to open-model"),
    ])
    func inputProblemsAreUsageErrorsBeforeAnyLoad(request: SessionRequest, message: String) throws {
        let e = #expect(throws: SessionError.self) { try session(request) }
        #expect(e?.kind == .usage)
        #expect(e?.description.contains(message) == true, "\(e?.description ?? "")")
    }

    @Test func telemetryEndpointsFollowTheTarget() {
        var spec = TelemetrySpec()
        spec.gpu = "auto"; spec.scrapeTarget = true; spec.prometheus = []
        let url = "http://127.0.0.1:9"
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: false) == [.localGPUs, .prometheus(url: url + "/metrics")])
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: true) == [.prometheus(url: url + "/metrics")])
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: false, localTarget: true) == [.localGPUs])
        spec.prometheus = ["http://dcgm:9400/metrics"]
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: true) == [.prometheus(url: "http://dcgm:9400/metrics")])
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: true, engineVariant: true) == [.prometheus(url: url + "/metrics")])
        spec.scrapeTarget = false
        #expect(TelemetryChoice.endpoints(spec, baseURL: url, engine: true, engineVariant: true).isEmpty)
    }
}
