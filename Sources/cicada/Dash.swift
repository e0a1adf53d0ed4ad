import ArgumentParser
import CicadaCore
import CicadaSession
@preconcurrency import Foundation
@preconcurrency import Glibc

/// `cicada dash --shards URL...`: the shards' live figures merged, one text line a second.
struct Dash: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the live figures of running shards (their --status-port /metrics) into one line a second.",
        discussion: """
        Headless: counters and gauges are added, the corrected latency histograms added bucket by bucket and \
        p50/p99 read from the merged buckets (Prometheus-style interpolation, coarser than a report's). \
        It stops after --count lines, or once every shard that answered has stopped answering for three polls.
        """)

    @Option(parsing: .upToNextOption, help: "Shard status URLs (http://HOST:PORT, /metrics added).") var shards: [String] = []
    @Option(help: "A file of shard status URLs, one a line (# comments).") var shardsFile: String?
    @Option(help: "Poll interval, e.g. 1s or 500ms.") var interval = "1s"
    @Option(help: "Stop after this many lines.") var count: Int?

    func run() throws {
        guard let every = DurationText.parse(interval), every > .zero else {
            throw ValidationError("--interval '\(interval)': expected a duration such as 1s or 500ms")
        }
        if let count, count < 1 { throw ValidationError("--count \(count): must be at least 1") }
        let urls = try ShardDash.urls(shards, file: shardsFile)
        setvbuf(stdout, nil, _IOLBF, 0)
        let status = ShardDash.run(urls: urls, interval: every, count: count, output: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }
}
