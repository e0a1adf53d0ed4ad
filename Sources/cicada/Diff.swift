import ArgumentParser
import CicadaCore
import CicadaReport
import CicadaSession
import Foundation

/// `cicada diff BASE.json NEW.json --max-regression 'p(99)=+10%'`: a regression gate against a
/// stored baseline run.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two JSON reports of one scenario side by side; exit 99 when a bound is broken.",
        discussion: "Bounds: [task:] figure=+N% or +Nms for latency (p(50)..p(99.99), mean, max, raw.p(99)), error_rate=+N% (percentage points), qps=-N%. Exit 0: no bound broken; 99: a bound broken; 2: the reports cannot be compared.")

    @Argument(help: "The baseline's JSON report.") var base: String
    @Argument(help: "The new run's JSON report.") var new: String
    @Option(name: .customLong("max-regression"), help: "A bound, e.g. 'p(99)=+10%' or 'predict: p(95)=+5ms' (repeatable).") var bounds: [String] = []
    @Flag(help: "Plain ASCII marks.") var plain = false

    func run() throws {
        func read(_ path: String) throws -> String {
            guard let d = FileManager.default.contents(atPath: path) else {
                printError("error: \(path): cannot read")
                throw ExitCode(ExitStatus.usage)
            }
            return String(decoding: d, as: UTF8.self)
        }
        let b = try read(base), n = try read(new)
        do {
            let parsed = try bounds.map { text throws(RunDiffError) in try RegressionBound(parsing: text) }
            let diff = try RunDiff(base: b, new: n, bounds: parsed)
            print(diff.text(plain: plain), terminator: "")
            if diff.regressed { throw ExitCode(ExitStatus.thresholdsFailed) }
        } catch let e as RunDiffError {
            printError("error: \(e.description.replacingOccurrences(of: "the baseline", with: base).replacingOccurrences(of: "the new report", with: new))")
            throw ExitCode(ExitStatus.usage)
        }
    }
}
