import ArgumentParser
import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaReport
import CicadaScenario
import CicadaSweep
import Foundation

/// `cicada sweep FILE`: walks the file's `sweep:` grid of batching presets and arrival rates
/// against the embedded engine and recommends a configuration.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare batching configurations on the embedded engine: sustainable throughput, Pareto front, recommendation.")

    @Argument(help: "Scenario file with an engine: block, an arrival: block and a sweep: block.") var file: String
    @Option(help: "Load-generating threads.") var workers = 1
    @Option(help: "Write every point and the conclusions as JSON.") var json: String?
    @Option(help: "Write every point as CSV.") var csv: String?

    func run() throws {
        let document: ScenarioDocument
        do { document = try ScenarioReader().readDocument(path: file) } catch { throw ScenarioProblem(description: error.description) }
        guard let spec = document.sweep else { throw ScenarioProblem(description: "\(file): error: no 'sweep:' block (presets, rates, slo)") }
        guard !spec.presets.isEmpty, !spec.rates.isEmpty else { throw ScenarioProblem(description: "\(file): error: sweep needs presets and rates") }
        let engineSpec = document.engine ?? EngineSpec()
        let base = try engineSpec.engineConfig()
        installStopSignalHandlers()
        var runner = SweepRunner(document: document, spec: spec, workers: workers)
        runner.onPoint = { p in
            printError("sweep: \(p.preset) @ \(Format.number(p.rate, digits: 0))/s -> \(Format.number(p.achievedQPS, digits: 1))/s, p99 \(p.p99Millis.map(Format.millis) ?? "-"), \(p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue)")
        }
        runner.shouldStop = { receivedSignal.load(ordering: .relaxed) != 0 }
        let points: [SweepPoint]
        do {
            points = try runner.run { batching in var c = base; c.batching = batching; return c }
        } catch { throw ToolFailure(description: "\(error)") }
        let analysis = SweepAnalysis(points: points, p99SLOMillis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
        print("engine: \(engineSpec.gpu) / \(engineSpec.model) / \(engineSpec.precision) (modelled)")
        print(analysis.text(), terminator: "")
        var failures: [String] = []
        if let json {
            do { try AtomicFile.write(Self.json(analysis, engine: engineSpec), to: json) } catch { failures.append("\(json): \(error)") }
        }
        if let csv {
            var out = "preset,rate,achieved_qps,p50_ms,p99_ms,error_rate,out_of_memory,avg_batch,memory_fraction,verdict\n"
            for p in points {
                out += [p.preset, Format.number(p.rate, digits: 3), Format.number(p.achievedQPS, digits: 3),
                        p.p50Millis.map { Format.number($0, digits: 3) } ?? "", p.p99Millis.map { Format.number($0, digits: 3) } ?? "",
                        p.errorRate.map { Format.number($0, digits: 5) } ?? "", String(p.outOfMemory),
                        p.averageBatchSize.map { Format.number($0, digits: 3) } ?? "", p.memoryFraction.map { Format.number($0, digits: 4) } ?? "",
                        p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue].joined(separator: ",") + "\n"
            }
            do { try AtomicFile.write(out, to: csv) } catch { failures.append("\(csv): \(error)") }
        }
        for f in failures { printError("error: cannot write \(f)") }
        if receivedSignal.load(ordering: .relaxed) != 0 { throw ExitCode(Cicada.Exit.signal) }
        if !failures.isEmpty { throw ExitCode(Cicada.Exit.toolError) }
    }

    static func json(_ a: SweepAnalysis, engine: EngineSpec) -> String {
        func num(_ v: Double?) -> String { v.map { Format.number($0, digits: 3) } ?? "null" }
        let points = a.points.map { p in
            "{\"preset\":\(JSONText.quoted(p.preset)),\"rate\":\(num(p.rate)),\"achieved_qps\":\(num(p.achievedQPS)),\"p50_ms\":\(num(p.p50Millis)),\"p99_ms\":\(num(p.p99Millis)),\"error_rate\":\(p.errorRate.map { Format.number($0, digits: 5) } ?? "null"),\"out_of_memory\":\(p.outOfMemory),\"avg_batch\":\(num(p.averageBatchSize)),\"memory_fraction\":\(p.memoryFraction.map { Format.number($0, digits: 4) } ?? "null"),\"verdict\":\(JSONText.quoted(p.verdict(p99Millis: a.p99SLOMillis, maxErrorRate: a.maxErrorRate).rawValue))}"
        }
        let sustainable = a.sustainable.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"rate\":\(num($0.rate)),\"p99_ms\":\(num($0.p99Millis))}" }
        let pareto = a.paretoFront.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"rate\":\(num($0.rate))}" }
        return "{\"schema\":\"cicada.sweep/v1\",\"engine\":{\"gpu\":\(JSONText.quoted(engine.gpu)),\"model\":\(JSONText.quoted(engine.model)),\"precision\":\(JSONText.quoted(engine.precision)),\"modelled\":true},"
            + "\"slo\":{\"p99_ms\":\(num(a.p99SLOMillis)),\"error_rate\":\(Format.number(a.maxErrorRate, digits: 4))},"
            + "\"points\":[\(points.joined(separator: ","))],\"sustainable\":[\(sustainable.joined(separator: ","))],"
            + "\"pareto_front\":[\(pareto.joined(separator: ","))],\"recommendation\":\(a.recommendation.map(JSONText.quoted) ?? "null"),\"reason\":\(JSONText.quoted(a.reason))}\n"
    }
}
