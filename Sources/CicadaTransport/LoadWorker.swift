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

    private var stats: IntervalStats
    private var pool: [Transfer] = []
    /// Every transfer this worker made (idle ones are also in `pool`).
    private var allTransfers: [Transfer] = []
    private var inFlight = 0
    private var lastFlush: UInt64 = 0
    /// Per task (and on_start step): constant headers built once.
    private var taskHeaders: [UnsafeMutablePointer<curl_slist>?] = []
    private var onStartHeaders: [UnsafeMutablePointer<curl_slist>?] = []
    private var constantPaths: [String?] = []
    private var constantBodies: [String?] = []
    /// Per task: whether a handle set up for it can be sent again as it is (constant path, body
    /// and headers), skipping curl_easy_reset and the options (see ``send``).
    private var reusableTask: [Bool] = []

    // Closed model.
    private struct User {
        var id: Int
        var rng: SeededRandom
        var seq: UInt64 = 0
        var onStartNext = 0
        var sequentialNext = 0
        var inFlight = false
        var retiring = false
        var active = true
        /// Intended start of the next request (ns on the run clock).
        var wakeNanos: UInt64
    }
    private var users: [User] = []
    private var freeSlots: [Int] = []
    private var activeUsers = 0
    private var wakeups = WakeHeap()

    // Open model.
    private var schedule: ArrivalSchedule?
    private var pendingArrival: (index: UInt64, position: Double)?
    /// The rate warp in force, re-read from the controls only when its generation moves.
    private var warp = RateWarp()
    private var warpGeneration = 0
    private var queue: [(index: UInt64, intendedNanos: UInt64)] = []
    private var queueHead = 0
    private let maxInFlight: Int
    private let maxQueue: Int?

    /// - Parameters:
    ///   - index: this worker's number, 0..<count.
    ///   - startNanos: the test start on `clock`; schedules are offsets from it.
    public init(plan: RunPlan, index: Int, count: Int, control: RunControl, clock: any TimeSource,
                outbox: IntervalOutbox, startNanos: UInt64) throws(CurlError) {
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
        self.stats = IntervalStats(statCount: plan.statNames.count)
        switch plan.scenario.load {
        case .closed(let c):
            maxInFlight = RunControl.share(of: c.peakUsers, worker: index, workerCount: count)
            maxQueue = nil
        case .open(let o):
            maxInFlight = max(1, RunControl.share(of: o.maxInFlight, worker: index, workerCount: count))
            maxQueue = o.maxQueue.map { RunControl.share(of: $0, worker: index, workerCount: count) }
            schedule = ArrivalSchedule(load: o, seed: plan.scenario.seed)
        }
        _ = ccurl_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, max(16, maxInFlight + 8))
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
    private lazy var currentBase: String = plan.baseURL
    private var targetGeneration = 0

    /// Runs until the run is stopped; blocking. Call on a dedicated thread.
    ///
    /// Event-driven (libcurl's multi_socket API): each turn starts the users or arrivals that
    /// are due, lets libcurl run its expired timeouts (new transfers start there), sleeps in
    /// `epoll_wait` until a socket is ready, the timerfd fires (the next due user or arrival),
    /// libcurl's next timeout, the next stats flush or the 50 ms control poll, and hands each
    /// ready socket to `curl_multi_socket_action`; finished transfers are reaped after both.
    public func run() {
        lastFlush = clock.nowNanos()
        while true {
            let now = clock.nowNanos()
            if control.abort { break }
            let stopping = control.stopStarting
            if stopping {
                if inFlight == 0 { break }
            } else if !control.paused {
                switch plan.scenario.load {
                case .closed: reconcileUsers(now: now); startDueUsers(now: now)
                case .open: startDueArrivals(now: now)
                }
            }
            // New transfers set libcurl's timeout to "now"; it starts them in this call.
            if loop.pointee.deadline_ns <= now { ccurl_loop_timeout(loop) }
            reapCompleted()
            let after = clock.nowNanos()
            if after &- lastFlush >= Self.flushNanos { flush(at: after, finished: false) }
            let (timeoutMillis, preciseNanos) = pollTimeout(now: after, stopping: stopping)
            if let ns = preciseNanos, timer >= 0 { _ = ccurl_timer_arm_in(timer, ns) }
            _ = ccurl_loop_wait(loop, Int32(timeoutMillis), timer, wakeFD)
            reapCompleted()
        }
        let end = clock.nowNanos()
        if control.abort { cancelAll() }
        // Arrivals still queued at the end never started: count them as dropped.
        stats.dropped += UInt64(queue.count - queueHead)
        flush(at: end, finished: true)
    }

    /// How long to sleep: a whole-millisecond backstop for curl, plus the exact nanoseconds to
    /// the next due user or arrival (armed on the timerfd) when one is due before it.
    private func pollTimeout(now: UInt64, stopping: Bool) -> (millis: Int, preciseNanos: UInt64?) {
        // Control changes (users, stop) are polled at least every 50 ms; stats flush every 250.
        var next = min(lastFlush &+ Self.flushNanos, now &+ 50_000_000)
        // libcurl's own timeout (connect/request timeouts, transfers waiting to start): whole ms
        // are precise enough for it.
        let curlDue = loop.pointee.deadline_ns
        if curlDue <= now { return (0, nil) }
        next = min(next, curlDue)
        var due: UInt64?
        if !stopping, !control.paused {
            // Arrivals waiting in the queue start as soon as a slot is free: never sleep past one
            // (a freed slot left idle until the next arrival would cap the drain rate).
            if queueHead < queue.count, inFlight < maxInFlight { return (0, nil) }
            if let k = wakeups.minKey { due = k }
            if let a = pendingArrival, inFlight < maxInFlight {
                if let t = intendedNanos(position: a.position) { due = min(due ?? t, t) }
            }
        }
        if let d = due, d < next {
            if d <= now { return (0, nil) }
            next = d
            return (Int((next - now) / 1_000_000) + 1, next - now)
        }
        if next <= now { return (0, nil) }
        return (Int((next - now + 999_999) / 1_000_000), nil)
    }

    // MARK: Closed model

    private func reconcileUsers(now: UInt64) {
        let want = RunControl.share(of: control.targetUsers, worker: index, workerCount: count)
        while activeUsers < want {
            let id = index + count * activeUsers
            let user = User(id: id, rng: SeededRandom(seed: plan.scenario.seed, stream: UInt64(id) + 1), wakeNanos: now)
            let slot: Int
            if let s = freeSlots.popLast() { users[s] = user; slot = s } else { users.append(user); slot = users.count - 1 }
            activeUsers += 1
            wakeups.push(now, slot)
        }
        if activeUsers > want {
            // Stop the most recently spawned users first, as Locust does.
            var order = users.indices.filter { users[$0].active && !users[$0].retiring }
            order.sort { users[$0].id > users[$1].id }
            for slot in order.prefix(activeUsers - want) {
                users[slot].retiring = true
                if !users[slot].inFlight { retire(slot) }
            }
        }
    }

    private func retire(_ slot: Int) {
        users[slot].active = false
        activeUsers -= 1
        freeSlots.append(slot)
    }

    private func startDueUsers(now: UInt64) {
        while let k = wakeups.minKey, k <= now {
            let (_, slot) = wakeups.pop()!
            guard users[slot].active, !users[slot].retiring, !users[slot].inFlight else { continue }
            let intended = users[slot].wakeNanos
            guard intended <= now else { wakeups.push(intended, slot); continue }
            stats.scheduleLag.record(nanos: now - intended)
            startUserRequest(slot: slot, intended: intended, now: now)
        }
    }

    private func startUserRequest(slot: Int, intended: UInt64, now: UInt64) {
        var user = users[slot]
        let ref: Transfer.TaskRef
        if user.onStartNext < plan.scenario.onStart.count {
            ref = .onStart(user.onStartNext)
            user.onStartNext += 1
        } else {
            switch plan.scenario.flow {
            case .weighted:
                ref = .task(plan.picker.pick(&user.rng))
            case .sequential:
                ref = .task(user.sequentialNext)
                user.sequentialNext = (user.sequentialNext + 1) % plan.scenario.tasks.count
            }
        }
        let seq = user.seq
        user.seq += 1
        user.inFlight = true
        let ok = send(ref, user: user.id, seq: seq, slot: slot, intended: intended, now: now, rng: &user.rng)
        if !ok { user.inFlight = false }
        users[slot] = user
    }

    private func userFinished(slot: Int, intended: UInt64, sent: UInt64, end: UInt64) {
        users[slot].inFlight = false
        if users[slot].retiring { retire(slot); return }
        let wait = plan.waitTime
        if let period = wait.pacingPeriod {
            // Keep the pacing grid: the next request is due one period after this one's slot.
            users[slot].wakeNanos = intended &+ period.nanos
        } else {
            let w = wait.wait(taskTook: .nanos(end &- sent), rng: &users[slot].rng)
            users[slot].wakeNanos = end &+ w.nanos
        }
        wakeups.push(max(users[slot].wakeNanos, end), slot)
    }

    // MARK: Open model

    private func startDueArrivals(now: UInt64) {
        // Queued arrivals first (FIFO), into free slots.
        while queueHead < queue.count, inFlight < maxInFlight {
            let a = queue[queueHead]
            queueHead += 1
            startArrival(index: a.index, intended: a.intendedNanos, now: now)
        }
        if queueHead > 1024, queueHead * 2 > queue.count { queue.removeFirst(queueHead); queueHead = 0 }
        let generation = control.warpGeneration
        if generation != warpGeneration { warp = control.warp; warpGeneration = generation }
        while true {
            if pendingArrival == nil { pendingArrival = nextOwnArrival() }
            // Past the schedule's end the arrival waits (a later rate change may bring it in).
            guard let a = pendingArrival, let intended = intendedNanos(position: a.position), intended <= now else { break }
            pendingArrival = nil
            stats.scheduleLag.record(nanos: now - intended)
            if inFlight < maxInFlight, queueHead == queue.count {
                startArrival(index: a.index, intended: intended, now: now)
            } else if let cap = maxQueue, queue.count - queueHead >= cap {
                stats.dropped += 1
            } else {
                queue.append((a.index, intended))
            }
        }
    }

    /// An arrival's intended start on the run clock, under the live rate changes so far
    /// (``RateWarp``: a change applies from the moment it is made); nil past the schedule's end.
    private func intendedNanos(position: Double) -> UInt64? {
        schedule?.offsetNanos(forPosition: position, warp: warp).map { startNanos &+ $0 }
    }

    private func nextOwnArrival() -> (index: UInt64, position: Double)? {
        guard schedule != nil else { return nil }
        while true {
            let a = schedule!.nextPosition()
            if a.index % UInt64(count) == UInt64(index) { return a }
        }
    }

    private func startArrival(index: UInt64, intended: UInt64, now: UInt64) {
        var rng = SeededRandom(seed: plan.scenario.seed, stream: (1 << 40) &+ index)
        let t = plan.picker.pick(&rng)
        _ = send(.task(t), user: Int(index), seq: index, slot: -1, intended: intended, now: now, rng: &rng)
    }

    // MARK: Transport

    private func checkout() -> Transfer? {
        if let t = pool.popLast() { return t }
        guard let t = Transfer() else { return nil }
        allTransfers.append(t)
        return t
    }

    /// Sends one request; false when no handle could be made (recorded as a failure).
    private func send(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, now: UInt64, rng: inout SeededRandom) -> Bool {
        let spec: TaskSpec
        let statIndex: Int
        let baseHeaders: UnsafeMutablePointer<curl_slist>?
        var url: String?
        var body: String?
        switch ref {
        case .task(let i):
            spec = plan.scenario.tasks[i]; statIndex = plan.taskStat[i]; baseHeaders = taskHeaders[i]
            url = constantPaths[i]; body = constantBodies[i]
        case .onStart(let i):
            spec = plan.scenario.onStart[i]; statIndex = plan.onStartStat[i]; baseHeaders = onStartHeaders[i]
        }
        let ctx = Template.Context(user: user, seq: seq, prompts: plan.scenario.prompts)
        let generation = control.targetGeneration
        if generation != targetGeneration {
            targetGeneration = generation
            var base = control.targetOverride ?? plan.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            currentBase = base
        }
        let retargeted = currentBase != plan.baseURL
        if retargeted { url = nil }
        if url == nil { url = currentBase + spec.path.render(context: ctx, rng: &rng) }
        if body == nil, let b = spec.body { body = b.render(context: ctx, rng: &rng) }

        guard let t = checkout() else {
            stats.record(RequestOutcome(statIndex: statIndex, intendedNanos: intended, sentNanos: now, endNanos: now, ttfbMicros: nil,
                                        status: 0, failure: .connection, error: "curl_easy_init failed", bytesIn: 0, bytesOut: 0),
                         method: spec.method, name: spec.name)
            return false
        }
        let e = t.easy
        // A handle last set up for this same constant request (same task, same target) keeps
        // every option in libcurl: send it again as it is. Otherwise reset and set up.
        var setupKey: Int? = nil
        if case .task(let i) = ref, reusableTask[i], !retargeted { setupKey = i }
        if let k = setupKey, t.setupKey == k, t.setupGeneration == targetGeneration {
            if let body { t.bytesOut = UInt64(body.utf8.count) }
            return start(t, spec: spec, ref: ref, statIndex: statIndex, slot: slot, intended: intended)
        }
        t.setupKey = nil
        curl_easy_reset(e)
        _ = ccurl_easy_setopt_string(e, CURLOPT_URL, url!)
        _ = ccurl_easy_setopt_long(e, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_string(e, CURLOPT_NOPROXY, "*")
        _ = ccurl_easy_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, Int(plan.scenario.timeouts.connect.milliseconds))
        _ = ccurl_easy_setopt_long(e, CURLOPT_TIMEOUT_MS, Int(plan.scenario.timeouts.request.milliseconds))
        _ = ccurl_easy_setopt_long(e, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_easy_setopt_long(e, CURLOPT_DNS_CACHE_TIMEOUT, 300)
        ccurl_loop_attach(loop, e)
        if plan.scenario.insecure {
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYHOST, 0)
        }
        if plan.scenario.http2 {
            let v = url!.hasPrefix("https:") ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            _ = ccurl_easy_setopt_long(e, CURLOPT_HTTP_VERSION, Int(v))
            _ = ccurl_easy_setopt_long(e, CURLOPT_PIPEWAIT, 1)
        } else {
            _ = ccurl_easy_setopt_long(e, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        }
        switch spec.method {
        case "GET": break
        case "HEAD": _ = ccurl_easy_setopt_long(e, CURLOPT_NOBODY, 1)
        case "POST": _ = ccurl_easy_setopt_long(e, CURLOPT_POST, 1)
        default: _ = ccurl_easy_setopt_string(e, CURLOPT_CUSTOMREQUEST, spec.method)
        }
        if let body {
            // COPYPOSTFIELDS copies `size` bytes at once, so the string's own UTF-8 storage is
            // handed over without an intermediate array.
            let size = body.utf8.count
            _ = ccurl_easy_setopt_long(e, CURLOPT_POSTFIELDSIZE, size)
            _ = ccurl_easy_setopt_string(e, CURLOPT_COPYPOSTFIELDS, body)
            t.bytesOut = UInt64(size)
        } else if spec.method == "POST" {
            _ = ccurl_easy_setopt_long(e, CURLOPT_POSTFIELDSIZE, 0)
            _ = ccurl_easy_setopt_string(e, CURLOPT_COPYPOSTFIELDS, "")
        }
        var headers = baseHeaders
        if spec.headers.contains(where: { !$0.value.isConstant }) {
            // Templated headers: a list of this request's own, plus the constant ones.
            var list: UnsafeMutablePointer<curl_slist>? = nil
            var node = baseHeaders
            while let n = node { list = curl_slist_append(list, n.pointee.data); node = n.pointee.next }
            for h in spec.headers where !h.value.isConstant {
                list = curl_slist_append(list, "\(h.name): \(h.value.render(context: ctx, rng: &rng))")
            }
            t.ownedHeaders = list
            headers = list
        }
        _ = ccurl_easy_setopt_slist(e, CURLOPT_HTTPHEADER, headers)
        _ = ccurl_easy_setopt_write_function(e, CURLOPT_WRITEFUNCTION, transferWriteCallback)
        let ctxPtr = Unmanaged.passUnretained(t).toOpaque()
        _ = ccurl_easy_setopt_pointer(e, CURLOPT_WRITEDATA, ctxPtr)
        _ = ccurl_easy_setopt_pointer(e, CURLOPT_PRIVATE, ctxPtr)
        _ = ccurl_easy_setopt_prereq_function(e, transferPrereqCallback)
        _ = ccurl_easy_setopt_prereq_data(e, ctxPtr)
        t.setupKey = setupKey
        t.setupGeneration = targetGeneration
        return start(t, spec: spec, ref: ref, statIndex: statIndex, slot: slot, intended: intended)
    }

    /// Hands a set-up handle to libcurl. True also when adding it failed (recorded as a failure).
    private func start(_ t: Transfer, spec: TaskSpec, ref: Transfer.TaskRef, statIndex: Int, slot: Int, intended: UInt64) -> Bool {
        let e = t.easy
        t.keepBody = spec.needsBody || spec.kind.isOpenAI
        t.checksNeedBody = spec.needsBody
        t.measureStream = spec.kind.isOpenAI
        t.clock = clock
        t.statIndex = statIndex
        t.task = ref
        t.userSlot = slot
        t.intendedNanos = intended
        t.sentNanos = clock.nowNanos()
        t.attempts = 0
        t.refusedResendNanos = nil
        inFlight += 1
        t.active = true
        let rc = curl_multi_add_handle(multi, e)
        if rc != CURLM_OK {
            inFlight -= 1
            t.active = false
            complete(t, code: CURLE_FAILED_INIT, end: clock.nowNanos(), message: "curl_multi_add_handle: " + String(cString: curl_multi_strerror(rc)))
            return true
        }
        return true
    }

    private func reapCompleted() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let e = msg.pointee.easy_handle else { continue }
            let code = ccurl_msg_result(msg)
            var ptr: UnsafeMutableRawPointer?
            _ = ccurl_easy_getinfo_pointer(e, CURLINFO_PRIVATE, &ptr)
            let end = clock.nowNanos()
            guard let ptr else { curl_multi_remove_handle(multi, e); continue }
            let t = Unmanaged<Transfer>.fromOpaque(ptr).takeUnretainedValue()
            curl_multi_remove_handle(multi, e)
            inFlight -= 1
            t.active = false
            complete(t, code: code, end: end, message: nil)
        }
    }

    private func complete(_ t: Transfer, code: CURLcode, end: UInt64, message: String?) {
        var end = end
        var status = 0
        var ttfb: UInt64?
        if code == CURLE_OK {
            var s = 0
            _ = ccurl_easy_getinfo_long(t.easy, CURLINFO_RESPONSE_CODE, &s)
            status = s
            var st: curl_off_t = 0
            if ccurl_easy_getinfo_off(t.easy, CURLINFO_STARTTRANSFER_TIME_T, &st) == CURLE_OK, st > 0 { ttfb = UInt64(st) }
        }
        let spec: TaskSpec
        switch t.task {
        case .task(let i): spec = plan.scenario.tasks[i]
        case .onStart(let i): spec = plan.scenario.onStart[i]
        }
        var failure: FailureKind?
        var reason: String?
        if code != CURLE_OK {
            t.setupKey = nil   // set the handle up afresh after a transport error
            if code == CURLE_ABORTED_BY_CALLBACK, let at = t.refusedResendNanos {
                // The connection died before the first response byte; the request ends when
                // that was found, not after the connect libcurl made for its re-send.
                failure = .connectionReset
                reason = Self.refusedResendMessage
                end = max(t.sentNanos, min(end, at))
            } else {
                failure = Self.failureKind(for: code)
                reason = message ?? String(cString: curl_easy_strerror(code))
            }
        } else {
            (failure, reason) = Self.judge(status: status, body: t.body, checks: spec.checks)
            if failure == .rateLimited {
                var after: curl_off_t = -1
                if ccurl_easy_getinfo_off(t.easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK, after > 0 {
                    reason = "HTTP 429 (Retry-After \(after)s)"
                }
            }
        }
        var outcome = RequestOutcome(statIndex: t.statIndex, intendedNanos: t.intendedNanos, sentNanos: t.sentNanos, endNanos: end,
                                     ttfbMicros: ttfb, status: status, failure: failure, error: reason,
                                     bytesIn: t.bytesIn, bytesOut: t.bytesOut)
        if var timing = t.timing {
            t.sse?.finish { event in timing.record(OpenAIStreamChunk.classify(event.data), atNanos: end) }
            if outcome.failure == nil, let e = timing.error {
                outcome.failure = .streamError
                outcome.error = "error in stream: " + e
            }
            let stream = Self.streamOutcome(timing)
            outcome.stream = stream
            outcome.good = outcome.failure == nil && (plan.scenario.goodput?.isMet(by: stream) ?? false)
        }
        stats.record(outcome, method: spec.method, name: spec.name)
        let slot = t.userSlot
        let intended = t.intendedNanos, sent = t.sentNanos
        t.prepareForReuse()
        pool.append(t)
        if slot >= 0 { userFinished(slot: slot, intended: intended, sent: sent, end: end) }
    }

    /// The per-token figures of a finished stream, in microseconds.
    static func streamOutcome(_ t: StreamTiming) -> StreamOutcome {
        func us(_ n: UInt64?) -> UInt64? { n.map { ($0 + 500) / 1000 } }
        return StreamOutcome(ttftMicros: us(t.ttftNanos), firstContentMicros: us(t.firstContentNanos), tpotMicros: us(t.tpotNanos),
                             e2elMicros: us(t.e2elNanos), itlMicros: t.interChunkNanos.map { ($0 + 500) / 1000 },
                             outputTokens: t.outputTokens, inputTokens: t.usage?.promptTokens,
                             outputTokensFromUsage: t.outputTokensFromUsage)
    }

    /// The error message of a request whose keep-alive connection died before its first
    /// response byte (libcurl's re-send refused).
    static let refusedResendMessage = "connection closed before any response byte (reused keep-alive connection or HTTP/2 stream; not re-sent)"

    /// The failure kind of a libcurl error: what the server (or the network) did, as far as
    /// libcurl's code tells it.
    static func failureKind(for code: CURLcode) -> FailureKind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT: return .connectionRefused
        // Closed or reset after the request went out: nothing back, or a response cut short
        // (short of its Content-Length or its last chunk), or an HTTP/2 stream reset.
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2_STREAM: return .connectionReset
        // Bytes that are not HTTP: garbage, HTTP/0.9, a bad content encoding, HTTP/2 framing.
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2: return .protocolError
        default: return .connection
        }
    }

    /// Classifies a response against a task's checks (the default accepts 2xx and 3xx).
    static func judge(status: Int, body: [UInt8], checks: [Check]) -> (FailureKind?, String?) {
        let statusCheck = checks.first { if case .status = $0 { return true } else { return false } } ?? Check.defaultStatus
        if statusCheck.failure(status: status, body: body) != nil {
            let kind: FailureKind = status == 429 ? .rateLimited : (400..<500).contains(status) ? .http4xx : (500..<600).contains(status) ? .http5xx : .httpOther
            return (kind, "HTTP \(status)")
        }
        for c in checks {
            if case .status = c { continue }
            if let why = c.failure(status: status, body: body) { return (.check, why) }
        }
        return (nil, nil)
    }

    /// Requests cut off by an abort have no outcome: their handles are detached, and only counted
    /// (``IntervalStats/cutOff``), so the report says how many are missing from the latencies.
    private func cancelAll() {
        var left: Int32 = 0
        while curl_multi_info_read(multi, &left) != nil {}
        for t in allTransfers where t.active {
            stats.cutOff += 1
            curl_multi_remove_handle(multi, t.easy)
            t.active = false
            t.prepareForReuse()
            t.setupKey = nil
            pool.append(t)
        }
        inFlight = 0
    }

    private func flush(at now: UInt64, finished: Bool) {
        let gauges = WorkerGauges(users: activeUsers, inFlight: inFlight, queued: queue.count - queueHead)
        outbox.post(.init(worker: index, stats: stats, gauges: gauges, finished: finished))
        stats = IntervalStats(statCount: plan.statNames.count)
        lastFlush = now
    }
}

extension RunPlan {
    var waitTime: WaitTime {
        if case .closed(let c) = scenario.load { return c.waitTime }
        return .none
    }
}

/// The closed model's timer queue of user wake-ups: a binary min-heap of (intended start, user
/// slot). Concrete and in this module on purpose: a generic heap in CicadaCore, called across
/// modules unspecialised, cost ~8k instructions per request in callgrind.
struct WakeHeap {
    private var keys: [UInt64] = []
    private var slots: [Int] = []
    var minKey: UInt64? { keys.first }

    mutating func push(_ key: UInt64, _ slot: Int) {
        keys.append(key); slots.append(slot)
        var i = keys.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if keys[p] <= keys[i] { break }
            keys.swapAt(p, i); slots.swapAt(p, i); i = p
        }
    }

    /// Removes and returns the entry with the smallest key.
    mutating func pop() -> (key: UInt64, value: Int)? {
        guard !keys.isEmpty else { return nil }
        let last = keys.count - 1
        keys.swapAt(0, last); slots.swapAt(0, last)
        let top = (key: keys.removeLast(), value: slots.removeLast())
        let n = keys.count
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, keys[l] < keys[m] { m = l }
            if r < n, keys[r] < keys[m] { m = r }
            if m == i { break }
            keys.swapAt(i, m); slots.swapAt(i, m); i = m
        }
        return top
    }
}
