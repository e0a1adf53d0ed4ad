import ArgumentParser
import CicadaCore
import CicadaSession
import CicadaTerminal
@preconcurrency import Foundation
@preconcurrency import Glibc

/// `cicada dash --shards URL...`: the shards' live figures merged, in the ncurses dashboard on
/// a terminal (load keys fanned out to every shard), else one text line a second.
struct Dash: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the live figures of running shards (their --status-port) into one dashboard, or one line a second.",
        discussion: """
        In a terminal: the same dashboard as cicada run, fed by every shard's /live state (histograms added: \
        exact percentiles), with a shard table, the shards' thresholds judged once on the merged figures, and an engine panel \
        when the shards run embedded engines; space, w/s, +/- and r are sent to every shard's POST /control (+/- scale each \
        shard's own rate multiplier). \
        q ends the dashboard, not the shards. \
        Headless (no terminal, or --headless): counters and gauges are added, the corrected latency histograms added \
        bucket by bucket and p50/p99 read from the merged buckets (Prometheus-style interpolation, coarser than a report's). \
        It stops after --count lines, or once every shard that answered has stopped answering for three polls.
        """)

    @Option(parsing: .upToNextOption, help: "Shard status URLs (http://HOST:PORT, /metrics added).") var shards: [String] = []
    @Option(help: "A file of shard status URLs, one a line (# comments).") var shardsFile: String?
    @Option(help: "Poll interval, e.g. 1s or 500ms.") var interval = "1s"
    @Option(help: "Stop after this many lines.") var count: Int?
    @Flag(help: "Text lines even in a terminal.") var headless = false
    @Option(help: "Environment variable holding the shards' bearer token for POST /control (their --status-token-env).") var tokenEnv: String?

    func run() throws {
        guard let every = DurationText.parse(interval), every > .zero else {
            throw ValidationError("--interval '\(interval)': expected a duration such as 1s or 500ms")
        }
        if let count, count < 1 { throw ValidationError("--count \(count): must be at least 1") }
        let urls = try ShardDash.urls(shards, file: shardsFile)
        var token: String?
        if let env = tokenEnv {
            guard let t = ProcessInfo.processInfo.environment[env], !t.isEmpty else { throw ValidationError("--token-env: \(env) is not set") }
            token = t
        }
        setvbuf(stdout, nil, _IOLBF, 0)
        if !headless, count == nil, Run.isInteractiveTerminal(ProcessInfo.processInfo.environment) {
            installStopSignalHandlers()
            if try dashboard(bases: urls.map(ShardDash.baseURL), token: token, every: every) { return }
        }
        let status = ShardDash.run(urls: urls, interval: every, count: count, output: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// The ncurses dashboard: waits for a first answer from `/live`, then draws until `q` or a
    /// stop signal. False when the terminal cannot take a dashboard (said on stderr; the text
    /// lines follow).
    func dashboard(bases: [String], token: String?, every: Duration) throws -> Bool {
        let origin = ContinuousClock.now
        var feed = ShardLiveFeed(urls: bases)
        printError("cicada: waiting for a first answer from \(bases.map { $0 + "/live" }.joined(separator: ", ")) (Ctrl-C stops)")
        while !stopSignalReceived() {
            let answers = ShardDash.pollLive(bases, timeout: .seconds(2))
            _ = feed.take(answers, at: (ContinuousClock.now - origin).seconds)
            if feed.anyAnswered { break }
            let next = ContinuousClock.now + every
            while ContinuousClock.now < next, !stopSignalReceived() { usleep(20_000) }
        }
        if stopSignalReceived() { return true }
        let color = ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let screen: TerminalScreen
        do { screen = try TerminalScreen(color: color) } catch {
            printError("cicada: no dashboard (\(error)); text lines instead")
            return false
        }
        ShardDashboard(screen: screen, feed: feed, token: token, interval: every, color: color, origin: origin).run()
        return true
    }
}
