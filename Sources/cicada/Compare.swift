import ArgumentParser
import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaTelemetry
import CicadaTerminal
import CicadaTransport
@preconcurrency import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

extension Run {
    /// `cicada run` on a file with a `compare:` block: every variant runs at the same time with
    /// the same load (same seed, same schedule), each engine variant in its own engine instance;
    /// then each variant's summary, and the comparison table with the changes from the baseline.
    func runCompare(_ spec: CompareSpec, document: ScenarioDocument, scenario: Scenario, stopAfter: Duration) throws {
        if engine || localTarget {
            throw ScenarioProblem(description: "error: --engine and --local-target do not apply to a comparison: each variant in \(file)'s compare: block names its own engine preset or target")
        }
        if target != nil {
            throw ScenarioProblem(description: "error: --target does not apply to a comparison: each variant in \(file)'s compare: block names its own target")
        }

        // 1. One engine per engine variant (its own modelled GPU), one plan and run per variant.
        var engines: [EngineServer?] = []
        defer { engines.forEach { $0?.stop() } }
        var plans: [RunPlan] = []
        for v in spec.variants {
            var sc = scenario
            switch v.kind {
            case .engine(let es):
                let server: EngineServer
                do { server = try EngineServer(config: try es.engineConfig()) } catch { throw ScenarioProblem(description: "error: compare variant '\(v.name)': engine: \(error)") }
                do { try server.start() } catch { throw ToolFailure(description: "cannot start the embedded engine for variant '\(v.name)': \(error)") }
                sc.target = server.baseURL
                engines.append(server)
            case .target(let url):
                sc.target = url
                engines.append(nil)
            }
            do { plans.append(try RunPlan(scenario: sc, environment: ProcessInfo.processInfo.environment)) } catch {
                throw ScenarioProblem(description: "error: compare variant '\(v.name)': \(error.description)")
            }
            if sc.http2, let why = Curl.http2Problem(baseURL: plans.last!.baseURL) { throw ScenarioProblem(description: "error: compare variant '\(v.name)': http2: \(why)") }
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // The same worker count for every variant (the closed model deals users by worker).
        let perVariant = workers ?? max(1, cores / spec.variants.count)
        let options = RunOptions(workers: perVariant, windowSeconds: window, stopTimeout: stopAfter, extraThresholds: thresholds.map { ThresholdSpec($0) })
        var lanes: [CompareRun.Lane] = []
        for (v, plan) in zip(spec.variants, plans) {
            do { lanes.append(.init(name: v.name, run: try LoadRun(plan: plan, options: options))) } catch { throw ScenarioProblem(description: "error: \(error.message)") }
        }
        let compare = CompareRun(lanes: lanes)

        // 2. Dashboard or progress lines; telemetry per variant.
        setvbuf(stdout, nil, _IOLBF, 0)
        let duration = scenario.load.duration
        let env = ProcessInfo.processInfo.environment
        let interactive = !headless && Self.isInteractiveTerminal(env)
        installStopSignalHandlers()
        var dashboard: LiveDashboard?
        let names = spec.variants.map(\.name).joined(separator: " vs ")
        if interactive {
            do {
                let screen = try TerminalScreen(color: env["NO_COLOR"] == nil)
                var isOpen = false
                if case .open = scenario.load { isOpen = true }
                let dashLanes = spec.variants.indices.map { i in
                    LiveDashboard.Lane(name: spec.variants[i].name, config: spec.variants[i].summary, isBaseline: i == spec.baselineIndex,
                                       run: lanes[i].run, engine: engines[i])
                }
                dashboard = LiveDashboard(screen: screen, lanes: dashLanes, makeEngine: nil, scenarioName: scenario.name,
                                          targetDescription: "compare \(names)", runTime: duration, isOpenModel: isOpen, color: env["NO_COLOR"] == nil)
            } catch {
                printError("cicada: no dashboard (\(error)); running headless")
            }
        }
        if !quiet && dashboard == nil {
            for lane in lanes {
                let name = lane.name
                lane.run.onProgress = { snap in printError("[\(name)] " + ProgressLine.format(snap, duration: duration)) }
            }
        }
        var histories: [StreamingFile?] = []
        if let csv {
            for lane in lanes {
                let path = "\(csv)_\(Self.fileSafe(lane.name))_stats_history.csv"
                let history: StreamingFile
                do { history = try StreamingFile(path: path) } catch { throw ToolFailure(description: "cannot write \(path): \(error)") }
                history.write(CSVReport.historyHeader + "\n")
                let full = csvFullHistory
                lane.run.onSecond = { snap in history.write(CSVReport.historyRows(snap, timestampUnix: Int(Date().timeIntervalSince1970), fullHistory: full)) }
                histories.append(history)
            }
        }
        var pollers: [TelemetryPoller] = []
        defer { pollers.forEach { $0.stop() } }
        let tspec = scenario.telemetry
        for (i, lane) in lanes.enumerated() {
            var endpoints: [TelemetryEndpoint] = []
            if let e = engines[i] {
                // The engine's own modelled device memory.
                if tspec.scrapeTarget { endpoints.append(.prometheus(url: e.baseURL + "/metrics")) }
            } else {
                if tspec.gpu != "none" { endpoints.append(.localGPUs) }
                endpoints += tspec.prometheus.map { .prometheus(url: $0) }
                if tspec.prometheus.isEmpty, tspec.scrapeTarget { endpoints.append(.prometheus(url: lane.run.plan.baseURL + "/metrics")) }
            }
            guard !endpoints.isEmpty else { continue }
            let p = TelemetryPoller(endpoints: endpoints, interval: tspec.interval, staleAfter: tspec.staleAfter,
                                    startNanos: MonotonicTimeSource().nowNanos(),
                                    fetch: { url, timeout in try HTTPGet.fetch(url, timeout: timeout) },
                                    localReader: tspec.gpu == "none" || engines[i] != nil ? nil : LocalGPUReader())
            p.start()
            lane.run.telemetry = p
            pollers.append(p)
        }

        // 3. Run every variant at once.
        if dashboard == nil {
            printError("cicada: comparing \(names) on \(scenario.name) (\(LoadRun.describe(scenario.load)), \(perVariant) workers each, same seed \(scenario.seed))")
            for v in spec.variants { printError("  \(v.name): \(v.summary)") }
        }
        let results = try Self.run(under: dashboard) { stop in try compare.run(shouldStop: stop) }

        // 4. Each variant's summary, then the comparison.
        var variants: [VariantResult] = []
        for (i, v) in spec.variants.enumerated() {
            let facts = engines[i].map { e -> EngineFacts in
                let s = e.stats
                return EngineFacts(preset: s.presetName ?? "custom", averageBatchSize: s.averageBatchSize,
                                   peakMemoryFraction: s.memoryTotalBytes > 0 ? Double(s.memoryPeakBytes) / Double(s.memoryTotalBytes) : nil,
                                   outOfMemory: s.outOfMemory)
            }
            variants.append(VariantResult(name: v.name, config: v.summary, result: results[i], engine: facts))
        }
        for (i, v) in variants.enumerated() {
            let rule = String(repeating: plain ? "=" : "═", count: 3)
            print("\(rule) variant \(v.name)\(i == spec.baselineIndex ? " (baseline)" : ""): \(v.config) \(rule)")
            print(SummaryPrinter(plain: plain).render(v.result), terminator: "")
            if let llm = LLMReport.text(v.result, goodputConfigured: v.result.goodputConfigured) { print("\n" + llm, terminator: "") }
            if let e = engines[i] { print("\n" + e.stats.summaryLines().joined(separator: "\n")) }
            if let t = TelemetryReport.lines(v.result.snapshot.telemetry) { print("\n" + t.joined(separator: "\n")) }
            print("")
        }
        let comparison = Comparison(variants: variants, baselineIndex: spec.baselineIndex)
        print(comparison.text(plain: plain), terminator: "")

        var writeFailures: [String] = []
        func write(_ text: String, _ path: String) {
            do { try AtomicFile.write(text, to: path) } catch { writeFailures.append("\(path): \(error)") }
        }
        if let json { write(comparison.json(variants: variants), json) }
        if let csv {
            for (i, v) in variants.enumerated() {
                let prefix = "\(csv)_\(Self.fileSafe(v.name))"
                write(CSVReport.stats(v.result), prefix + "_stats.csv")
                write(CSVReport.failures(v.result, startNanos: v.result.startNanos, startUnix: v.result.startedAtUnix), prefix + "_failures.csv")
                if let t = CSVReport.telemetryHistory(v.result.snapshot.telemetry) { write(t, prefix + "_telemetry_history.csv") }
                do { try histories[i]?.finish() } catch { writeFailures.append("\(prefix)_stats_history.csv: \(error)") }
            }
            write(CSVReport.comparison(comparison), csv + "_compare.csv")
        }
        if let junit { write(JUnitReport.render(suites: variants.map { ("cicada thresholds: \(scenario.name) [\($0.name)]", $0.result) }), junit) }
        if let summaryMd {
            write(comparison.markdown() + "\n" + variants.map { MarkdownSummary.render($0.result) }.joined(separator: "\n"), summaryMd)
        }
        for f in writeFailures { printError("error: cannot write report \(f)") }

        if results.contains(where: { $0.stopReason == .interrupted }), receivedSignal.load(ordering: .relaxed) != 0 { throw ExitCode(Cicada.Exit.signal) }
        if !writeFailures.isEmpty { throw ExitCode(Cicada.Exit.toolError) }
        if !results.allSatisfy(\.passed) { throw ExitCode(Cicada.Exit.thresholdsFailed) }
    }

    /// A variant name as part of a file name: letters, digits, `.`, `-` and `_` kept, the rest `_`.
    static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}
