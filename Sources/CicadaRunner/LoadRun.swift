#if canImport(Glibc)
import Glibc
#endif
import CicadaCore
import CicadaTransport
import Foundation
import Synchronization

/// How a run is executed (not what it sends: that is the scenario).
public struct RunOptions: Sendable {
    /// Load-generating threads, each with its own curl multi loop.
    public var workers: Int
    /// The sliding window for live and windowed figures, in seconds.
    public var windowSeconds: Int
    /// How often progress is reported and abort thresholds are judged (k6: 2 s).
    public var progressInterval: Duration
    /// How long in-flight requests may finish after the load ends before they are cut off.
    public var stopTimeout: Duration
    /// Extra thresholds from the command line, judged with the scenario's.
    public var extraThresholds: [ThresholdSpec]
    /// The shard of the run this process generates (`--shard I/N`); `.single` for the whole run.
    public var shard: ShardSpec = .single

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, windowSeconds: Int = 10,
                progressInterval: Duration = .seconds(2), stopTimeout: Duration = .seconds(10), extraThresholds: [ThresholdSpec] = []) {
        self.workers = max(1, workers); self.windowSeconds = windowSeconds; self.progressInterval = progressInterval
        self.stopTimeout = stopTimeout; self.extraThresholds = extraThresholds
    }
}

/// A run in progress: starts the workers, feeds the aggregator, judges thresholds, and stops.
///
/// The runner thread owns the ``Aggregator``; workers only post intervals. Progress and
/// per-second callbacks receive immutable snapshots, so a slow consumer can never slow the
/// measurement.
public final class LoadRun: @unchecked Sendable {
    public let plan: RunPlan
    public let options: RunOptions
    public let control: RunControl
    public let thresholds: [Threshold]
    let clock: any TimeSource
    let transport: any LoadTransport
    /// How the runner waits between its turns (20 ms while loading, 5 ms while draining):
    /// real sleep, or in tests a step of a manual clock, so a run can be stepped in virtual time.
    let sleep: @Sendable (Duration) -> Void

    /// Called every `progressInterval` with the run so far.
    public var onProgress: ((Snapshot) -> Void)?
    /// Called once a second with the run so far (CSV history rows).
    public var onSecond: ((Snapshot) -> Void)?
    /// GPU memory and server gauges, polled elsewhere; attached to every snapshot.
    public var telemetry: (any TelemetryFeed)?
    /// The consistency probe's findings so far (`consistency:`); attached to every snapshot, so
    /// the live diagnoses judge `inconsistent_outputs` as answers arrive.
    public var consistency: (any ConsistencyFeed)?
    /// Called every 250 ms with the run so far (the dashboard draws the latest one).
    public var onTick: ((Snapshot) -> Void)?
    /// Called with each per-second timeline point (the dashboard's charts).
    public var onPoint: ((TimelinePoint) -> Void)?
    /// Where the workers' ``RequestRecord``s go (`--requests-out`); the plan's
    /// ``RunPlan/requestSampling`` decides which requests have one.
    public var requestSink: (any RequestRecordSink)?
    private let notes = Mutex<[RunEvent]>([])
    private let startedAt = Atomic<UInt64>(0)

    /// Records something that happened (a key pressed, a preset changed) with its time, for the
    /// JSON report's `events`; callable from any thread.
    public func note(kind: String, detail: String) {
        let start = startedAt.load(ordering: .acquiring)
        let t = start == 0 ? 0 : Double(clock.nowNanos() &- start) / 1e9
        notes.withLock { $0.append(RunEvent(t: t, kind: kind, detail: detail)) }
    }

    /// - Parameters:
    ///   - clock: the run's clock; the controls date live changes on it too.
    ///   - control: shared controls (default: new ones on `clock`).
    ///   - transport: how requests go on the wire (default: the scenario's `transport:` choice,
    ///     ``Transports/choose(for:)``).
    ///   - sleep: how the runner waits between turns (default: the thread sleeps).
    public init(plan: RunPlan, options: RunOptions, clock: any TimeSource = MonotonicTimeSource(), control: RunControl? = nil,
                transport: (any LoadTransport)? = nil,
                sleep: @escaping @Sendable (Duration) -> Void = { usleep(UInt32(clamping: $0.nanos / 1000)) }) throws(Threshold.ParseError) {
        self.control = control ?? RunControl(clock: clock)
        self.plan = plan
        self.options = options
        self.clock = clock
        self.transport = transport ?? Transports.choose(for: plan)
        self.sleep = sleep
        var ts: [Threshold] = []
        for spec in plan.scenario.thresholds + options.extraThresholds { ts.append(try Threshold(spec)) }
        thresholds = ts
    }

    /// Runs to the end (or until `shouldStop` returns true); blocking.
    public func run(shouldStop: @escaping () -> Bool = { false }) throws -> RunResult {
        try transport.prepare()
        let startWall = Date().timeIntervalSince1970
        let cpuStart = Self.cpuSeconds()
        let start = clock.nowNanos()
        startedAt.store(start, ordering: .releasing)
        // A LoadRun that runs again (`--repeat`) starts with no notes: each run's events are its own.
        notes.withLock { $0.removeAll() }
        control.runStartNanos = start
        if case .open(let o) = plan.scenario.load { control.openLoad = o }
        let outbox = IntervalOutbox()
        let aggregator = Aggregator(names: plan.statNames, methods: plan.statMethods, startNanos: start,
                                    windowSeconds: options.windowSeconds, extraWindows: thresholds.compactMap(\.windowSeconds),
                                    measurement: plan.scenario.measurement, durationNanos: plan.scenario.load.duration?.nanos)
        aggregator.breakdownKeys = plan.breakdown.keys
        var workers: [any LoadGenerator] = []
        let shard = options.shard
        for i in 0..<options.workers {
            workers.append(try transport.makeGenerator(GeneratorContext(plan: plan, index: i, count: options.workers, control: control,
                                                                        clock: clock, outbox: outbox, startNanos: start, shard: shard)))
        }
        var events: [RunEvent] = []
        let load = plan.scenario.load
        // A shard runs its stripe of the ramp's users (see ShardSpec); live changes (+/-, w/s)
        // act on this shard's part.
        if case .closed(let c) = load { control.targetUsers = shard.share(of: c.users(at: .zero)) }
        for w in workers {
            let t = Thread { w.run() }
            t.name = "cicada-worker"
            t.start()
        }

        var finished = Set<Int>()
        // The measured requests by second of the run, for the report's confidence intervals.
        var secondWindows = SecondWindows()
        var taskWindows = SecondWindows.perTask(count: plan.statNames.count)
        func drain() {
            let now = clock.nowNanos()
            for r in outbox.drain() {
                var stats = r.stats
                let (records, dropped) = stats.takeRecords()
                if !records.isEmpty || dropped > 0 { requestSink?.accept(records, droppedUpstream: dropped) }
                aggregator.ingest(stats, worker: r.worker, gauges: r.gauges, atNanos: now)
                let second = Int64((now &- min(start, now)) / 1_000_000_000)
                secondWindows.add(stats, second: second)
                for i in taskWindows.indices { taskWindows[i].add(stats, second: second) }
                if r.finished { finished.insert(r.worker) }
            }
        }
        func targets(_ elapsed: Duration) -> (Int?, Double?) {
            switch load {
            case .closed(let c): return (max(0, shard.share(of: c.users(at: elapsed)) + control.userOffset), nil)
            case .open(let o): return (nil, o.rate(at: elapsed) * control.rateScale / Double(shard.count))
            }
        }

        var timeline = Timeline()
        var lastSecond: UInt64 = 0
        var lastProgress: UInt64 = start
        var lastTick: UInt64 = 0
        var prevRequests: UInt64 = 0, prevFailures: UInt64 = 0, prevT = 0.0
        var stopReason = StopReason.completed
        /// One timeline point: rates since the previous point, percentiles over the window.
        ///
        /// The timeline shows every second, the warm-up and cool-down included (their points
        /// marked with their phase and drawn from the excluded requests), so a chart shows
        /// what was left out and why; no figure of the report reads these points.
        func addPoint(_ snap: Snapshot) {
            let t = snap.elapsed.seconds
            let dt = t - prevT
            let requests = snap.total.requests &+ snap.excludedWarmup &+ snap.excludedCooldown
            let failures = snap.total.failures &+ (snap.excluded?.failures ?? 0)
            var win = snap.window?.total.corrected
            if snap.phase != .measured, let e = snap.window?.excluded?.corrected {
                var all = win ?? LatencyHistogram()
                all.merge(e)
                win = all
            }
            var point = TimelinePoint(
                t: t, users: snap.gauges.users,
                qps: dt > 0 ? Double(requests &- min(prevRequests, requests)) / dt : 0,
                failuresPerSecond: dt > 0 ? Double(failures &- min(prevFailures, failures)) / dt : 0,
                p50Millis: win?.percentile(50).map { Double($0) / 1000 },
                p95Millis: win?.percentile(95).map { Double($0) / 1000 },
                p99Millis: win?.percentile(99).map { Double($0) / 1000 })
            // A point covers (previous point, its time]: it is marked with the phase of that
            // span's middle (the runner's turns make a point's time a little late, so the phase
            // at its own time would mark the last warm-up second as measured).
            point.phase = aggregator.phase(atNanos: start &+ Duration.fromSeconds((prevT + t) / 2).nanos)
            timeline.append(point)
            onPoint?(point)
            prevRequests = requests; prevFailures = failures; prevT = t
        }
        let durationNanos = load.duration?.nanos
        let progressNanos = options.progressInterval.nanos

        while true {
            sleep(.milliseconds(20))
            let now = clock.nowNanos()
            let elapsedNanos = now - start
            let elapsed = Duration.nanos(elapsedNanos)
            if case .closed(let c) = load { control.targetUsers = max(0, shard.share(of: c.users(at: elapsed)) + control.userOffset) }
            if control.resetRequested {
                control.resetRequested = false
                drain()
                aggregator.reset(atNanos: now)
                secondWindows.reset()
                for i in taskWindows.indices { taskWindows[i].reset() }
                prevRequests = 0; prevFailures = 0; prevT = elapsed.seconds
            }
            drain()
            if now - lastTick >= 250_000_000, let onTick {
                lastTick = now
                let (tu, tr) = targets(elapsed)
                var snap = aggregator.snapshot(atNanos: now, targetUsers: tu, targetRate: tr)
                attachFeeds(&snap, nowNanos: now)
                onTick(snap)
            }
            if let d = durationNanos, elapsedNanos >= d { break }
            if shouldStop() { stopReason = .interrupted; break }
            let second = elapsedNanos / 1_000_000_000
            if second > lastSecond {
                lastSecond = second
                let (tu, tr) = targets(elapsed)
                var snap = aggregator.snapshot(atNanos: now, targetUsers: tu, targetRate: tr)
                attachFeeds(&snap, nowNanos: now)
                addPoint(snap)
                onSecond?(snap)
            }
            if now - lastProgress >= progressNanos {
                lastProgress = now
                let (tu, tr) = targets(elapsed)
                var snap = aggregator.snapshot(atNanos: now, targetUsers: tu, targetRate: tr)
                attachFeeds(&snap, nowNanos: now)
                onProgress?(snap)
                if let failed = abortingThreshold(snap) {
                    stopReason = .thresholdAbort(failed)
                    events.append(RunEvent(t: elapsed.seconds, kind: "abort", detail: "threshold failed: \(failed)"))
                    break
                }
            }
        }

        // End of load: start nothing new, let in-flight requests finish, then cut them off.
        let endNanos = clock.nowNanos()
        control.stopStarting = true
        workers.forEach { $0.wake() }
        let deadline = endNanos + options.stopTimeout.nanos
        while finished.count < workers.count {
            if clock.nowNanos() >= deadline || (stopReason == .interrupted && shouldStop() && clock.nowNanos() - endNanos > 2_000_000_000) {
                control.abort = true
                workers.forEach { $0.wake() }
            }
            sleep(.milliseconds(5))
            drain()
        }
        drain()
        // The measured span ends when the last request did, not when the load stopped: requests
        // that finish during the drain count, so the span must too, or an overloaded server's
        // throughput would read as the offered rate.
        let doneNanos = clock.nowNanos()
        let (tu, tr) = targets(.nanos(endNanos - start))
        var snap = aggregator.snapshot(atNanos: doneNanos, targetUsers: tu, targetRate: tr)
        snap.gauges.inFlight = 0
        attachFeeds(&snap, nowNanos: clock.nowNanos())
        if snap.elapsed.seconds - prevT > 0.05 { addPoint(snap) }
        let results = thresholds.map { $0.evaluate(snap) }
        var result = RunResult(
            scenarioName: plan.scenario.name, target: plan.baseURL, snapshot: snap, thresholds: results,
            stopReason: stopReason, timeline: timeline, events: events, startedAtUnix: startWall,
            cpuSeconds: Self.cpuSeconds() - cpuStart, workers: workers.count,
            modelDescription: Self.describe(load), startNanos: start)
        result.goodputConfigured = plan.scenario.goodput != nil
        result.transport = transport.name
        secondWindows.close(atSeconds: Double(doneNanos &- min(start, doneNanos)) / 1e9)
        result.secondWindows = secondWindows
        for i in taskWindows.indices { taskWindows[i].close(atSeconds: Double(doneNanos &- min(start, doneNanos)) / 1e9) }
        result.taskSecondWindows = taskWindows
        result.events = (events + notes.withLock { $0 }).sorted { $0.t < $1.t }
        return result
    }

    /// The first `abort_on_fail` threshold failing now, past its delay.
    ///
    /// With a warm-up, `delay_abort_eval` counts from its end: its requests are in no figure,
    /// so every threshold would read "no data" (a failure) and end the run before measuring began.
    func abortingThreshold(_ snap: Snapshot) -> String? {
        var from = 0.0
        if snap.measurement.warmup != nil {
            guard snap.phase != .warmup, let f = snap.measuredFromSeconds else { return nil }
            from = f
        }
        for t in thresholds where t.spec.abortOnFail && snap.elapsed.seconds >= from + t.spec.delayAbortEval.seconds {
            if !t.evaluate(snap).passed { return t.spec.expression }
        }
        return nil
    }

    /// Puts what other threads gather beside the load on a snapshot: the telemetry summary and
    /// the consistency probe's findings, each asked for at the moment the snapshot is built.
    func attachFeeds(_ snap: inout Snapshot, nowNanos: UInt64) {
        snap.telemetry = telemetry?.summary(nowNanos: nowNanos)
        snap.consistency = consistency?.consistencySummary()
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// A one-line description of the load model, for summaries.
    public static func describe(_ load: LoadProfile) -> String {
        switch load {
        case .closed(let c):
            let stages = c.stages.count == 1 ? "" : ", \(c.stages.count) stages"
            return "closed: \(c.peakUsers) users, wait \(c.waitTime)\(stages)"
        case .open(let o):
            if let t = o.trace {
                return "open: trace replay of \(t.entries.count) arrivals at time_scale \(Format.number(t.timeScale, digits: 2)), max_in_flight \(o.maxInFlight)"
            }
            let proc: String
            switch o.process { case .constant: proc = "constant"; case .gamma(let b): proc = b == 1 ? "poisson" : "gamma(burstiness \(b))" }
            let rates = o.stages.map { Format.number($0.rate, digits: 1) }.joined(separator: "->")
            return "open: \(rates)/s \(proc) arrivals, max_in_flight \(o.maxInFlight)"
        }
    }
}
