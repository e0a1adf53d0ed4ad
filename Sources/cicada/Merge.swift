import ArgumentParser
import CicadaSession
import Foundation

/// `cicada merge DIR_OR_FILE...`: adds shard artifacts into one run's summary and reports.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge shard artifacts (cicada run --out) into one run: summary, reports, thresholds.",
        discussion: """
        Histograms and counters are added exactly; rates, goodput and every threshold are computed on \
        the merged data. Exit codes: 0 all thresholds passed, 99 a threshold failed or fewer shards than \
        --min-shards (default: all), 2 an artifact is unreadable or from another run, 1 a report could not be written.
        """)

    @Argument(help: "Shard artifacts, or folders holding shard-*.json files.") var inputs: [String]
    @Option(help: "Fail (exit 99) with fewer shards than this; with fewer than all but at least this many, only warn (default: all shards).") var minShards: Int?
    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write Locust-compatible CSV files with this prefix.") var csv: String?
    @Option(help: "Write a JUnit XML file (one test case per threshold).") var junit: String?
    @Option(help: "Write a Markdown summary (for a CI job summary).") var summaryMd: String?
    @Option(help: "Write a self-contained HTML report.") var html: String?
    @Option(help: "Write the merged artifact here (it merges again like a shard's).") var artifact: String?
    @Option(help: "Warn when shard clocks or starts disagree by more than this many milliseconds.") var skewBoundMs = 50.0
    @Flag(help: "Plain ASCII marks in the summary.") var plain = false

    func run() throws {
        let request = MergeRequest(inputs: inputs, reports: ReportRequest(json: json, csvPrefix: csv, junit: junit, markdown: summaryMd, html: html),
                                   minShards: minShards, artifact: artifact, plain: plain, skewBound: skewBoundMs / 1000)
        let status = try MergeSession.run(request, output: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }
}
