import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaTransport
import Foundation

/// What a finished session measured and wrote.
public struct SessionResult: Sendable {
    /// One result per lane, in the lanes' order.
    public var results: [RunResult]
    /// The comparison of a `compare:` file; nil for a single run.
    public var comparison: Comparison?
    /// The report files that could not be written.
    public var reportFailures: [ReportFailure]
    /// The exit status: ``ExitStatus``.
    public var exitStatus: Int32
}

extension RunSession {
    /// Runs the load under `view` (or progress lines when it is nil), prints the summary to
    /// `output`, writes every report, and stops everything the session started.
    ///
    /// - Parameters:
    ///   - stopSignal: whether a stop signal (SIGINT/SIGTERM/SIGHUP) arrived; polled to stop the load
    ///     (as is the view's quit key), and asked once more to tell a signal from a quit key.
    /// - Throws: ``SessionError``: `.tool` when the history file cannot be created or a run
    ///   cannot start.
    public func run(view: (any LiveView)?, output: SessionOutput, stopSignal: @escaping @Sendable () -> Bool) throws(SessionError) -> SessionResult {
        defer { close() }
        let comparing = compare != nil
        let duration = scenario.load.duration
        if request.progress && view == nil {
            for lane in lanes {
                let prefix = comparing ? "[\(lane.name)] " : ""
                lane.run.onProgress = { snap in output.log(prefix + ProgressLine.format(snap, duration: duration)) }
            }
        }
        // before_run hooks (e.g. a prefix-cache reset), once per lane's target, before any load:
        // a failing one stops the run (exit 1), since the figures would not be what was asked.
        for lane in lanes {
            let plan = lane.run.plan
            for hook in plan.scenario.beforeRun {
                do {
                    let status = try HTTPHook.send(hook, base: plan.baseURL, headers: plan.headers, insecure: plan.scenario.insecure)
                    if view == nil { output.log("cicada: before_run \(hook.method) \(hook.url(base: plan.baseURL)) -> HTTP \(status)") }
                } catch {
                    throw SessionError.tool("before_run failed, no load sent: \(error.description)")
                }
            }
        }
        let sinks = request.reports.sinks() + (try shardSinks())
        for sink in sinks { try sink.prepare(lanes, comparing: comparing) }
        let status = try startStatusServer(output: output)
        defer { status?.stop() }
        // Telemetry, polled on its own thread per lane; the runner asks it for a summary.
        for lane in lanes {
            guard let p = TelemetryChoice.poller(scenario.telemetry, endpoints: lane.telemetry) else { continue }
            lane.run.telemetry = p
            servers.adopt(p)
        }

        // The consistency probe (`consistency:`): its own thread per lane, counted apart from the load.
        let probers = lanes.map { lane in lane.run.plan.scenario.consistency.map { ConsistencyProber(spec: $0, plan: lane.run.plan, control: lane.run.control) } }
        for (lane, prober) in zip(lanes, probers) {
            guard let prober else { continue }
            // Every snapshot carries the findings so far: the live panel judges them as they come.
            prober.attach(to: lane.run)
            prober.start()
        }
        var probesStopped = false
        defer { if !probesStopped { for p in probers { _ = p?.stop() } } }

        // --requests-out: a writer thread of its own, fed by the runner.
        var requestLog: RequestLogWriter?
        if let path = request.requestsOut, !comparing {
            let run = lanes[0].run
            let control = run.control
            let writer = try RequestLogWriter(path: path, plan: run.plan, runStartNanos: { control.runStartNanos })
            run.requestSink = writer
            requestLog = writer
        }

        // SIGINT/SIGTERM/SIGHUP (or the view's q) stop the load; everything measured is still reported.
        if view == nil { startLines.forEach(output.log) }
        var results: [RunResult]
        waitForStartAt(output: output, stopSignal: stopSignal)
        view?.start()
        do {
            defer { view?.stop() }
            let shouldStop: @Sendable () -> Bool = { stopSignal() || (view?.quitRequested ?? false) }
            if comparing {
                results = try CompareRun(lanes: lanes.map { CompareRun.Lane(name: $0.name, run: $0.run) }).run(shouldStop: shouldStop)
                // Each variant's own intervals, as a single run's, so the comparison can say
                // which differences are beyond noise.
                for i in results.indices { results[i].computeIntervals(repetitions: [results[i]], seed: scenario.seed) }
            } else {
                results = [try runRepeated(shouldStop: shouldStop, output: output, quiet: view != nil)]
            }
        } catch {
            _ = requestLog?.finish()
            throw .tool("\(error)")
        }
        if let requestLog { results[0].requestLog = requestLog.finish() }
        for i in results.indices {
            results[i].consistency = probers[i]?.stop()
            results[i].snapshot.consistency = results[i].consistency
        }
        probesStopped = true
        var engines = lanes.map(\.engine)
        if !comparing, engines[0] == nil, let started = view?.engine {
            engines[0] = started
            servers.adopt(started)
        }

        // What the figures mean, with the engine's batch-size advice where it ran.
        let rules = DiagnosisRules(limits: scenario.diagnosisLimits)
        for i in results.indices {
            let batch = engines[i]?.batchMemoryFacts(fitFraction: rules.limits.fitFraction)
            results[i].diagnoses = rules.evaluate(DiagnosisFacts(result: results[i], batchMemory: batch))
        }
        if !comparing, let spec = lanes[0].run.plan.scenario.split {
            // Per-target figures and the canary verdict, with the weights in force at the end.
            let control = lanes[0].run.control
            results[0].split = SplitResult(spec: spec, snapshot: results[0].snapshot, finalWeights: control.splitWeights,
                                           shifts: control.splitShifts, runStartNanos: control.runStartNanos)
        }
        let variants = lanes.indices.map { i in
            VariantResult(name: lanes[i].name, config: lanes[i].config, result: results[i], engine: engines[i].map(Self.facts))
        }
        var comparison: Comparison?
        if let compare {
            for (i, v) in variants.enumerated() {
                let rule = String(repeating: request.plain ? "=" : "═", count: 3)
                output.summary("\(rule) variant \(v.name)\(i == compare.baselineIndex ? " (baseline)" : ""): \(v.config) \(rule)\n")
                output.summary(summary(v.result, engine: engines[i]) + "\n")
            }
            let c = Comparison(variants: variants, baselineIndex: compare.baselineIndex)
            output.summary(c.text(plain: request.plain))
            comparison = c
        } else {
            output.summary(summary(results[0], engine: engines[0]))
        }
        let outcome = SessionOutcome(scenarioName: scenario.name, variants: variants, comparison: comparison)
        let failures = sinks.flatMap { $0.write(outcome) }
        for f in failures { output.log("error: cannot write report \(f)") }
        // The stored baseline: the same scenario's earlier report, compared figure by figure.
        var regressed = false
        if let baseline = scenario.baseline, !comparing {
            let newReport = JSONReport(startNanos: results[0].startNanos).render(results[0])
            if let base = FileManager.default.contents(atPath: baseline.file) {
                do {
                    let diff = try RunDiff(base: String(decoding: base, as: UTF8.self), new: newReport, bounds: baseline.bounds)
                    output.summary("\nBASELINE \(baseline.file)\n" + diff.text(plain: request.plain))
                    regressed = diff.regressed
                } catch {
                    output.log("error: baseline \(baseline.file): \(error.description)")
                    regressed = true
                }
            } else {
                output.log("error: baseline \(baseline.file) could no longer be read")
                regressed = true
            }
        }
        if let status {
            status.update(results[0].snapshot, finished: true)
            lingerForScrapers(stopSignal: stopSignal)
        }
        return SessionResult(results: results, comparison: comparison, reportFailures: failures,
                             exitStatus: Self.exitStatus(results, reportFailures: failures, signalled: stopSignal(), regressed: regressed))
    }

    /// Starts the status server when asked for (a single run only), fed each second's snapshot.
    func startStatusServer(output: SessionOutput) throws(SessionError) -> StatusServer? {
        guard let port = request.statusPort else { return nil }
        let server = StatusServer(scenario: scenario.name)
        let bound: Int
        do { bound = try server.start(host: request.statusHost, port: port) } catch {
            server.stop()
            throw .usage("error: --status-port \(port): cannot listen on \(request.statusHost):\(port): \(error)")
        }
        let run = lanes[0].run
        let previous = run.onSecond
        run.onSecond = { snap in previous?(snap); server.update(snap) }
        var controls = StatusServer.Controls(shard: request.shard, isOpenModel: isOpenModel, control: run.control, token: request.statusToken,
                                             note: { [weak run] detail in run?.note(kind: "control", detail: detail) })
        controls.thresholds = run.thresholds.map(\.spec)
        if let engine = lanes[0].engine { controls.engine = { Self.liveFigures(engine.stats) } }
        server.attach(controls)
        output.log("cicada: live figures at http://\(request.statusHost):\(bound)/metrics (Prometheus), /status and /live; load keys at POST /control")
        return server
    }

    /// Keeps the status server up with the final figures for `statusLinger` (a stop signal ends it).
    func lingerForScrapers(stopSignal: @escaping @Sendable () -> Bool) {
        let end = ContinuousClock.now + request.statusLinger
        while ContinuousClock.now < end, !stopSignal() { Thread.sleep(forTimeInterval: 0.05) }
    }

    /// The exit status: 105 when a stop signal interrupted the load, else 1 when a report could not
    /// be written, else 99 when a threshold failed or the run regressed past its baseline, else 0.
    public static func exitStatus(_ results: [RunResult], reportFailures: [ReportFailure], signalled: Bool, regressed: Bool = false) -> Int32 {
        if signalled, results.contains(where: { $0.stopReason == .interrupted }) { return ExitStatus.signal }
        if !reportFailures.isEmpty { return ExitStatus.toolError }
        if !results.allSatisfy(\.passed) || regressed { return ExitStatus.thresholdsFailed }
        return ExitStatus.ok
    }

    /// One run's summary: the table, LLM figures, the engine's own figures and telemetry.
    func summary(_ result: RunResult, engine: EngineServer?) -> String {
        var s = SummaryPrinter(plain: request.plain).render(result)
        if let llm = LLMReport.text(result, goodputConfigured: result.goodputConfigured) { s += "\n" + llm }
        if let b = BreakdownReport.text(result) { s += "\n" + b }
        if let sp = SplitReport.text(result, plain: request.plain) { s += "\n" + sp }
        if let c = ConfidenceReport.text(result) { s += "\n" + c }
        if let engine { s += "\n" + engine.stats.summaryLines().joined(separator: "\n") + "\n" }
        if let t = TelemetryReport.lines(result.snapshot.telemetry) { s += "\n" + t.joined(separator: "\n") + "\n" }
        if let c = ConsistencyReport.lines(result.consistency) { s += "\n" + c.joined(separator: "\n") + "\n" }
        return s
    }

    /// The engine's figures a comparison shows beside its variant.
    static func facts(_ engine: EngineServer) -> EngineFacts {
        let s = engine.stats
        return EngineFacts(preset: s.presetName ?? "custom", averageBatchSize: s.averageBatchSize,
                           peakMemoryFraction: s.memoryTotalBytes > 0 ? Double(s.memoryPeakBytes) / Double(s.memoryTotalBytes) : nil,
                           outOfMemory: s.outOfMemory)
    }
}
