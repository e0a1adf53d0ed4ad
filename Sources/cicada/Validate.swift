import ArgumentParser
import CicadaCore
import CicadaScenario

/// `cicada validate FILE...`: checks scenario files without running them.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files and report every error with file:line:column.")

    @Argument(help: "Scenario files (YAML).")
    var files: [String]

    func run() throws {
        var bad = 0
        for f in files {
            do {
                let s = try ScenarioReader().read(path: f)
                print("\(f): ok (\(s.name): \(s.tasks.count) task(s), \(s.thresholds.count) threshold(s), \(describe(s.load)))")
            } catch {
                bad += 1
                for issue in error.issues { printError(issue.description) }
            }
        }
        if bad > 0 { throw ExitCode(Cicada.Exit.usage) }
    }
}

func describe(_ load: LoadProfile) -> String {
    switch load {
    case .closed(let c): return "closed model, up to \(c.peakUsers) users"
    case .open(let o): return "open model, up to \(Format.number(o.stages.map(\.rate).max() ?? o.startRate, digits: 1)) arrivals/s"
    }
}
