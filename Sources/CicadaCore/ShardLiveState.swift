import Foundation

/// One shard's live state as its status server serves it at `GET /live` (`cicada.live/v1`,
/// docs/DISTRIBUTED.md): the run so far with every latency histogram whole, so that
/// `cicada dash --shards` adds the shards' histograms and reads exact percentiles, as
/// `cicada merge` does, rather than interpolating Prometheus buckets.
///
/// It holds the cumulative per-task stats, the default sliding window's stats (for the live
/// rates and the charts), the gauges and the shard's load knobs. Histograms use the shard
/// artifact's encoding (HdrHistogram V2, compressed, base64, with exact min, max and sum).
public struct ShardLiveState: Sendable, Equatable {
    /// The format's name and version.
    public static let schema = "cicada.live/v1"

    /// The scenario's name.
    public var scenario: String
    /// `--shard I/N` of the run serving it.
    public var shardIndex: Int
    public var shardCount: Int
    /// Whether the run has ended (the status server lingers with its final figures).
    public var finished: Bool
    /// Open model (arrival rate) rather than closed (users).
    public var isOpenModel: Bool
    /// Seconds since the shard's load started, and seconds its cumulative figures cover.
    public var elapsedSeconds: Double
    public var measuredSeconds: Double
    /// The shard's gauges now.
    public var users: Int
    public var inFlight: Int
    /// The shard's target user count (closed) or arrival rate (open) now.
    public var targetUsers: Int?
    public var targetRate: Double?
    /// The shard's load knobs (``RunControl``): paused, rate multiplier, user offset.
    public var paused: Bool
    public var rateScale: Double
    public var userOffset: Int
    /// Task names and methods in scenario order; ``perStat`` indexes into them.
    public var names: [String]
    public var methods: [String]
    /// Cumulative stats per task.
    public var perStat: [RequestStats]
    /// The default sliding window: its length, the time it covers and its stats per task; nil
    /// before the shard's first window.
    public var window: Window?
    public var scheduleLag: LatencyHistogram
    public var dropped: UInt64
    public var cutOff: UInt64
    /// Distinct failures and how often each occurred.
    public var errors: [ErrorCount]
    /// The run's thresholds (the scenario's and `--threshold`'s), so that the dashboard judges
    /// them on the merged figures; nil from a shard of a version that did not send them.
    public var thresholds: [ThresholdSpec]?
    /// The sliding windows other than the default one that the thresholds judge (`over 30s`),
    /// by length; empty when no threshold has a window of its own.
    public var extraWindows: [Window] = []
    /// The highest telemetry readings over the run (what `gpu_memory`, `kv_cache` and
    /// `queue_waiting` thresholds judge); nil when the shard polls no telemetry.
    public var telemetryPeaks: TelemetryPeaks?
    /// The shard's embedded engine, when its load goes to one (modelled figures); nil otherwise.
    public var engine: EngineFigures?

    /// A sliding window's stats.
    public struct Window: Sendable, Equatable {
        /// The window's length (the run's `--window`, 10 s by default).
        public var seconds: Int
        /// The time it covers now (shorter than its length early in a run).
        public var spanSeconds: Double
        /// Its stats per task, in the state's task order.
        public var perStat: [RequestStats]
        /// A window.
        public init(seconds: Int, spanSeconds: Double, perStat: [RequestStats]) {
            self.seconds = seconds; self.spanSeconds = spanSeconds; self.perStat = perStat
        }
    }

    /// One distinct failure and its count.
    public struct ErrorCount: Sendable, Equatable, Codable {
        /// The task's method and name, and the failure's message, as the error table keys them.
        public var method: String
        public var name: String
        public var message: String
        /// How often it occurred so far.
        public var occurrences: UInt64
        /// A count.
        public init(method: String, name: String, message: String, occurrences: UInt64) {
            self.method = method; self.name = name; self.message = message; self.occurrences = occurrences
        }
    }

    /// The state of a run at `snap`.
    public init(snapshot snap: Snapshot, scenario: String, shard: ShardSpec, finished: Bool, isOpenModel: Bool,
                paused: Bool, rateScale: Double, userOffset: Int, thresholds: [ThresholdSpec]? = nil) {
        self.scenario = scenario; shardIndex = shard.index; shardCount = shard.count; self.finished = finished
        self.isOpenModel = isOpenModel; elapsedSeconds = snap.elapsed.seconds; measuredSeconds = snap.measuredSeconds
        users = snap.gauges.users; inFlight = snap.gauges.inFlight; targetUsers = snap.targetUsers; targetRate = snap.targetRate
        self.paused = paused; self.rateScale = rateScale; self.userOffset = userOffset
        names = snap.names; methods = snap.methods; perStat = snap.perStat
        window = snap.window.map { Window(seconds: snap.defaultWindowSeconds, spanSeconds: $0.span.seconds, perStat: $0.perStat) }
        scheduleLag = snap.scheduleLag; dropped = snap.dropped; cutOff = snap.cutOff
        errors = snap.errors.entries.map { ErrorCount(method: $0.key.method, name: $0.key.name, message: $0.key.message, occurrences: $0.value.occurrences) }
            .sorted { ($0.name, $0.method, $0.message) < ($1.name, $1.method, $1.message) }
        self.thresholds = thresholds
        extraWindows = snap.windows.filter { $0.key != snap.defaultWindowSeconds }.sorted { $0.key < $1.key }
            .map { Window(seconds: $0.key, spanSeconds: $0.value.span.seconds, perStat: $0.value.perStat) }
        telemetryPeaks = snap.telemetry.flatMap(TelemetryPeaks.init)
    }

    /// This shard's state alone as a ``Snapshot`` (what the dashboard draws for one shard).
    public var snapshot: Snapshot { Self.merged([self])! }

    /// The shards' states added into one ``Snapshot``: histograms and counters added exactly
    /// (percentiles are read from the added histograms, never averaged), gauges summed, the
    /// longest elapsed and measured time; the default window's stats added, over the longest
    /// span. Gauges and counters add saturating: a hand-written
    /// `/live` that slipped past ``read(_:)`` can make a figure absurd, never trap. Nil when `states` is empty or the shards' task names differ (not one scenario).
    public static func merged(_ states: [ShardLiveState]) -> Snapshot? {
        guard let first = states.first, states.allSatisfy({ $0.names == first.names }) else { return nil }
        var perStat = first.perStat.map { _ in RequestStats() }
        var lag = LatencyHistogram()
        var errors = ErrorTable()
        var gauges = WorkerGauges()
        var dropped: UInt64 = 0, cutOff: UInt64 = 0
        var windowStats = perStat
        var windowSpan = 0.0, windowSeconds = first.window?.seconds ?? 10, anyWindow = false
        var targetUsers: Int?, targetRate: Double?
        // Each distinct error's occurrences, added (saturating) before they enter the table.
        var occurrences: [ErrorKey: UInt64] = [:]
        for s in states {
            for i in perStat.indices where i < s.perStat.count { perStat[i].merge(s.perStat[i]) }
            lag.merge(s.scheduleLag)
            for e in s.errors {
                let key = ErrorKey(method: e.method, name: e.name, message: e.message)
                occurrences[key] = added(occurrences[key] ?? 0, e.occurrences)
            }
            gauges.users = added(gauges.users, s.users); gauges.inFlight = added(gauges.inFlight, s.inFlight)
            dropped = added(dropped, s.dropped); cutOff = added(cutOff, s.cutOff)
            if let w = s.window {
                anyWindow = true
                for i in windowStats.indices where i < w.perStat.count { windowStats[i].merge(w.perStat[i]) }
                windowSpan = Swift.max(windowSpan, w.spanSeconds); windowSeconds = w.seconds
            }
            if let u = s.targetUsers { targetUsers = added(targetUsers ?? 0, u) }
            if let r = s.targetRate { targetRate = (targetRate ?? 0) + r }
        }
        for (key, n) in occurrences.sorted(by: { $0.key < $1.key }) {
            errors.add(key, ErrorStat(occurrences: n, firstSeenNanos: 0, lastSeenNanos: 0))
        }
        var total = RequestStats()
        for s in perStat { total.merge(s) }
        var windows: [Int: WindowStats] = [:]
        if anyWindow {
            var wt = RequestStats()
            for s in windowStats { wt.merge(s) }
            windows[windowSeconds] = WindowStats(span: .fromSeconds(windowSpan), perStat: windowStats, total: wt)
        }
        var snap = Snapshot(elapsed: .fromSeconds(states.map(\.elapsedSeconds).max() ?? 0), names: first.names, methods: first.methods,
                            perStat: perStat, total: total, windows: windows, defaultWindowSeconds: windowSeconds, errors: errors,
                            scheduleLag: lag, dropped: dropped, gauges: gauges, targetUsers: targetUsers, targetRate: targetRate,
                            measuredSeconds: states.map(\.measuredSeconds).max() ?? 0)
        snap.cutOff = cutOff
        addExtras(of: states, to: &snap)
        return snap
    }

    // MARK: JSON

    /// The state as JSON (`cicada.live/v1`, keys sorted).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Plain numbers, strings and arrays: encoding cannot fail.
        let data = (try? encoder.encode(File(self))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a state from its JSON text.
    ///
    /// - Throws: ``ShardArtifact/ReadProblem``: not JSON, another schema, a missing or mistyped
    ///   key (with its path), a histogram that does not decode or disagrees with its count.
    public static func read(_ data: Data) throws(ShardArtifact.ReadProblem) -> ShardLiveState {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: File
        do { file = try decoder.decode(File.self, from: data) } catch let e as DecodingError {
            throw ShardArtifact.ReadProblem(message: ShardArtifact.describe(e))
        } catch {
            throw ShardArtifact.ReadProblem(message: "not JSON: \(error)")
        }
        guard file.schema == schema else { throw ShardArtifact.ReadProblem(message: "schema \"\(file.schema)\" is not \(schema)") }
        return try file.state()
    }

    struct WindowFile: Codable {
        var seconds: Int
        var spanS: Double
        var tasks: [ShardArtifact.Stat]
    }

    struct File: Codable {
        var schema: String
        var scenario: String
        var shardIndex, shardCount: Int
        var finished, openModel: Bool
        var elapsedS, measuredS: Double
        var users, inFlight: Int
        var targetUsers: Int?
        var targetRate: Double?
        var paused: Bool
        var rateScale: Double
        var userOffset: Int
        var tasks: [ShardArtifact.Stat]
        var window: WindowFile?
        var scheduleLag: ShardArtifact.Hist
        var dropped, cutOff: UInt64
        var errors: [ErrorCount]
        /// Added later in v1 (absent from older shards): see ``ShardLiveState/thresholds``.
        var thresholds: [ShardArtifact.ThresholdEntry]?
        var windows: [WindowFile]?
        var telemetryPeaks: TelemetryPeaks?
        var engine: EngineFigures?

        init(_ s: ShardLiveState) {
            schema = ShardLiveState.schema; scenario = s.scenario; shardIndex = s.shardIndex; shardCount = s.shardCount
            finished = s.finished; openModel = s.isOpenModel; elapsedS = s.elapsedSeconds; measuredS = s.measuredSeconds
            users = s.users; inFlight = s.inFlight; targetUsers = s.targetUsers; targetRate = s.targetRate
            paused = s.paused; rateScale = s.rateScale; userOffset = s.userOffset
            tasks = s.names.indices.map { ShardArtifact.Stat(name: s.names[$0], method: s.methods[$0], s.perStat[$0]) }
            window = s.window.map { w in
                WindowFile(seconds: w.seconds, spanS: w.spanSeconds,
                           tasks: w.perStat.indices.map { ShardArtifact.Stat(name: s.names[$0], method: s.methods[$0], w.perStat[$0]) })
            }
            scheduleLag = ShardArtifact.Hist(s.scheduleLag); dropped = s.dropped; cutOff = s.cutOff; errors = s.errors
            thresholds = s.thresholds.map { $0.map { ShardArtifact.ThresholdEntry(expression: $0.expression, abortOnFail: $0.abortOnFail,
                                                                                   delayAbortEvalS: $0.delayAbortEval.seconds) } }
            windows = s.extraWindows.isEmpty ? nil : s.extraWindows.map { w in
                WindowFile(seconds: w.seconds, spanS: w.spanSeconds,
                           tasks: w.perStat.indices.map { ShardArtifact.Stat(name: s.names[$0], method: s.methods[$0], w.perStat[$0]) })
            }
            telemetryPeaks = s.telemetryPeaks; engine = s.engine
        }

        func state() throws(ShardArtifact.ReadProblem) -> ShardLiveState {
            guard (1...ShardArtifact.maxShardCount).contains(shardCount), (0..<shardCount).contains(shardIndex) else {
                throw ShardArtifact.ReadProblem(message: "at shard_index: \(shardIndex) is not a shard of \(shardCount)")
            }
            var perStat: [RequestStats] = []
            for (i, t) in tasks.enumerated() { perStat.append(try t.stats("tasks[\(i)]")) }
            var win: Window?
            if let w = window {
                guard w.tasks.map(\.name) == tasks.map(\.name) else {
                    throw ShardArtifact.ReadProblem(message: "at window.tasks: the task names differ from tasks'")
                }
                var ws: [RequestStats] = []
                for (i, t) in w.tasks.enumerated() { ws.append(try t.stats("window.tasks[\(i)]")) }
                win = Window(seconds: w.seconds, spanSeconds: w.spanS, perStat: ws)
            }
            var s = ShardLiveState(scenario: scenario, shardIndex: shardIndex, shardCount: shardCount, finished: finished, isOpenModel: openModel,
                                   elapsedSeconds: elapsedS, measuredSeconds: measuredS, names: tasks.map(\.name), methods: tasks.map(\.method),
                                   perStat: perStat)
            s.users = users; s.inFlight = inFlight; s.targetUsers = targetUsers; s.targetRate = targetRate
            s.paused = paused; s.rateScale = rateScale; s.userOffset = userOffset; s.window = win
            s.scheduleLag = try scheduleLag.histogram("schedule_lag"); s.dropped = dropped; s.cutOff = cutOff; s.errors = errors
            try readExtras(into: &s)
            try s.checkRanges()
            return s
        }
    }

    /// A state with the given figures and quiet defaults for the rest (gauges 0, not paused,
    /// rate ×1, no window, no errors): for tests and for building one field by field.
    public init(scenario: String, shardIndex: Int, shardCount: Int, finished: Bool = false, isOpenModel: Bool = false,
                elapsedSeconds: Double, measuredSeconds: Double, names: [String], methods: [String], perStat: [RequestStats]) {
        self.scenario = scenario; self.shardIndex = shardIndex; self.shardCount = shardCount; self.finished = finished
        self.isOpenModel = isOpenModel; self.elapsedSeconds = elapsedSeconds; self.measuredSeconds = measuredSeconds
        users = 0; inFlight = 0; paused = false; rateScale = 1; userOffset = 0
        self.names = names; self.methods = methods; self.perStat = perStat
        scheduleLag = LatencyHistogram(); dropped = 0; cutOff = 0; errors = []
    }
}
