import CicadaCore

/// The live dashboard's behaviour as a pure state machine: keys and readings in, actions and
/// view models out.
///
/// It holds one ``DashboardLane`` per run or compared variant, the focus, the chart span, the
/// help overlay, the pause state, the load offsets it has asked for, the transient message and
/// the marks of keyboard changes on the charts. No threads, no terminal and no clock: every
/// event carries its time, so each key's effect is tested without a terminal (the
/// `NIOTypedHTTPServerUpgraderStateMachine` pattern). ``DashboardDriver`` runs it against a
/// ``Screen``; the executable carries out the ``DashboardAction``s on the runs and engines.
///
/// Keys: `q` quit; space pause/resume; `w`/`W`/`s`/`S` ±1/±10 users (closed model); `+`/`-`
/// arrival rate ×1.1 / ÷1.1 (open model; on shards, each shard's own multiplier scaled); `e` load on the embedded engine and back; `b` next
/// batching preset; `[`/`]` halve/double the max queue delay; `{`/`}` halve/double the max
/// batch size; tab next variant (comparisons); `t` chart span 10/60/300 s; `r` reset; `c`/`C`
/// promote / roll back a split's canary one step; `?` help.
/// In a comparison the load keys act on every lane and the batching keys on the focused one.
public struct DashboardController: Sendable {
    /// What stays fixed for the whole run.
    public struct Configuration: Sendable {
        /// The scenario's name.
        public var scenarioName: String
        /// What is under load, as the header names it.
        public var targetDescription: String
        /// The planned run length; nil for a run that lasts until stopped.
        public var runTime: Duration?
        /// Open model (arrival rate keys) rather than closed (user keys).
        public var isOpenModel: Bool
        /// Whether `e` can move a single run's load to an embedded engine and back (false when
        /// the scenario's own target is the engine, and in comparisons).
        public var canSwitchEngine: Bool
        /// Whether the load goes to the embedded engine from the start.
        public var startsOnEngine: Bool
        /// Draw with UTF-8 glyphs rather than ASCII.
        public var unicode: Bool
        /// Draw with colours (false under `NO_COLOR`).
        public var color: Bool
        /// The diagnosis rules the panel runs on each snapshot (the scenario's `diagnoses:`).
        public var diagnosisLimits = DiagnosisLimits()
        /// The dashboard follows a distributed run's shards (`cicada dash --shards`), not a run
        /// of this process: `e` has no engine to move the load to.
        public var followsShards = false
        /// A `split:` run's members and canary steps: `c`/`C` promote or roll back the canary
        /// along its steps (a two-member split with `steps:`); nil otherwise.
        public var split: SplitSpec?

        /// A configuration.
        public init(scenarioName: String, targetDescription: String, runTime: Duration? = nil, isOpenModel: Bool = false,
                    canSwitchEngine: Bool = false, startsOnEngine: Bool = false, unicode: Bool = true, color: Bool = true) {
            self.scenarioName = scenarioName; self.targetDescription = targetDescription; self.runTime = runTime
            self.isOpenModel = isOpenModel; self.canSwitchEngine = canSwitchEngine; self.startsOnEngine = startsOnEngine
            self.unicode = unicode; self.color = color
        }
    }

    /// The chart spans `t` cycles through, in seconds.
    public static let chartSpans = [10, 60, 300]
    /// How long a message stays on the status row.
    public static let messageLifetime: Duration = .seconds(3)
    /// How many keyboard marks the charts keep.
    public static let markLimit = 200

    /// What stays fixed for the whole run.
    public let configuration: Configuration
    /// One lane per run or compared variant (at least one).
    public private(set) var lanes: [DashboardLane]
    /// The lane the charts, tables and batching keys follow.
    public private(set) var focus = 0
    /// Whether the load is paused.
    public private(set) var paused = false
    /// Users added (negative: removed) on top of the ramp so far.
    public private(set) var userOffset = 0
    /// The arrival-rate multiplier asked for so far.
    public private(set) var rateScale = 1.0
    /// Whether the load goes to the embedded engine now (a single run).
    public private(set) var onEngine: Bool
    /// Whether the key help overlay is shown.
    public private(set) var showHelp = false
    /// Index into ``chartSpans``.
    public private(set) var spanIndex = 0
    /// Changes made from the keyboard, marked on the charts.
    public private(set) var marks: [RunEvent] = []
    /// The last message and until when it shows.
    public private(set) var message: (text: String, until: ContinuousClock.Instant)?
    /// The shard table's lines (`cicada dash --shards`); empty for a run of this process.
    public private(set) var shards: [ShardLine] = []
    /// A split run's canary share now, in percent (nil without steps): `c`/`C` move it.
    public private(set) var canaryPercent: Int?
    /// The split weight shifts asked for so far (`c`/`C`), each opening a step window.
    public private(set) var splitShifts: [SplitShiftMark] = []
    /// Recent member request counts, for the split panel's rate.
    var splitSamples: [SplitSample] = []

    /// A controller for `lanes` (one for a run, one per variant for a comparison).
    public init(configuration: Configuration, lanes: [DashboardLane]) {
        precondition(!lanes.isEmpty, "a dashboard follows at least one lane")
        var c = configuration
        if lanes.count > 1 { c.canSwitchEngine = false; c.startsOnEngine = false }
        self.configuration = c
        self.lanes = lanes
        self.onEngine = c.startsOnEngine
        if let s = c.split, !s.steps.isEmpty { canaryPercent = s.canaryPercent }
    }

    /// Whether the lanes are the variants of a comparison.
    public var comparing: Bool { lanes.count > 1 }
    /// The chart span and sliding window shown, in seconds.
    public var chartSpanSeconds: Int { Self.chartSpans[spanIndex] }

    // MARK: Readings

    /// Takes `lane`'s latest snapshot and its threshold verdicts.
    public mutating func update(snapshot: Snapshot, thresholds: [ThresholdResult], lane: Int) {
        lanes[lane].snapshot = snapshot
        lanes[lane].thresholds = thresholds
        // What the figures mean so far, each with the time its rule first fired.
        let found = DiagnosisRules(limits: configuration.diagnosisLimits).evaluate(DiagnosisFacts(snapshot: snapshot))
        lanes[lane].diagnoses = lanes[lane].diagnosisLog.update(found, atSeconds: snapshot.elapsed.seconds)
        if lane == 0 { noteSplitSample(snapshot) }
    }

    /// Takes `lane`'s engine figures (nil: the lane drives no engine).
    public mutating func update(engine: EngineReading?, lane: Int) {
        lanes[lane].engine = engine
    }

    /// Takes `lane`'s p99 threshold line (ms; nil: none), for a dashboard whose thresholds
    /// arrive while it runs (`cicada dash --shards` learns them from the shards that answer).
    public mutating func update(p99ThresholdMillis: Double?, lane: Int) {
        lanes[lane].p99ThresholdMillis = p99ThresholdMillis
    }

    /// Takes the shard table's lines (`cicada dash --shards`).
    public mutating func update(shards: [ShardLine]) { self.shards = shards }

    /// Appends one per-second point to `lane`'s history, forgetting the oldest past the limit.
    public mutating func append(_ point: TimelinePoint, lane: Int) {
        lanes[lane].history.append(point)
        let extra = lanes[lane].history.count - DashboardLane.historyLimit
        if extra > 0 { lanes[lane].history.removeFirst(extra) }
    }

    // MARK: Keys

    /// What `key`, pressed at `now`, asks for; the controller's own state (focus, span, help,
    /// message, marks) changes at once.
    public mutating func handle(_ key: Key, at now: ContinuousClock.Instant) -> [DashboardAction] {
        guard case .character(let c) = key else { return key == .resize ? [.redraw] : [] }
        let lane = lanes[focus]
        // In a comparison, batching changes name the variant they apply to and are noted in its
        // events only.
        let who = comparing ? "\(lane.name): " : ""
        let batchingLane: Int? = comparing ? focus : nil
        let noEngine = comparing ? "\(who)not an engine variant" : "no embedded engine in this run"
        if configuration.followsShards, "b[]{}".contains(c) {
            // The engine panel adds the shards' own engines; each is reconfigured on its shard.
            return [say("batching keys act on a run's own engine; each shard's engine is its own", mark: false, at: now)]
        }
        switch c {
        case "q":
            return [.quit]
        case "\t":
            guard comparing else {
                return [say("tab moves the focus between the variants of a compare: run", mark: false, at: now)]
            }
            focus = (focus + 1) % lanes.count
            return [say("focus: \(lanes[focus].name)", mark: false, at: now)]
        case " ":
            paused.toggle()
            return [.pause(paused), say(paused ? "paused: no new requests start" : "resumed", at: now)]
        case "w", "W", "s", "S":
            guard !configuration.isOpenModel else {
                return [say("users apply to the closed model; use +/- for the arrival rate", at: now)]
            }
            let deltas: [Character: Int] = ["w": 1, "W": 10, "s": -1, "S": -10]
            let delta = deltas[c]!
            userOffset += delta
            return [.addUsers(delta), say("users \(delta > 0 ? "+" : "")\(delta) (offset \(userOffset))", at: now)]
        case "+", "=", "-":
            guard configuration.isOpenModel else {
                return [say("the arrival rate applies to the open model; use w/s for users", at: now)]
            }
            if configuration.followsShards {
                // Each shard has its own multiplier (set by another dashboard, a script's POST
                // /control, or a key it missed): the key scales each one from where it is rather
                // than overwriting them all with this dashboard's count.
                return [.scaleRate(c == "-" ? 1 / 1.1 : 1.1),
                        say("arrival rate \(c == "-" ? "/" : "x")1.1 on every shard, each from its own rate", at: now)]
            }
            rateScale *= c == "-" ? 1 / 1.1 : 1.1
            return [.setRateScale(rateScale), say("arrival rate x\(Format.number(rateScale, digits: 2))", at: now)]
        case "b":
            if lane.engine?.line.maxNumSeqs != nil {
                return [say("\(who)the continuous scheduler has no batching presets; { } change max_num_seqs", at: now)]
            }
            guard let e = lane.engine, !e.presetNames.isEmpty else {
                return [say(comparing ? noEngine : "no embedded engine in this run (start it with --engine)", at: now)]
            }
            let index = (lane.presetIndex + 1) % e.presetNames.count
            lanes[focus].presetIndex = index
            return [.applyBatchPreset(lane: focus, index: index),
                    say("\(who)batching preset: \(e.presetNames[index])", only: batchingLane, at: now)]
        case "[", "]":
            guard let e = lane.engine else { return [say(noEngine, at: now)] }
            if let seqs = e.line.maxNumSeqs {
                // A continuous engine has no queue delay: the same keys halve or double its token
                // budget per iteration, never below max_num_seqs.
                guard let tokens = e.line.maxNumBatchedTokens else { return [say("\(who)the continuous scheduler has no queue delay; { } change max_num_seqs", at: now)] }
                let next = max(seqs, c == "]" ? tokens * 2 : tokens / 2)
                return [.setMaxNumBatchedTokens(lane: focus, tokens: next), say("\(who)max_num_batched_tokens \(next)", only: batchingLane, at: now)]
            }
            let factor = c == "]" ? 2.0 : 0.5
            let micros = Self.scaledQueueDelay(e.line.maxQueueDelayMicros, by: factor)
            return [.scaleQueueDelay(lane: focus, factor: factor),
                    say("\(who)max queue delay \(Format.number(Double(micros) / 1000, digits: 2)) ms", only: batchingLane, at: now)]
        case "{", "}":
            guard let e = lane.engine else { return [say(noEngine, at: now)] }
            if let seqs = e.line.maxNumSeqs {
                // A continuous engine: the same keys halve or double max_num_seqs.
                let size = max(1, c == "}" ? seqs * 2 : seqs / 2)
                return [.setMaxBatchSize(lane: focus, size: size), say("\(who)max_num_seqs \(size)", only: batchingLane, at: now)]
            }
            let size = max(1, c == "}" ? e.line.maxBatchSize * 2 : e.line.maxBatchSize / 2)
            return [.setMaxBatchSize(lane: focus, size: size), say("\(who)max batch size \(size)", only: batchingLane, at: now)]
        case "e":
            if configuration.followsShards { return [say("e: each shard keeps its own target", mark: false, at: now)] }
            guard configuration.canSwitchEngine else {
                if configuration.split != nil { return [say("e: a split run's targets are its own (c/C move the canary's share)", at: now)] }
                return [say(comparing ? "e: each variant keeps its own target in a comparison"
                            : "e: the scenario's target is the embedded engine; there is nothing to switch back to", at: now)]
            }
            guard onEngine else { return [.switchToEngine] }
            onEngine = false
            return [.switchToTarget, say("e: load back on the scenario's target", at: now)]
        case "t":
            spanIndex = (spanIndex + 1) % Self.chartSpans.count
            return [say("chart span \(chartSpanSeconds)s", at: now)]
        case "r":
            for i in lanes.indices { lanes[i].history.removeAll() }
            marks.removeAll()
            return [.reset, say("statistics reset", at: now)]
        case "c", "C":
            return canaryStep(promote: c == "c", at: now)
        case "?":
            showHelp.toggle()
            return []
        default:
            return []
        }
    }

    /// What follows from carrying out `action` with `result`: the engine switch's message.
    public mutating func complete(_ action: DashboardAction, with result: DashboardActionResult,
                                  at now: ContinuousClock.Instant) -> [DashboardAction] {
        guard action == .switchToEngine else { return [] }
        switch result {
        case .switchedToEngine(let label):
            onEngine = true
            return [say("e: load switched to the embedded engine (\(label))", at: now)]
        case .failed(let reason):
            return [say("e: cannot start the engine: \(reason)", at: now)]
        case .done:
            return []
        }
    }

    /// `c` (promote) or `C` (roll back): the canary's share moves to the next or previous step of
    /// the split's `steps` (below the first step: 0, no load on the canary); the new weights apply
    /// to the requests chosen after it, and the change is noted in the run's events.
    private mutating func canaryStep(promote: Bool, at now: ContinuousClock.Instant) -> [DashboardAction] {
        guard let split = configuration.split, let current = canaryPercent, let ci = split.canaryIndex else {
            return [say("c/C move a split's canary along its steps; this run has \(configuration.split == nil ? "no split" : "no split.steps")", mark: false, at: now)]
        }
        let name = split.members[ci].name
        guard let next = promote ? split.promoted(from: current) : split.rolledBack(from: current) else {
            return [say(promote ? "\(name) already at \(current)% (the last step)" : "\(name) already at 0% (fully rolled back)", mark: false, at: now)]
        }
        canaryPercent = next
        splitShifts.append(SplitShiftMark(weights: split.weights(canaryPercent: next), atSeconds: lanes[0].snapshot?.elapsed.seconds ?? 0))
        return [.setSplitWeights(split.weights(canaryPercent: next)),
                say("\(promote ? "promote" : "roll back") \(name): \(current)% -> \(next)% of the load", at: now)]
    }

    /// The max queue delay after scaling by `factor`, as `BatcherConfig.withQueueDelay(scaledBy:)`
    /// computes it (rounded, at most an hour), for the message; the engine applies its own.
    static func scaledQueueDelay(_ micros: UInt64, by factor: Double) -> UInt64 {
        UInt64(min((Double(micros) * factor).rounded(), 3_600_000_000))
    }

    /// Shows `text` until `now` + ``messageLifetime``, marks it on the charts at the focused
    /// lane's elapsed time (when `mark` and there is a snapshot), and returns the note for the
    /// runs' events: of lane `only`, or of every lane.
    private mutating func say(_ text: String, mark: Bool = true, only lane: Int? = nil, at now: ContinuousClock.Instant) -> DashboardAction {
        message = (text, now + Self.messageLifetime)
        if mark, let t = lanes[focus].snapshot?.elapsed.seconds {
            marks.append(RunEvent(t: t, kind: String(text.prefix(1)), detail: text))
            if marks.count > Self.markLimit { marks.removeFirst(marks.count - Self.markLimit) }
        }
        return .note(text, lane: lane)
    }
}
