import CCurl
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// One load-generating thread: its own curl multi handle, its own users or arrivals, its own
/// statistics. Nothing on its hot path takes a lock; it hands interval stats to the
/// aggregator through ``IntervalOutbox`` at most every 250 ms (wrk's thread model).
///
/// Timing (see docs/DECISIONS.md): every request has an *intended* start, the moment its user's
/// wait ended or its arrival was scheduled (or, with pacing waits, its slot on the pacing
/// grid), and an *actual* send, when the handle is added to the multi handle. Corrected
/// latency runs from the intended start, raw latency from the send, both to the moment the
/// loop sees the transfer complete. The loop's own lateness in starting due work is recorded
/// as schedule lag, so a saturated generator shows as lag, not as a slow server.
public final class LoadWorker: @unchecked Sendable {
    let plan: RunPlan
    let index: Int
    let count: Int
    let control: RunControl
    let clock: any TimeSource
    let outbox: IntervalOutbox
    let startNanos: UInt64
    let multi: UnsafeMutableRawPointer
    /// The epoll set libcurl's sockets, the timerfd and the wake-up eventfd are in, and
    /// libcurl's own next timeout (see ``run()``).
    let loop: UnsafeMutablePointer<ccurl_loop>
    /// A timerfd for sub-millisecond wake-ups (-1 if the kernel refused one).
    let timer: Int32
    /// An eventfd that ``wake()`` writes to (-1 if the kernel refused one; the loop then
    /// notices stop and abort within its 50 ms control poll).
    let wakeFD: Int32

    /// How often stats are handed over (and the longest the loop sleeps).
    static let flushNanos: UInt64 = 250_000_000

    var stats: IntervalStats
    var pool: [Transfer] = []
    /// Every transfer this worker made (idle ones are also in `pool`).
    var allTransfers: [Transfer] = []
    var inFlight = 0
    /// Per task (and on_start step): constant headers built once.
    var taskHeaders: [UnsafeMutablePointer<curl_slist>?] = []
    var onStartHeaders: [UnsafeMutablePointer<curl_slist>?] = []
    var constantPaths: [String?] = []
    var constantBodies: [String?] = []
    /// Per task: whether a handle set up for it can be sent again as it is (constant path, body
    /// and headers), skipping curl_easy_reset and the options (see ``send``).
    var reusableTask: [Bool] = []

    /// Multi-turn conversations in progress, by `slot * taskCount + task`, with the user id
    /// that owns each (a slot reused by a new user starts afresh).
    /// This worker's users or arrivals (shared with the fast transport's worker).
    var schedule: WorkerSchedule

    /// - Parameters:
    ///   - index: this worker's number, 0..<count.
    ///   - startNanos: the test start on `clock`; schedules are offsets from it.
    public init(plan: RunPlan, index: Int, count: Int, control: RunControl, clock: any TimeSource,
                outbox: IntervalOutbox, startNanos: UInt64, shard: ShardSpec = .single) throws(CurlError) {
        guard let m = curl_multi_init() else { throw CurlError(function: "curl_multi_init", code: -1, message: "returned NULL") }
        self.plan = plan; self.index = index; self.count = count; self.control = control
        self.clock = clock; self.outbox = outbox; self.startNanos = startNanos; self.multi = m
        let loop = UnsafeMutablePointer<ccurl_loop>.allocate(capacity: 1)
        guard ccurl_loop_init(loop, m) == 0 else {
            let err = errno
            loop.deallocate()
            curl_multi_cleanup(m)
            throw CurlError(function: "epoll_create1", code: Int(err), message: String(cString: strerror(err)))
        }
        self.loop = loop
        self.timer = ccurl_timer_create()
        self.wakeFD = ccurl_eventfd_create()
        if timer >= 0 { _ = ccurl_loop_watch(loop, timer) }
        if wakeFD >= 0 { _ = ccurl_loop_watch(loop, wakeFD) }
        self.stats = IntervalStats(statCount: plan.statNames.count, sampling: plan.requestSampling, worker: index)
        schedule = WorkerSchedule(plan: plan, index: index, count: count, startNanos: startNanos, shard: shard)
        _ = ccurl_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, max(16, schedule.maxInFlight + 8))
        if plan.scenario.http2 { _ = ccurl_multi_setopt_long(m, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX)) }
        buildConstantParts()
    }

    deinit {
        for t in allTransfers where t.active { curl_multi_remove_handle(multi, t.easy) }
        pool.removeAll()
        allTransfers.removeAll()
        for l in taskHeaders + onStartHeaders { if let l { curl_slist_free_all(l) } }
        curl_multi_cleanup(multi)   // may still call the socket callback, so the epoll set goes after it
        ccurl_loop_destroy(loop)
        loop.deallocate()
        if timer >= 0 { close(timer) }
        if wakeFD >= 0 { close(wakeFD) }
    }

    /// Wakes the worker from its wait (thread-safe), e.g. when the run is stopping.
    public func wake() { if wakeFD >= 0 { ccurl_eventfd_signal(wakeFD) } }

    private func buildConstantParts() {
        func headers(_ t: TaskSpec) -> UnsafeMutablePointer<curl_slist>? {
            var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
            for h in plan.headers where !t.headers.contains(where: { $0.name.lowercased() == h.name.lowercased() }) {
                list = curl_slist_append(list, "\(h.name): \(h.value)")
            }
            for h in t.headers where h.value.isConstant {
                list = curl_slist_append(list, "\(h.name): \(h.value.render(context: .init(user: 0, seq: 0, prompts: []), rng: &dummyRNG))")
            }
            return list
        }
        taskHeaders = plan.scenario.tasks.map(headers)
        onStartHeaders = plan.scenario.onStart.map(headers)
        constantPaths = plan.scenario.tasks.map { $0.path.isConstant ? plan.baseURL + $0.path.render(context: .init(user: 0, seq: 0, prompts: []), rng: &dummyRNG) : nil }
        constantBodies = plan.scenario.tasks.map { t in t.body.flatMap { $0.isConstant ? $0.render(context: .init(user: 0, seq: 0, prompts: []), rng: &dummyRNG) : nil } }
        reusableTask = plan.scenario.tasks.indices.map { i in
            let t = plan.scenario.tasks[i]
            return constantPaths[i] != nil && (t.body == nil || constantBodies[i] != nil) && t.headers.allSatisfy { $0.value.isConstant }
        }
    }
    private var dummyRNG = SeededRandom(seed: 0)
    /// The base URL requests go to now (the scenario's, or a live override) and its generation.
    lazy var currentBase: String = plan.baseURL
    var targetGeneration = 0
    /// A `split:` run's members' base URLs (LoadWorker+Split).
    lazy var splitBases: [String] = (plan.scenario.split?.members ?? []).map { m in
        var b = m.target
        while b.hasSuffix("/") { b.removeLast() }
        return b
    }

    /// Runs until the run is stopped; blocking. Call on a dedicated thread.
    ///
    /// Event-driven (libcurl's multi_socket API): each turn starts the users or arrivals that
    /// are due, lets libcurl run its expired timeouts (new transfers start there), sleeps in
    /// `epoll_wait` until a socket is ready, the timerfd fires (the next due user or arrival),
    /// libcurl's next timeout, the next stats flush or the 50 ms control poll, and hands each
    /// ready socket to `curl_multi_socket_action`; finished transfers are reaped after both.
    public func run() {
        schedule.lastFlush = clock.nowNanos()
        while true {
            let now = clock.nowNanos()
            if control.abort { break }
            let stopping = control.stopStarting
            if stopping {
                startDueAtStop(now: now)
                if inFlight == 0 { break }
            } else if !control.paused {
                startDue(now: now)
            }
            // New transfers set libcurl's timeout to "now"; it starts them in this call.
            if loop.pointee.deadline_ns <= now { ccurl_loop_timeout(loop) }
            reapCompleted()
            let after = clock.nowNanos()
            if after &- schedule.lastFlush >= Self.flushNanos { flush(at: after, finished: false) }
            // libcurl's own timeout (connect/request timeouts, transfers waiting to start) is the
            // deadline: whole ms are precise enough for it.
            let (timeoutMillis, preciseNanos) = pollTimeout(now: after, stopping: stopping, deadline: loop.pointee.deadline_ns)
            if let ns = preciseNanos, timer >= 0 { _ = ccurl_timer_arm_in(timer, ns) }
            _ = ccurl_loop_wait(loop, Int32(timeoutMillis), timer, wakeFD)
            reapCompleted()
        }
        let end = clock.nowNanos()
        if control.abort { cancelAll() }
        finishRun(at: end)
    }
}

extension RunPlan {
    var honorRetryAfter: Bool {
        if case .closed(let c) = scenario.load { return c.honorRetryAfter }
        return false
    }

    var waitTime: WaitTime {
        if case .closed(let c) = scenario.load { return c.waitTime }
        return .none
    }
}

extension LoadWorker: LoadGenerator, ScheduledWorker {}

/// libcurl as the run's transport: one ``LoadWorker`` (a curl multi handle on its own epoll
/// loop) per worker thread.
public struct CurlTransport: LoadTransport {
    public init() {}
    public var name: String { "curl" }
    public func prepare() throws { try Curl.globalInit() }
    public func makeGenerator(_ c: GeneratorContext) throws -> any LoadGenerator {
        try LoadWorker(plan: c.plan, index: c.index, count: c.count, control: c.control, clock: c.clock, outbox: c.outbox, startNanos: c.startNanos, shard: c.shard)
    }
}
