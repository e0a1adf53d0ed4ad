import ArgumentParser
import CicadaSession
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
    @Option(help: "Write a self-contained HTML page (latency against throughput per configuration, Pareto front, recommendation).") var html: String?
    @Flag(help: "No interactive display (the default when stdout is not a terminal or CI is set).") var headless = false

    func run() throws {
        let document = try RunSession.document(at: file)
        var session = try SweepSession(document: document, file: file, workers: workers, json: json, csv: csv)
        session.html = html
        installStopSignalHandlers()
        // In a terminal, the live sweep (n skips a point, q stops the sweep); else lines as before.
        let view = headless || !Run.isInteractiveTerminal(ProcessInfo.processInfo.environment) ? nil : LiveSweep.make(for: session)
        let result = try session.run(view: view, output: .standard, stopSignal: stopSignalReceived)
        if result.exitStatus != ExitStatus.ok { throw ExitCode(result.exitStatus) }
    }
}
