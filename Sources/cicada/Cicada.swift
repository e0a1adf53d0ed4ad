import ArgumentParser
import CicadaCore
import Foundation

/// The `cicada` command: the composition root. Only this target decides where output goes,
/// owns signals and chooses exit codes.
@main
struct Cicada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cicada",
        abstract: "Load testing for model-serving endpoints: truthful latency, thresholds, reports.",
        version: "0.1.0",
        subcommands: [Run.self, Validate.self, Serve.self, Sweep.self, Target.self]
    )

    /// Exit codes (k6's where they overlap).
    enum Exit {
        static let ok: Int32 = 0
        static let toolError: Int32 = 1
        static let usage: Int32 = 2
        static let thresholdsFailed: Int32 = 99
        static let signal: Int32 = 105
    }

    /// Parses and runs, mapping every failure to a documented exit code.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch let e as ScenarioProblem {
            FileHandle.standardError.write(Data((e.description + "\n").utf8))
            Foundation.exit(Exit.usage)
        } catch let e as ToolFailure {
            FileHandle.standardError.write(Data(("error: " + e.description + "\n").utf8))
            Foundation.exit(Exit.toolError)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(Exit.ok)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(Exit.usage)
        }
    }
}

/// A problem with the user's input (scenario, flags): exit code 2.
struct ScenarioProblem: Error, CustomStringConvertible {
    var description: String
}

/// Cicada itself could not do its job (I/O, libcurl): exit code 1.
struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}
