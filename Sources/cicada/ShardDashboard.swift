#if canImport(Glibc)
import Glibc
#endif
import CicadaCore
import CicadaDashboard
import CicadaSession
import CicadaTerminal
import Foundation
import Synchronization

/// `cicada dash --shards` in a terminal: the same ncurses dashboard as `cicada run`, fed by the
/// shards' merged live state instead of a run of this process.
///
/// A polling thread reads every shard's `GET /live` each interval into a ``ShardLiveFeed``
/// (histograms added, so percentiles are exact) and posts the merged snapshot and a timeline
/// point; the UI thread runs the pure ``DashboardController`` as `cicada run` does, with a
/// shard table. Load keys (space, `w`/`s`, `+`/`-`, `r`) are sent to every shard's
/// `POST /control` on a background queue, so a slow or dead shard never blocks the screen;
/// each shard's answer shows in the table. `q` ends the dashboard, never the shards.
final class ShardDashboard: @unchecked Sendable {
    let screen: TerminalScreen
    let bases: [String]
    let token: String?
    let interval: Duration
    let feed: Mutex<ShardLiveFeed>
    /// What the polling thread posted since the UI thread last looked.
    let inbox = Mutex<(snapshot: Snapshot?, points: [TimelinePoint])>((nil, []))
    let quit = Atomic<Bool>(false)
    let clock = ContinuousClock()
    let origin: ContinuousClock.Instant
    /// Touched only on the UI thread.
    private var driver: DashboardDriver

    /// A dashboard over `feed`, which has had at least one answer (its scenario and load model
    /// configure the controller).
    init(screen: TerminalScreen, feed: ShardLiveFeed, token: String?, interval: Duration, color: Bool, origin: ContinuousClock.Instant) {
        self.screen = screen; self.bases = feed.urls; self.token = token; self.interval = interval
        self.origin = origin
        var configuration = DashboardController.Configuration(
            scenarioName: feed.scenario ?? "shards", targetDescription: "\(feed.urls.count) shards, merged live (exact histograms)",
            runTime: nil, isOpenModel: feed.isOpenModel, unicode: screen.unicode, color: color)
        configuration.followsShards = true
        let lane = DashboardLane(name: "all shards", config: "", p99ThresholdMillis: feed.p99ThresholdMillis)
        driver = DashboardDriver(screen: screen, controller: DashboardController(configuration: configuration, lanes: [lane]))
        self.feed = Mutex(feed)
        if let snap = feed.mergedSnapshot { inbox.withLock { $0.snapshot = snap } }
    }

    /// Seconds since `origin` (the feed's clock).
    var now: Double { (clock.now - origin).seconds }

    /// Polls on a thread of its own until the dashboard ends.
    func startPolling() {
        let t = Thread { [self] in
            while !quit.load(ordering: .acquiring) && !stopSignalReceived() {
                let started = clock.now
                let answers = ShardDash.pollLive(bases, timeout: .seconds(2))
                let at = now
                if let (snap, point) = feed.withLock({ $0.take(answers, at: at) }) {
                    inbox.withLock { box in
                        box.snapshot = snap
                        if let point { box.points.append(point) }
                        if box.points.count > DashboardLane.historyLimit { box.points.removeFirst(box.points.count - DashboardLane.historyLimit) }
                    }
                }
                while clock.now < started + interval, !quit.load(ordering: .acquiring), !stopSignalReceived() { usleep(20_000) }
            }
        }
        t.name = "cicada-dash-poll"
        t.start()
    }

    /// Runs the UI on the calling thread until `q`, a stop signal, or the terminal goes away;
    /// then restores the terminal.
    func run() {
        startPolling()
        _ = TerminalLoop.run(isGone: { screen.isGone }, shouldQuit: { quit.load(ordering: .acquiring) }) { driver.turn(host: self) }
        quit.store(true, ordering: .releasing)
        TerminalLoop.restore(screen)
    }

    /// The shard table's lines now.
    static func lines(_ shards: [ShardLiveFeed.Shard]) -> [ShardLine] {
        shards.map { s in
            let state: String
            if !s.up { state = s.ageSeconds.map { "stale \(Int($0.rounded()))s" } ?? "down" } else if s.finished { state = "finished" } else if s.paused { state = "paused" } else { state = "up" }
            var line = ShardLine(index: s.index, url: s.url, state: state, healthy: s.up, qps: s.qps, p99Micros: s.p99Micros, ack: s.ack)
            line.rateScale = s.rateScale
            return line
        }
    }

    /// Sends `command` to every shard in the background; each answer lands in the shard table.
    func fanOut(_ command: ShardControlCommand, label: String) {
        feed.withLock { f in for i in bases.indices { f.acknowledge("sending \(label)", shard: i) } }
        DispatchQueue.global().async { [self] in
            let answers = ShardDash.send(command, to: bases, token: token)
            feed.withLock { f in
                for (i, a) in answers.enumerated() {
                    switch a {
                    case .success: f.acknowledge("ok: \(label)", shard: i)
                    case .failure(let e): f.acknowledge("failed: \(e.message)", shard: i)
                    }
                }
            }
        }
    }
}

extension ShardDashboard: DashboardHost {
    func refresh(_ controller: inout DashboardController) {
        let (snapshot, points) = inbox.withLock { box in
            defer { box = (nil, []) }
            return box
        }
        for p in points { controller.append(p, lane: 0) }
        // The thresholds judged once on the merged shards (never per shard).
        if let s = snapshot { controller.update(snapshot: s, thresholds: feed.withLock { $0.thresholdResults(on: s) } ?? [], lane: 0) }
        // The chart's p99 line follows the thresholds as shards answer (the first may send none).
        controller.update(p99ThresholdMillis: feed.withLock { $0.p99ThresholdMillis }, lane: 0)
        let at = now
        controller.update(shards: Self.lines(feed.withLock { $0.shards(at: at) }))
        controller.update(engine: feed.withLock { $0.mergedEngines }.map(Self.reading), lane: 0)
    }

    /// The shards' engines as the engine panel shows them: every figure modelled, and labelled so.
    static func reading(_ e: ShardLiveState.MergedEngines) -> EngineReading {
        // Queues and batches are summed over the shards' engines, memory is the fullest one's.
        let label = e.engines == 1 ? e.label : "\(e.label) (\(e.engines) engines)"
        var line = EngineLine(presetName: e.preset, maxBatchSize: e.maxBatchSize, preferredBatchSizes: [], maxQueueDelayMicros: e.maxQueueDelayUs,
                              queueSize: e.queueSize, averageBatchSize: e.averageBatchSize, batchSizes: e.batchSizes, cacheHitRate: nil, label: label)
        if e.preset == "continuous" { line.maxNumSeqs = e.maxBatchSize; line.kvCacheUsage = e.kvCacheUsage }
        return EngineReading(line: line, memoryFraction: e.memoryFraction, presetNames: [], baseURL: "")
    }

    func perform(_ action: DashboardAction) -> DashboardActionResult {
        switch action {
        case .quit: quit.store(true, ordering: .releasing)
        case .switchToEngine: return .failed("the shards' targets are their own")
        default:
            // Batching keys have no engine here; notes are recorded by each shard when it applies a command.
            if let (command, label) = Self.command(for: action) { fanOut(command, label: label) }
        }
        return .done
    }

    /// The `POST /control` command a dashboard action becomes, with the label its
    /// acknowledgement shows; nil for the actions the shards are not sent. `+`/`-` become
    /// `rate_scale` (each shard's own multiplier scaled), so a shard at x2 goes to x2.2.
    static func command(for action: DashboardAction) -> (ShardControlCommand, String)? {
        switch action {
        case .pause(let paused): return (paused ? .pause : .resume, paused ? "pause" : "resume")
        case .addUsers(let n): return (.addUsers(n), "users \(n > 0 ? "+" : "")\(n)")
        case .setRateScale(let s): return (.setRateScale(s), "rate x\(Format.number(s, digits: 2))")
        case .scaleRate(let f):
            // 1.1 and 1/1.1 read as "x1.1" and "/1.1".
            var digits = Format.number(f >= 1 ? f : 1 / f, digits: 3)
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
            return (.scaleRate(f), "rate \(f >= 1 ? "x" : "/")\(digits) of its own")
        case .reset: return (.reset, "reset")
        default: return nil
        }
    }
}
