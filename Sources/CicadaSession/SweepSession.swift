import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaScenario
import CicadaSweep
import CicadaTransport

/// One `cicada sweep`: walks a file's `sweep:` grid (batching presets, a batching grid or named
/// targets, by arrival rates or concurrency), prints each point and the analysis, writes the
/// JSON and CSV, and chooses the exit status.
public struct SweepSession: Sendable {
    /// The scenario document with its `sweep:` block.
    public let document: ScenarioDocument
    /// The sweep grid.
    public let spec: SweepSpec
    /// Load-generating threads per point.
    public let workers: Int
    /// Where to write every point and the conclusions as JSON.
    public let json: String?
    /// Where to write every point as CSV.
    public let csv: String?
    /// Where to write the self-contained HTML page (latency against throughput, Pareto front).
    public var html: String?
    /// The engine each engine point starts, with the point's batching.
    let base: EngineConfig

    /// Checks that `document` (read from `file`) can be swept.
    ///
    /// - Throws: ``SessionError``, `.usage`: no `sweep:` block, an empty grid, HTTP/2 towards the
    ///   engine or a target that cannot speak it.
    public init(document: ScenarioDocument, file: String, workers: Int, json: String? = nil, csv: String? = nil) throws(SessionError) {
        guard let spec = document.sweep else { throw .usage("\(file): error: no 'sweep:' block (presets, rates, slo)") }
        guard !spec.configurations.isEmpty, !spec.levels.isEmpty else { throw .usage("\(file): error: sweep needs configurations and load levels") }
        let base = document.engine ?? EngineConfig()
        if document.scenario.http2 {
            for c in spec.configurations {
                guard case .target(let url) = c.kind else {
                    throw .usage("\(file): error: http2: the embedded engine speaks HTTP/1.1; sweep its configurations without http2")
                }
                if let why = Curl.http2Problem(baseURL: url) { throw .usage("\(file): error: sweep target '\(c.name)': http2: \(why)") }
            }
        }
        self.document = document; self.spec = spec; self.workers = workers; self.json = json; self.csv = csv; self.base = base
    }

    /// Runs every point (each point's line to `output.log`, or to `view` when there is one),
    /// prints the analysis to `output.summary` and writes the reports.
    ///
    /// With a `view` (the live dashboard), its `n` skips the current point and its `q` stops
    /// the sweep: points cut short are kept and labelled skipped, and whatever was measured is
    /// analysed and reported as a finished sweep's would be, with the same exit status.
    ///
    /// - Returns: the analysis, the files that could not be written and the exit status (105 on
    ///   a stop signal, else 1 when a file could not be written, else 0).
    /// - Throws: ``SessionError``, `.tool`, when a point cannot run.
    public func run(view: (any SweepView)? = nil, output: SessionOutput, stopSignal: @escaping @Sendable () -> Bool) throws(SessionError) -> (analysis: SweepAnalysis, reportFailures: [ReportFailure], exitStatus: Int32) {
        var runner = SweepRunner(scenario: document.scenario, spec: spec, workers: workers)
        let spec = spec
        if let view {
            // Lines on stderr would scribble over the dashboard: the view shows each point.
            runner.onPoint = { p in view.measured(p) }
            runner.onStage = { stage, run, engine in view.follow(stage, run: run, engine: engine) }
            runner.control = view.control
        } else {
            runner.onPoint = { p in output.log(SweepReport.pointLine(p, spec: spec)) }
        }
        runner.shouldStop = stopSignal
        let points: [SweepPoint]
        view?.start()
        do {
            defer { view?.stop() }
            points = try runner.run { [base] batching in var c = base; c.batching = batching; return c }
        } catch { throw .tool("\(error)") }
        let analysis = SweepAnalysis(points: points, p99SLOMillis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
        output.summary(SweepReport.text(analysis, spec: spec, engine: base))
        var failures: [ReportFailure] = []
        if let json { failures += writeAtomically(SweepReport.json(analysis, spec: spec, engine: spec.usesEngine ? base : nil), to: json) }
        if let csv { failures += writeAtomically(SweepReport.csv(points, spec: spec), to: csv) }
        if let html {
            do { failures += writeAtomically(try HTMLReport.render(json: SweepReport.json(analysis, spec: spec, engine: spec.usesEngine ? base : nil)), to: html) } catch {
                failures.append(ReportFailure(path: html, reason: error.description))
            }
        }
        for f in failures { output.log("error: cannot write \(f)") }
        let status = stopSignal() ? ExitStatus.signal : failures.isEmpty ? ExitStatus.ok : ExitStatus.toolError
        return (analysis, failures, status)
    }
}
