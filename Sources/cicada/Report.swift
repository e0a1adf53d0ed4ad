import ArgumentParser
import CicadaCore
import CicadaReport
import CicadaSession
import Foundation

/// `cicada report RUN.json --html OUT.html`: the HTML report of a finished run, from its JSON.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build a report from a run's JSON report (cicada.report/v1): --html for a self-contained page.")

    @Argument(help: "A JSON report written by `cicada run --json`.")
    var file: String

    @Option(help: "Write the self-contained HTML report here.")
    var html: String

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            printError("error: \(file): cannot read: \((error as NSError).localizedDescription)")
            throw ExitCode(ExitStatus.usage)
        }
        let page: String
        do { page = try HTMLReport.render(json: String(decoding: data, as: UTF8.self)) } catch {
            printError("error: \(file): \(error.description)")
            throw ExitCode(ExitStatus.usage)
        }
        do { try AtomicFile.write(page, to: html) } catch {
            printError("error: cannot write report \(html): \(error)")
            throw ExitCode(ExitStatus.toolError)
        }
        print("\(html): HTML report of \(file)")
    }
}
