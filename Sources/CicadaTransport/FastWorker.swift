import CCurl
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// One load-generating thread of the fast transport: plain `http://` HTTP/1.1 keep-alive on
/// non-blocking sockets in one epoll loop, with no libcurl on the path (wrk's design).
///
/// Users and arrivals are scheduled exactly as in the libcurl worker (``ScheduledWorker``),
/// and every request is timed the same way: its intended start, its send (when its bytes are
/// handed to the socket, or when its connect starts), its first response byte (TTFB) and the
/// moment the loop sees its last byte. A request's bytes are built once per constant task
/// (one `send` per request; templated tasks render theirs per request), and a response is read
/// into one receive buffer until the kernel has no more, then parsed in place
/// (``HTTPResponseParser``); event streams are parsed from that buffer as they arrive.
/// Failures get the libcurl path's kinds and messages; a request is never re-sent.
public final class FastWorker: @unchecked Sendable {
    let plan: RunPlan
    let index: Int
    let count: Int
    let control: RunControl
    let clock: any TimeSource
    let outbox: IntervalOutbox
    let startNanos: UInt64
    var stats: IntervalStats
    var schedule: WorkerSchedule
    var inFlight = 0

    let epfd: Int32
    /// A timerfd for sub-millisecond wake-ups and an eventfd for ``wake()`` (-1 if refused).
    let timer: Int32
    let wakeFD: Int32
    /// Connections by descriptor.
    var byFD: [FastConnection?] = []
    /// Kept-alive connections ready for a request (most recently used last).
    var idle: [FastConnection] = []
    /// The receive buffer every read goes into.
    let recvBuffer: UnsafeMutableRawBufferPointer
    let events: UnsafeMutablePointer<epoll_event>
    static let maxEvents: Int32 = 256
    static let recvBytes = 256 * 1024

    /// Where requests go now, its generation, and why it cannot be reached (unresolvable).
    var target: FastTarget
    var targetGeneration = 0
    var targetError: String?
    /// A `split:` run: each member's target (a live retarget leaves them), why it cannot be
    /// reached, and its own pool of kept-alive connections; empty without a split.
    var splitTargets: [FastTarget] = []
    var splitErrors: [String?] = []
    var splitIdle: [[FastConnection]] = []
    /// Per task: the whole request, bytes ready to send, when it is constant (nil: templated).
    var prebuilt: [[UInt8]?] = []
    /// The scenario's tasks and `on_start` tasks, boxed once (``FastTask``).
    let tasks: [FastTask]
    let onStartTasks: [FastTask]
    /// The earliest deadline of a request in flight (timeouts are checked when it passes).
    var earliestDeadline: UInt64 = .max
    let connectTimeoutNanos: UInt64
    let requestTimeoutNanos: UInt64

    /// A base URL without its trailing slashes (as the run's own base URL).
    static func trimmed(_ base: String) -> String {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        return b
    }

    /// Why the fast transport cannot take a base URL.
    struct NotApplicable: Error, CustomStringConvertible { var description: String }

    public init(plan: RunPlan, index: Int, count: Int, control: RunControl, clock: any TimeSource,
                outbox: IntervalOutbox, startNanos: UInt64, shard: ShardSpec = .single) throws {
        guard var t = FastTarget.parse(plan.baseURL) else {
            throw NotApplicable(description: "--transport fast needs a plain http:// target, not \(plan.baseURL)")
        }
        targetError = t.resolve()
        target = t
        var members: [FastTarget] = [], errors: [String?] = []
        for m in plan.scenario.split?.members ?? [] {
            guard var mt = FastTarget.parse(Self.trimmed(m.target)) else {
                throw NotApplicable(description: "--transport fast needs a plain http:// target, not \(m.target)")
            }
            errors.append(mt.resolve())
            members.append(mt)
        }
        splitTargets = members; splitErrors = errors
        tasks = plan.scenario.tasks.indices.map { FastTask(spec: plan.scenario.tasks[$0], statIndex: plan.taskStat[$0]) }
        onStartTasks = plan.scenario.onStart.indices.map { FastTask(spec: plan.scenario.onStart[$0], statIndex: plan.onStartStat[$0]) }
        splitIdle = Array(repeating: [], count: members.count)
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw NotApplicable(description: "epoll_create1 failed: " + String(cString: strerror(errno))) }
        epfd = ep
        self.plan = plan; self.index = index; self.count = count; self.control = control
        self.clock = clock; self.outbox = outbox; self.startNanos = startNanos
        stats = IntervalStats(statCount: plan.statNames.count, sampling: plan.requestSampling, worker: index)
        schedule = WorkerSchedule(plan: plan, index: index, count: count, startNanos: startNanos, shard: shard)
        connectTimeoutNanos = UInt64(max(1, plan.scenario.timeouts.connect.nanos))
        requestTimeoutNanos = UInt64(max(1, plan.scenario.timeouts.request.nanos))
        timer = ccurl_timer_create()
        wakeFD = ccurl_eventfd_create()
        recvBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.recvBytes, alignment: 16)
        events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(Self.maxEvents))
        if timer >= 0 { watch(timer) }
        if wakeFD >= 0 { watch(wakeFD) }
        buildPrebuilt()
    }

    deinit {
        for c in byFD { if let c { close(c.fd) } }
        close(epfd)
        if timer >= 0 { close(timer) }
        if wakeFD >= 0 { close(wakeFD) }
        recvBuffer.deallocate()
        events.deallocate()
    }

    private func watch(_ fd: Int32) {
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)
    }

    /// Wakes the worker from its wait (thread-safe), e.g. when the run is stopping.
    public func wake() { if wakeFD >= 0 { ccurl_eventfd_signal(wakeFD) } }

    /// Runs until the run is stopped; blocking. Call on a dedicated thread.
    ///
    /// Each turn starts the users or arrivals that are due, fails requests past their
    /// deadline, hands stats over every 250 ms, then sleeps in `epoll_wait` until a socket is
    /// ready, the timerfd fires (the next due user or arrival), the next deadline, the next
    /// flush or the 50 ms control poll; every ready socket is then served.
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
            let after = clock.nowNanos()
            if after >= earliestDeadline { expire(now: after) }
            if after &- schedule.lastFlush >= LoadWorker.flushNanos { flush(at: after, finished: false) }
            let (millis, precise) = pollTimeout(now: after, stopping: stopping, deadline: earliestDeadline)
            if let ns = precise, timer >= 0 { _ = ccurl_timer_arm_in(timer, ns) }
            let n = epoll_wait(epfd, events, Self.maxEvents, Int32(millis))
            if n > 0 {
                for i in 0..<Int(n) { handle(fd: events[i].data.fd, events: events[i].events) }
            }
        }
        let end = clock.nowNanos()
        if control.abort { cancelAll() }
        closeAll()
        finishRun(at: end)
    }

    private func handle(fd: Int32, events ev: UInt32) {
        if fd == timer || fd == wakeFD {
            var v: UInt64 = 0
            _ = read(fd, &v, 8)
            return
        }
        guard fd >= 0, Int(fd) < byFD.count, let c = byFD[Int(fd)] else { return }
        if !c.connected {
            connectFinished(c)
            return
        }
        if ev & EPOLLOUT.rawValue != 0, c.busy, c.outOffset < c.out.count {
            writeOut(c)
            if byFD[Int(fd)] !== c { return }
        }
        if ev & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue | EPOLLRDHUP.rawValue) != 0 {
            if c.busy { readResponse(c) } else { idleReadable(c) }
        }
    }

    // MARK: Connections

    /// Sets what the epoll set watches on `c` (one epoll_ctl only when it changes).
    func setInterest(_ c: FastConnection, _ mask: UInt32) {
        guard c.interest != mask else { return }
        var ev = epoll_event()
        ev.events = mask
        ev.data.fd = c.fd
        _ = epoll_ctl(epfd, c.interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev)
        c.interest = mask
    }

    /// Opens a non-blocking connection to the target; the errno when socket() or connect() failed.
    func openConnection(to target: FastTarget) -> Result<FastConnection, Errno> {
        let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(errno, inConnect: false)) }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = target.address
        let length = target.addressLength
        let rc = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        let c = FastConnection(fd: fd, generation: targetGeneration)
        if Int(fd) >= byFD.count { byFD.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - byFD.count + 64)) }
        if rc == 0 {
            c.connected = true
        } else if errno != EINPROGRESS {
            let e = errno
            close(fd)
            return .failure(Errno(e, inConnect: true))
        }
        byFD[Int(fd)] = c
        setInterest(c, c.connected ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : EPOLLOUT.rawValue)
        return .success(c)
    }

    /// An errno from opening a connection, and whether connect() (not socket()) gave it.
    struct Errno: Error { var code: Int32; var inConnect: Bool; init(_ c: Int32, inConnect: Bool) { code = c; self.inConnect = inConnect } }

    /// The connect of a request's connection ended (writable, or an error).
    private func connectFinished(_ c: FastConnection) {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { err = errno }
        if err != 0 {
            fail(c, connectErrno: err, end: clock.nowNanos())
            return
        }
        c.connected = true
        if c.busy {
            // The request's timeout runs on; the connect timeout no longer applies.
            c.deadlineNanos = c.sentNanos &+ requestTimeoutNanos
            setInterest(c, EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            writeOut(c)
        }
    }

    /// Closes a connection (and forgets it).
    func drop(_ c: FastConnection) {
        if Int(c.fd) < byFD.count, byFD[Int(c.fd)] === c { byFD[Int(c.fd)] = nil }
        // Closing takes it out of the epoll set.
        close(c.fd)
        c.interest = 0
    }

    /// An idle kept-alive connection became readable: the server closed it (or sent bytes no
    /// request asked for). Either way it cannot carry a request any more.
    private func idleReadable(_ c: FastConnection) {
        if c.member >= 0 {
            if let i = splitIdle[c.member].lastIndex(where: { $0 === c }) { splitIdle[c.member].remove(at: i) }
        } else if let i = idle.lastIndex(where: { $0 === c }) { idle.remove(at: i) }
        drop(c)
    }

    private func closeAll() {
        for c in byFD { if let c { drop(c) } }
        idle.removeAll()
        for m in splitIdle.indices { splitIdle[m].removeAll() }
    }

    /// Requests past their deadline fail as `timeout` (libcurl's "Timeout was reached"); the
    /// next deadline is found on the way.
    private func expire(now: UInt64) {
        var next = UInt64.max
        for case let c? in byFD where c.busy {
            if c.deadlineNanos <= now {
                fail(c, kind: .timeout, message: "Timeout was reached", end: now)
            } else {
                next = min(next, c.deadlineNanos)
            }
        }
        earliestDeadline = next
    }

    /// Requests cut off by an abort have no outcome: only counted (``IntervalStats/cutOff``).
    private func cancelAll() {
        for case let c? in byFD where c.busy {
            stats.cutOff += 1
            c.busy = false
        }
        inFlight = 0
    }
}

extension FastWorker: LoadGenerator, ScheduledWorker {}

/// One task of the run as the fast worker sends it: its spec, boxed once so that a request
/// holds a reference instead of a copy (a ``TaskSpec`` copy retains and releases each of its
/// strings, templates and arrays), and what each request asks of it.
final class FastTask {
    let spec: TaskSpec
    let statIndex: Int
    let isHEAD: Bool
    let needsBody: Bool
    let streamDialect: StreamTiming.Dialect?
    init(spec: TaskSpec, statIndex: Int) {
        self.spec = spec
        self.statIndex = statIndex
        isHEAD = spec.method == "HEAD"
        needsBody = spec.needsBody
        streamDialect = spec.kind.streamDialect
    }
}

/// The fast transport: one ``FastWorker`` (plain HTTP/1.1 on its own epoll loop) per worker
/// thread. Only for `http://` targets without HTTP/2; ``TransportChoice`` picks it.
public struct FastTransport: LoadTransport {
    public init() {}
    public var name: String { "fast" }
    /// libcurl is still initialised once: other parts of a run (telemetry scrapes) use it.
    public func prepare() throws { try Curl.globalInit() }
    public func makeGenerator(_ c: GeneratorContext) throws -> any LoadGenerator {
        try FastWorker(plan: c.plan, index: c.index, count: c.count, control: c.control, clock: c.clock, outbox: c.outbox, startNanos: c.startNanos, shard: c.shard)
    }

    /// Why the fast transport cannot carry `plan` (nil: it can): TLS, HTTP/2, or a base URL
    /// it does not take (the run's or a split member's).
    public static func unsupported(_ plan: RunPlan) -> String? {
        if plan.scenario.http2 { return "HTTP/2 needs libcurl" }
        // Warm-up/cool-down windows, --requests-out records, tokenizer counts, replayed traces,
        // weighted model lists, splits and conversations are carried (see RequestChoices).
        let s = plan.scenario
        if FastTarget.parse(plan.baseURL) == nil {
            return plan.baseURL.lowercased().hasPrefix("https:") ? "TLS (https://) needs libcurl" : "the target \(plan.baseURL) is not a plain http:// URL"
        }
        for m in s.split?.members ?? [] where FastTarget.parse(FastWorker.trimmed(m.target)) == nil {
            return m.target.lowercased().hasPrefix("https:") ? "TLS (https://) needs libcurl (split member \(m.name))" : "the split member \(m.name)'s target \(m.target) is not a plain http:// URL"
        }
        return nil
    }
}
