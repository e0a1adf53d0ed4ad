import Foundation

/// What one shard of a distributed run measured, with nothing lost: `cicada run --out DIR`
/// writes it, `cicada merge` adds artifacts together (docs/DISTRIBUTED.md, `cicada.shard/v1`).
///
/// Every histogram is kept whole (HdrHistogram's V2 encoding, ``HdrHistogramCodec``) with its
/// exact min, max and sum, and every counter as a count, so adding the shards' artifacts gives
/// exactly what one process sending the whole schedule would have recorded: percentiles are
/// computed once, on the merged histograms, never averaged. Times are wall-clock (Unix seconds),
/// so shards on different machines line up second by second. An artifact may hold several
/// shards (the result of a merge): ``merged(_:)`` is associative and commutative.
public struct ShardArtifact: Sendable, Equatable {
    /// The format's name and version.
    public static let schema = "cicada.shard/v1"

    /// The Cicada version that wrote it.
    public var cicadaVersion: String
    /// The run it belongs to: only artifacts of one run merge.
    public var identity: RunIdentity
    /// How many shards the run was split into (N of `--shard I/N`).
    public var shardCount: Int
    /// One record per shard this artifact holds, by index.
    public var shards: [ShardRecord]
    /// The scenario's target, load model description and thresholds (scenario and `--threshold`).
    public var target: String
    public var modelDescription: String
    public var thresholds: [ThresholdSpec]
    /// Whether the scenario set goodput SLOs (goodput is then reported, else absent).
    public var goodputConfigured: Bool
    /// Stat (task) names and their methods, in scenario order; `perStat` indexes into them.
    public var names: [String]
    public var methods: [String]
    public var perStat: [RequestStats]
    /// The generators' lateness against their schedule (µs).
    public var scheduleLag: LatencyHistogram
    /// Open-model arrivals dropped; requests cut off in flight at the end.
    public var dropped: UInt64
    public var cutOff: UInt64
    /// Distinct failures, sorted by name, method, message.
    public var errors: [ErrorRecord]
    /// Requests and failures completed in each wall-clock second, by second.
    public var timeline: [SecondRecord]
    /// Things that happened (keys pressed, aborts), by time.
    public var events: [EventRecord]
    /// A `split:` run's per-member and per-step figures; nil for a run without a split (and in
    /// artifacts written before they were carried).
    public var split: SplitRecord?

    public init(cicadaVersion: String = CicadaVersion.current, identity: RunIdentity, shardCount: Int, shards: [ShardRecord],
                target: String, modelDescription: String, thresholds: [ThresholdSpec], goodputConfigured: Bool,
                names: [String], methods: [String], perStat: [RequestStats], scheduleLag: LatencyHistogram,
                dropped: UInt64, cutOff: UInt64, errors: [ErrorRecord], timeline: [SecondRecord], events: [EventRecord]) {
        self.cicadaVersion = cicadaVersion; self.identity = identity; self.shardCount = shardCount
        self.shards = shards.sorted { $0.index < $1.index }
        self.target = target; self.modelDescription = modelDescription; self.thresholds = thresholds
        self.goodputConfigured = goodputConfigured; self.names = names; self.methods = methods; self.perStat = perStat
        self.scheduleLag = scheduleLag; self.dropped = dropped; self.cutOff = cutOff
        self.errors = errors.sorted(); self.timeline = timeline.sorted { $0.second < $1.second }
        self.events = events.sorted()
    }

    /// What makes artifacts parts of the same run.
    public struct RunIdentity: Sendable, Equatable, Codable {
        /// The scenario's name.
        public var scenario: String
        /// SHA-256 of the scenario file and the load-changing overrides, hex.
        public var scenarioHash: String
        /// The seed every shard's schedule was drawn from.
        public var seed: UInt64
        /// A fingerprint of the global schedule (``ShardArtifact/scheduleHash(load:seed:)``).
        public var scheduleHash: String
        public init(scenario: String, scenarioHash: String, seed: UInt64, scheduleHash: String) {
            self.scenario = scenario; self.scenarioHash = scenarioHash; self.seed = seed; self.scheduleHash = scheduleHash
        }
    }

    /// One shard's own facts: when it ran by both clocks, how it ended.
    public struct ShardRecord: Sendable, Equatable, Codable {
        public var index: Int
        /// CLOCK_REALTIME at the load's start (Unix seconds).
        public var startedAtUnix: Double
        /// CLOCK_MONOTONIC at the load's start (ns): realtime − monotonic is the shard's clock offset.
        public var monotonicStartNanos: UInt64
        /// The `--start-at` moment asked for (Unix seconds), if any.
        public var startAtUnix: Double?
        /// Seconds measured (start, or the last statistics reset, to the end of the drain).
        public var measuredSeconds: Double
        /// `completed`, `interrupted` or `threshold_abort`, and the aborting expression.
        public var stopReason: String
        public var abortThreshold: String?
        /// CLOCK_REALTIME when the artifact was written: beside the file's modification time (set by
        /// the file system's clock) it shows how far this shard's clock is off.
        public var writtenAtUnix: Double
        public var workers: Int
        public var cpuSeconds: Double
        public init(index: Int, startedAtUnix: Double, monotonicStartNanos: UInt64, startAtUnix: Double?, measuredSeconds: Double,
                    stopReason: String, abortThreshold: String?, writtenAtUnix: Double, workers: Int, cpuSeconds: Double) {
            self.index = index; self.startedAtUnix = startedAtUnix; self.monotonicStartNanos = monotonicStartNanos
            self.startAtUnix = startAtUnix; self.measuredSeconds = measuredSeconds; self.stopReason = stopReason
            self.abortThreshold = abortThreshold; self.writtenAtUnix = writtenAtUnix; self.workers = workers; self.cpuSeconds = cpuSeconds
        }
        /// Realtime minus monotonic at the start, in seconds.
        public var clockOffsetSeconds: Double { startedAtUnix - Double(monotonicStartNanos) / 1e9 }
    }

    /// One distinct failure with its wall-clock first and last sighting.
    public struct ErrorRecord: Sendable, Equatable, Codable, Comparable {
        public var method: String
        public var name: String
        public var message: String
        public var occurrences: UInt64
        public var firstSeenUnix: Double
        public var lastSeenUnix: Double
        public init(method: String, name: String, message: String, occurrences: UInt64, firstSeenUnix: Double, lastSeenUnix: Double) {
            self.method = method; self.name = name; self.message = message; self.occurrences = occurrences
            self.firstSeenUnix = firstSeenUnix; self.lastSeenUnix = lastSeenUnix
        }
        public static func < (a: ErrorRecord, b: ErrorRecord) -> Bool { (a.name, a.method, a.message) < (b.name, b.method, b.message) }
    }

    /// What completed during one wall-clock second.
    public struct SecondRecord: Sendable, Equatable {
        /// The second, as whole Unix seconds (it covers `second ..< second + 1`).
        public var second: Int64
        public var requests: UInt64
        public var failures: UInt64
        /// Users running at the end of the second (closed model; the sum over shards).
        public var users: Int
        /// The corrected latency (µs) of the requests completed in this second, all tasks; nil
        /// in artifacts written before it was recorded (and in a merge with one of them), so
        /// merged per-second percentiles are exact or absent, never partial.
        public var corrected: LatencyHistogram?
        public init(second: Int64, requests: UInt64, failures: UInt64, users: Int, corrected: LatencyHistogram? = nil) {
            self.second = second; self.requests = requests; self.failures = failures; self.users = users; self.corrected = corrected
        }
    }

    /// Something that happened on one shard.
    public struct EventRecord: Sendable, Equatable, Codable, Comparable {
        public var unix: Double
        public var shard: Int
        public var kind: String
        public var detail: String
        public init(unix: Double, shard: Int, kind: String, detail: String) { self.unix = unix; self.shard = shard; self.kind = kind; self.detail = detail }
        public static func < (a: EventRecord, b: EventRecord) -> Bool { (a.unix, a.shard, a.kind, a.detail) < (b.unix, b.shard, b.kind, b.detail) }
    }

    /// The shard indexes this artifact holds.
    public var shardIndexes: [Int] { shards.map(\.index) }
    /// The shards of the run no artifact here holds.
    public var missingShards: [Int] { Array(Set(0..<shardCount).subtracting(shardIndexes)).sorted() }

    // MARK: Merge

    /// Why two artifacts cannot be merged.
    public struct MergeProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Why `other` is not a part of the same run as this artifact (another scenario, seed,
    /// schedule or shard count, a shard both hold, or split figures only one carries or with
    /// other members); nil when they merge.
    public func mergeProblem(with other: ShardArtifact) -> String? {
        if other.identity.scenarioHash != identity.scenarioHash || other.identity.scenario != identity.scenario {
            return "it is from another scenario (\(other.identity.scenario), hash \(other.identity.scenarioHash.prefix(12))) than \(identity.scenario) (hash \(identity.scenarioHash.prefix(12)))"
        }
        if other.identity.seed != identity.seed { return "it was run with seed \(other.identity.seed), not \(identity.seed)" }
        if other.identity.scheduleHash != identity.scheduleHash { return "its schedule (\(other.identity.scheduleHash)) is not \(identity.scheduleHash)" }
        if other.shardCount != shardCount { return "it is a shard of \(other.shardCount), not of \(shardCount)" }
        if other.names != names { return "its task names \(other.names) differ from \(names)" }
        // A canary verdict must never vanish silently: a split merges only with a split of the
        // same members (an artifact without one was written by a version that did not carry it).
        switch (split, other.split) {
        case (nil, nil): break
        case (.some, nil): return "it carries no split figures (written by an older version?) while the other parts do: the canary verdict would be lost"
        case (nil, .some): return "it carries split figures while the other parts do not (written by an older version?): the canary verdict would be partial"
        case let (mine?, theirs?):
            if mine.members.map(\.name) != theirs.members.map(\.name) {
                return "its split members \(theirs.members.map(\.name)) differ from \(mine.members.map(\.name))"
            }
        }
        let both = Set(shardIndexes).intersection(other.shardIndexes)
        if !both.isEmpty { return "shard \(both.sorted().map(String.init).joined(separator: ", ")) is already in another artifact" }
        return nil
    }

    /// This artifact plus `other`: histograms and counters added, timelines added second by
    /// second, errors, events and thresholds (by expression) united. Associative and
    /// commutative (the thresholds' order aside).
    public func merged(with other: ShardArtifact) throws(MergeProblem) -> ShardArtifact {
        if let why = mergeProblem(with: other) { throw MergeProblem(message: why) }
        var stats = perStat
        for i in stats.indices { stats[i].merge(other.perStat[i]) }
        var lag = scheduleLag
        lag.merge(other.scheduleLag)
        var errorsByKey: [ErrorKey: ErrorRecord] = [:]
        for e in errors + other.errors {
            let k = ErrorKey(method: e.method, name: e.name, message: e.message)
            if var old = errorsByKey[k] {
                old.occurrences = old.occurrences.addingSaturating(e.occurrences)
                old.firstSeenUnix = Swift.min(old.firstSeenUnix, e.firstSeenUnix)
                old.lastSeenUnix = Swift.max(old.lastSeenUnix, e.lastSeenUnix)
                errorsByKey[k] = old
            } else { errorsByKey[k] = e }
        }
        var seconds: [Int64: SecondRecord] = [:]
        for s in timeline + other.timeline {
            if var old = seconds[s.second] {
                old.requests = old.requests.addingSaturating(s.requests); old.failures = old.failures.addingSaturating(s.failures)
                old.users = old.users.addingSaturating(s.users)
                // Exact or absent: a second some part lacks a histogram for has none.
                if var h = old.corrected, let more = s.corrected { h.merge(more); old.corrected = h } else { old.corrected = nil }
                seconds[s.second] = old
            } else { seconds[s.second] = s }
        }
        // Every part's thresholds, united by expression (first seen first), as `cicada dash`
        // judges them: a threshold given to one shard only is still judged on the merge.
        var united = thresholds
        for t in other.thresholds where !united.contains(where: { $0.expression == t.expression }) { united.append(t) }
        var out = ShardArtifact(cicadaVersion: Swift.max(cicadaVersion, other.cicadaVersion), identity: identity, shardCount: shardCount,
                             shards: shards + other.shards, target: target, modelDescription: modelDescription, thresholds: united,
                             goodputConfigured: goodputConfigured, names: names, methods: methods, perStat: stats, scheduleLag: lag,
                             dropped: dropped.addingSaturating(other.dropped), cutOff: cutOff.addingSaturating(other.cutOff),
                             errors: Array(errorsByKey.values),
                             timeline: Array(seconds.values), events: events + other.events)
        // Both parts carry a split of the same members or neither does (``mergeProblem(with:)``).
        out.split = split.flatMap { mine in other.split.flatMap { mine.merged(with: $0) } }
        return out
    }

    /// All of `parts` merged, in any order; nil when `parts` is empty.
    public static func merged(_ parts: [ShardArtifact]) throws(MergeProblem) -> ShardArtifact? {
        guard var acc = parts.first else { return nil }
        for p in parts.dropFirst() { acc = try acc.merged(with: p) }
        return acc
    }

    // MARK: Identity

    /// A fingerprint of a scenario's global schedule: its load description and, for the open
    /// model, the first 4,096 arrival positions drawn from `seed` (FNV-1a, hex). Shards that
    /// disagree on it would not add up to one run's schedule.
    public static func scheduleHash(load: LoadProfile, seed: UInt64) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        mix(String(describing: load).utf8)
        withUnsafeBytes(of: seed.littleEndian) { mix($0) }
        if case .open(let o) = load {
            var s = ArrivalSchedule(load: o, seed: seed)
            for _ in 0..<4096 { withUnsafeBytes(of: s.nextPosition().position.bitPattern.littleEndian) { mix($0) } }
        }
        return String(h, radix: 16)
    }
}
