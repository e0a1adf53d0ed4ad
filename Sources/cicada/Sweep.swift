import ArgumentParser
import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaReport
import CicadaScenario
import CicadaSweep
import CicadaTransport
import Foundation

/// `cicada sweep FILE`: walks the file's `sweep:` grid (batching presets, a batching grid or named
/// targets, by arrival rates or concurrency) and recommends a configuration.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sweep configurations (engine batching or named targets) over arrival rates or concurrency: sustainable throughput, Pareto front, recommendation.")

    @Argument(help: "Scenario file with an engine: block, an arrival: block and a sweep: block.") var file: String
    @Option(help: "Load-generating threads.") var workers = 1
    @Option(help: "Write every point and the conclusions as JSON.") var json: String?
    @Option(help: "Write every point as CSV.") var csv: String?

    func run() throws {
        let document: ScenarioDocument
        do { document = try ScenarioReader().readDocument(path: file) } catch { throw ScenarioProblem(description: error.description) }
        guard let spec = document.sweep else { throw ScenarioProblem(description: "\(file): error: no 'sweep:' block (presets, rates, slo)") }
        guard !spec.configurations.isEmpty, !spec.levels.isEmpty else { throw ScenarioProblem(description: "\(file): error: sweep needs configurations and load levels") }
        let engineSpec = document.engine ?? EngineSpec()
        if document.scenario.http2 {
            for c in spec.configurations {
                guard case .target(let url) = c.kind else {
                    throw ScenarioProblem(description: "\(file): error: http2: the embedded engine speaks HTTP/1.1; sweep its configurations without http2")
                }
                if let why = Curl.http2Problem(baseURL: url) { throw ScenarioProblem(description: "\(file): error: sweep target '\(c.name)': http2: \(why)") }
            }
        }
        let base = try engineSpec.engineConfig()
        installStopSignalHandlers()
        var runner = SweepRunner(document: document, spec: spec, workers: workers)
        runner.onPoint = { p in
            let level = spec.axis == .rate ? "\(Format.number(p.rate, digits: 0))/s" : "\(Format.number(p.rate, digits: 0)) users"
            let stable = p.stable.map { $0 ? ", stable over its last \(Format.number(p.measuredSeconds ?? 0, digits: 1))s" : ", not stable by the time limit" } ?? ""
            printError("sweep: \(p.preset) @ \(level) -> \(Format.number(p.achievedQPS, digits: 1))/s, p99 \(p.p99Millis.map(Format.millis) ?? "-"), \(p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue)\(stable)")
        }
        runner.shouldStop = { receivedSignal.load(ordering: .relaxed) != 0 }
        let points: [SweepPoint]
        do {
            points = try runner.run { batching in var c = base; c.batching = batching; return c }
        } catch { throw ToolFailure(description: "\(error)") }
        let analysis = SweepAnalysis(points: points, p99SLOMillis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
        if spec.usesEngine { print("engine: \(engineSpec.gpu) / \(engineSpec.model) / \(engineSpec.precision) (modelled)") }
        for c in spec.configurations { if case .target(let url) = c.kind { print("target \(c.name): \(url)") } }
        if let rule = spec.stability {
            print("points stop when \(rule.windows) consecutive \(Format.number(rule.window.seconds, digits: 0))s windows agree within \(Format.number(rule.tolerance * 100, digits: 0))% (throughput and mean latency), else after \(DurationText.format(spec.measure))")
        }
        print(analysis.text(), terminator: "")
        var failures: [String] = []
        if let json {
            do { try AtomicFile.write(Self.json(analysis, spec: spec, engine: spec.usesEngine ? engineSpec : nil), to: json) } catch { failures.append("\(json): \(error)") }
        }
        if let csv {
            var out = "preset,\(spec.axis == .rate ? "rate" : "concurrency"),achieved_qps,p50_ms,p99_ms,error_rate,out_of_memory,avg_batch,memory_fraction,stable,measured_s,verdict\n"
            func opt(_ v: Double?, _ digits: Int) -> String { v.map { Format.number($0, digits: digits) } ?? "" }
            for p in points {
                var fields: [String] = [CSVReport.escape(p.preset), Format.number(p.rate, digits: 3), Format.number(p.achievedQPS, digits: 3)]
                fields += [opt(p.p50Millis, 3), opt(p.p99Millis, 3), opt(p.errorRate, 5), String(p.outOfMemory)]
                fields += [opt(p.averageBatchSize, 3), opt(p.memoryFraction, 4), p.stable.map { String($0) } ?? "", opt(p.measuredSeconds, 3)]
                fields.append(p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue)
                out += fields.joined(separator: ",") + "\n"
            }
            do { try AtomicFile.write(out, to: csv) } catch { failures.append("\(csv): \(error)") }
        }
        for f in failures { printError("error: cannot write \(f)") }
        if receivedSignal.load(ordering: .relaxed) != 0 { throw ExitCode(Cicada.Exit.signal) }
        if !failures.isEmpty { throw ExitCode(Cicada.Exit.toolError) }
    }

    static func json(_ a: SweepAnalysis, spec: SweepSpec, engine: EngineSpec?) -> String {
        func num(_ v: Double?) -> String { v.map { Format.number($0, digits: 3) } ?? "null" }
        let levelKey = spec.axis == .rate ? "rate" : "concurrency"
        let points = a.points.map { p in
            "{\"preset\":\(JSONText.quoted(p.preset)),\"\(levelKey)\":\(num(p.rate)),\"achieved_qps\":\(num(p.achievedQPS)),\"p50_ms\":\(num(p.p50Millis)),\"p99_ms\":\(num(p.p99Millis)),\"error_rate\":\(p.errorRate.map { Format.number($0, digits: 5) } ?? "null"),\"out_of_memory\":\(p.outOfMemory),\"avg_batch\":\(num(p.averageBatchSize)),\"memory_fraction\":\(p.memoryFraction.map { Format.number($0, digits: 4) } ?? "null"),\"stable\":\(p.stable.map(String.init) ?? "null"),\"measured_s\":\(num(p.measuredSeconds)),\"verdict\":\(JSONText.quoted(p.verdict(p99Millis: a.p99SLOMillis, maxErrorRate: a.maxErrorRate).rawValue))}"
        }
        let sustainable = a.sustainable.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"\(levelKey)\":\(num($0.rate)),\"throughput\":\(num($0.throughput)),\"p99_ms\":\(num($0.p99Millis))}" }
        let pareto = a.paretoFront.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"\(levelKey)\":\(num($0.rate))}" }
        let engineJSON = engine.map { "{\"gpu\":\(JSONText.quoted($0.gpu)),\"model\":\(JSONText.quoted($0.model)),\"precision\":\(JSONText.quoted($0.precision)),\"modelled\":true}" } ?? "null"
        let stability = spec.stability.map { "{\"windows\":\($0.windows),\"window_s\":\(num($0.window.seconds)),\"tolerance\":\(num($0.tolerance)),\"time_limit_s\":\(num(spec.measure.seconds))}" } ?? "null"
        return "{\"schema\":\"cicada.sweep/v1\",\"engine\":\(engineJSON),\"axis\":\(JSONText.quoted(spec.axis.rawValue)),\"stability\":\(stability),"
            + "\"slo\":{\"p99_ms\":\(num(a.p99SLOMillis)),\"error_rate\":\(Format.number(a.maxErrorRate, digits: 4))},"
            + "\"points\":[\(points.joined(separator: ","))],\"sustainable\":[\(sustainable.joined(separator: ","))],"
            + "\"pareto_front\":[\(pareto.joined(separator: ","))],\"recommendation\":\(a.recommendation.map(JSONText.quoted) ?? "null"),\"reason\":\(JSONText.quoted(a.reason))}\n"
    }
}
