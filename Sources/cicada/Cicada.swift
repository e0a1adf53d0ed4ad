import ArgumentParser
import CicadaCore
import CicadaSession
import CicadaTransport
import Foundation

/// The `cicada` command: the composition root. Only this target decides where output goes,
/// owns signals and chooses exit codes.
@main
struct Cicada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cicada",
        abstract: "Load testing for model-serving endpoints: truthful latency, thresholds, reports.",
        version: CicadaVersion.current,
        subcommands: [Run.self, Validate.self, Serve.self, Sweep.self, Target.self, Report.self, Diff.self, Merge.self, K8s.self, Dash.self]
    )

    /// Parses and runs, mapping every failure to a documented exit code.
    static func main() {
        // Every connection is a file: take the whole hard limit, as Go's runtime does, so a
        // default soft limit of 1024 does not cap a run at ~1000 users (see FileLimit).
        FileLimit.raiseToHard()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch let e as SessionError {
            switch e.kind {
            case .usage:
                printError(e.description)
                Foundation.exit(ExitStatus.usage)
            case .tool:
                printError("error: " + e.description)
                Foundation.exit(ExitStatus.toolError)
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(ExitStatus.ok)
            }
            printError(message)
            Foundation.exit(ExitStatus.usage)
        }
    }
}
