import ArgumentParser
import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaSession

/// `cicada validate FILE...`: checks scenario files without running them.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files and report every error with file:line:column.")

    @Argument(help: "Scenario files (YAML).")
    var files: [String]

    func run() throws {
        var bad = 0
        for f in files {
            do {
                let doc = try ScenarioReader().readDocument(path: f)
                let s = doc.scenario
                var extra = ""
                if let c = doc.compare { extra += "; compare: \(c.variants.map(\.name).joined(separator: " vs ")), baseline \(c.baseline)" }
                if let sw = doc.sweep { extra += "; sweep: \(sw.configurations.count) configuration(s) x \(sw.levels.count) \(sw.axis == .rate ? "rate(s)" : "concurrency level(s)")" }
                print("\(f): ok (\(s.name): \(s.tasks.count) task(s), \(s.thresholds.count) threshold(s), \(LoadRun.describe(s.load))\(extra))")
            } catch {
                bad += 1
                for issue in error.issues { printError(issue.description) }
            }
        }
        if bad > 0 { throw ExitCode(ExitStatus.usage) }
    }
}
