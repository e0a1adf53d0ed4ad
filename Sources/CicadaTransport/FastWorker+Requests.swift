import CCurl
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The fast worker's requests: building their bytes, sending, reading and judging responses.
extension FastWorker {
    /// The request head up to (not including) the blank line, and the body, for one request.
    private func requestBytes(spec: TaskSpec, path: String, body: String?, templated: [(String, String)], to target: FastTarget) -> [UInt8] {
        var head = "\(spec.method) \(target.pathPrefix)\(path) HTTP/1.1\r\n"
        var names = Set(spec.headers.map { $0.name.lowercased() })
        for h in plan.headers { names.insert(h.name.lowercased()) }
        if !names.contains("host") { head += "Host: \(target.hostHeader)\r\n" }
        if !names.contains("accept") { head += "Accept: */*\r\n" }
        // As libcurl: the run's headers unless the task sets the same one, then the task's.
        for h in plan.headers where !spec.headers.contains(where: { $0.name.lowercased() == h.name.lowercased() }) {
            head += "\(h.name): \(h.value)\r\n"
        }
        var scratch = SeededRandom(seed: 0)
        for h in spec.headers where h.value.isConstant {
            head += "\(h.name): \(h.value.render(context: .init(user: 0, seq: 0, prompts: []), rng: &scratch))\r\n"
        }
        for (n, v) in templated { head += "\(n): \(v)\r\n" }
        if body != nil || spec.method == "POST" {
            head += "Content-Length: \(body?.utf8.count ?? 0)\r\n"
            if !names.contains("content-type") { head += "Content-Type: application/x-www-form-urlencoded\r\n" }
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes.append(contentsOf: body.utf8) }
        return bytes
    }

    /// Builds the bytes of every constant task once (for the current target).
    func buildPrebuilt() {
        var scratch = SeededRandom(seed: 0)
        let ctx = Template.Context(user: 0, seq: 0, prompts: [])
        prebuilt = plan.scenario.tasks.map { t in
            guard t.path.isConstant, t.body?.isConstant ?? true, t.headers.allSatisfy({ $0.value.isConstant }) else { return nil }
            return requestBytes(spec: t, path: t.path.render(context: ctx, rng: &scratch), body: t.body?.render(context: ctx, rng: &scratch), templated: [], to: target)
        }
    }

    /// Follows a live target change: the new base is parsed and resolved, idle connections
    /// to the old one are closed, constant requests rebuilt.
    private func followTarget() {
        let generation = control.targetGeneration
        guard generation != targetGeneration else { return }
        targetGeneration = generation
        var base = control.targetOverride ?? plan.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if var t = FastTarget.parse(base) {
            targetError = t.resolve()
            target = t
        } else {
            targetError = "the fast transport cannot send to \(base) (not a plain http:// URL)"
        }
        for c in idle { drop(c) }
        idle.removeAll()
        buildPrebuilt()
    }

    /// Sends one request (or records why it could not be sent); false only when no request
    /// was started or recorded.
    func send(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, now: UInt64, rng: inout SeededRandom) -> Bool {
        let task: FastTask
        var bytes: [UInt8]?
        switch ref {
        case .task(let i): task = tasks[i]
        case .onStart(let i): task = onStartTasks[i]
        }
        let statIndex = task.statIndex
        followTarget()
        // The model, the conversation's turn, the trace's prompt and the phase: shared with the
        // libcurl worker.
        var choices = requestChoices(ref, user: user, seq: seq, slot: slot, intended: intended, rng: &rng)
        // A split run: the seeded chooser names the member; its own target and pool take it.
        let member = plan.scenario.split == nil ? -1 : splitMember(user: user, seq: seq, slot: slot)
        if member >= 0 {
            choices.splitGroup = plan.breakdown.firstSplitGroup + member
            choices.splitStepSlot = splitStepSlot(member: member)
        }
        let to = member >= 0 ? splitTargets[member] : target
        if member < 0, case .task(let i) = ref { bytes = prebuilt[i] }
        if bytes == nil {
            let ctx = choices.context
            let path = task.spec.path.render(context: ctx, rng: &rng)
            let body = task.spec.body.map { $0.render(context: ctx, rng: &rng) }
            var templated: [(String, String)] = []
            for h in task.spec.headers where !h.value.isConstant { templated.append((h.name, h.value.render(context: ctx, rng: &rng))) }
            bytes = requestBytes(spec: task.spec, path: path, body: body, templated: templated, to: to)
        }
        let bodyCount = task.spec.body == nil ? 0 : UInt64(bytes!.count - Self.headLength(bytes!))
        if let why = member >= 0 ? splitErrors[member] : targetError {
            recordImmediateFailure(task: task, slot: slot, intended: intended, now: now, choices: choices, kind: .connection, message: why)
            return true
        }
        let c: FastConnection
        if member < 0, let k = idle.popLast() {
            c = k
        } else if member >= 0, let k = splitIdle[member].popLast() {
            c = k
        } else {
            switch openConnection(to: to) {
            case .success(let k): c = k; c.member = member
            case .failure(let e):
                let kind: FailureKind
                let message: String
                if let why = LoadWorker.localLimit(errno: e.code) {
                    kind = .connection; message = why
                } else if e.inConnect {
                    kind = .connectionRefused; message = "Couldn't connect to server"
                } else {
                    kind = .connection; message = "socket: " + String(cString: strerror(e.code))
                }
                recordImmediateFailure(task: task, slot: slot, intended: intended, now: now, choices: choices, kind: kind, message: message)
                return true
            }
        }
        c.out = bytes!
        c.outOffset = 0
        c.parser.reset(requestWasHEAD: task.isHEAD)
        c.statIndex = statIndex
        c.task = task
        c.userSlot = slot
        c.intendedNanos = intended
        c.keepBody = task.needsBody || task.streamDialect != nil
        c.checksNeedBody = task.needsBody
        c.measureStream = task.streamDialect != nil
        c.streamDialect = task.streamDialect ?? .openAI
        c.keepsStreamText = plan.scenario.tokenizer != nil
        c.phase = choices.phase
        c.modelGroup = choices.modelGroup
        c.splitGroup = choices.splitGroup
        c.splitStepSlot = choices.splitStepSlot
        c.turn = choices.turn
        c.bytesOut = bodyCount
        c.busy = true
        c.sentNanos = clock.nowNanos()
        c.deadlineNanos = c.sentNanos &+ (c.connected ? requestTimeoutNanos : min(requestTimeoutNanos, connectTimeoutNanos))
        if c.deadlineNanos < earliestDeadline { earliestDeadline = c.deadlineNanos }
        inFlight += 1
        if c.connected { writeOut(c) }
        return true
    }

    /// The length of a request's head (through its blank line).
    static func headLength(_ b: [UInt8]) -> Int {
        b.withUnsafeBytes { HTTPResponseParser.headEnd($0, from: 0) } ?? b.count
    }

    private func recordImmediateFailure(task: FastTask, slot: Int, intended: UInt64, now: UInt64, choices: RequestChoices,
                                        kind: FailureKind, message: String) {
        var o = RequestOutcome(statIndex: task.statIndex, intendedNanos: intended, sentNanos: now, endNanos: clock.nowNanos(), ttfbMicros: nil,
                               status: 0, failure: kind, error: message, bytesIn: 0, bytesOut: 0)
        o.modelGroup = choices.modelGroup
        o.splitGroup = choices.splitGroup
        o.splitStepSlot = choices.splitStepSlot
        o.turnGroup = choices.turn.turnGroup
        var sse: SSEParser? = nil
        // A conversation whose turn could not be sent ends (no answer to send back).
        let turn = choices.turn
        record(o, spec: task.spec, timing: nil, sse: &sse, slot: slot, retryAfterSeconds: nil, phase: choices.phase,
               judged: turn.key >= 0 ? { _ in self.turnEnded(turn, succeeded: false, answer: "", spec: task.spec) } : nil)
    }

    /// Writes what is left of the request: one `send` for a whole request; a partial write
    /// waits for the socket to be writable again.
    func writeOut(_ c: FastConnection) {
        while c.outOffset < c.out.count {
            let n = c.out.withUnsafeBytes { p in
                Glibc.send(c.fd, p.baseAddress! + c.outOffset, p.count - c.outOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { c.outOffset += n; continue }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                setInterest(c, EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLOUT.rawValue)
                return
            }
            failDead(c, sending: true, end: clock.nowNanos())
            return
        }
        setInterest(c, EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    }

    /// Reads what the kernel has for `c` into the receive buffer and parses it; stops when a
    /// read comes back short (the kernel had no more), so a response costs one read at best.
    func readResponse(_ c: FastConnection) {
        let buf = recvBuffer
        while true {
            let n = read(c.fd, buf.baseAddress, buf.count)
            if n > 0 {
                let now = clock.nowNanos()
                if c.firstByteNanos == nil { c.firstByteNanos = now }
                let chunk = UnsafeRawBufferPointer(rebasing: buf[0..<n])
                let progress = c.parser.parse(chunk) { event in
                    switch event {
                    case .head(let h): c.takeHead(h)
                    case .body(let p): c.takeBody(p, now: now)
                    }
                }
                switch progress {
                case .needMore:
                    if n < buf.count { return }
                case .complete(let consumed):
                    complete(c, end: now, extraBytes: consumed < n)
                    return
                case .failed(let f):
                    fail(c, kind: .protocolError, message: f.message, end: now)
                    return
                }
            } else if n == 0 {
                let now = clock.nowNanos()
                if c.parser.finish() != nil { complete(c, end: now, extraBytes: false) } else { failDead(c, sending: false, end: now) }
                return
            } else {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return }
                failDead(c, sending: false, end: clock.nowNanos())
                return
            }
        }
    }

    /// The connection died (closed or reset) before the response was complete: libcurl's
    /// words for each case, all `connection_reset`.
    private func failDead(_ c: FastConnection, sending: Bool, end: UInt64) {
        let message: String
        if c.reused, c.parser.head == nil {
            // A kept-alive connection that died before a response head: where libcurl would
            // re-send (it counts an unfinished status line as nothing received), the request is
            // counted once, with the words of libcurl's refused re-send.
            message = LoadWorker.refusedResendMessage
        } else if !c.parser.sawAnyByte {
            if sending { message = "Failure when sending data to the peer" }
            else { message = "Server returned nothing (no headers, no data)" }
        } else {
            message = c.parser.head == nil ? "Failure when receiving data from the peer" : "Transferred a partial file"
        }
        fail(c, kind: .connectionReset, message: message, end: end)
    }

    /// The connect failed (`connection_refused`, or the local limit's words).
    func fail(_ c: FastConnection, connectErrno: Int32, end: UInt64) {
        if let why = LoadWorker.localLimit(errno: connectErrno) { fail(c, kind: .connection, message: why, end: end) }
        else { fail(c, kind: .connectionRefused, message: "Couldn't connect to server", end: end) }
    }

    /// Ends the request on `c` as a failure and closes the connection.
    func fail(_ c: FastConnection, kind: FailureKind, message: String, end: UInt64) {
        guard c.busy else { drop(c); return }
        let o = RequestOutcome(statIndex: c.statIndex, intendedNanos: c.intendedNanos, sentNanos: c.sentNanos, endNanos: max(end, c.sentNanos),
                               ttfbMicros: nil, status: 0, failure: kind, error: message, bytesIn: c.bytesIn, bytesOut: c.bytesOut)
        drop(c)
        finish(c, o, retryAfter: nil)
    }

    /// A whole response arrived: judge it as the libcurl path does, keep the connection (unless
    /// the server closes it) and record the outcome.
    private func complete(_ c: FastConnection, end: UInt64, extraBytes: Bool) {
        let head = c.parser.head!
        let task = c.task!
        var (failure, reason) = LoadWorker.judge(status: head.status, body: c.body, checks: task.spec.checks)
        var retryAfter: Int64?
        if head.status == 429 || head.status == 503, failure != nil, let v = head.retryAfter,
           let after = HTTPResponseParser.retryAfterSeconds(v, nowUnixSeconds: Int64(time(nil))) {
            reason = "HTTP \(head.status) (Retry-After \(after)s)"
            retryAfter = after
        }
        let ttfb = c.firstByteNanos.map { ($0 &- c.sentNanos) / 1000 }
        let o = RequestOutcome(statIndex: c.statIndex, intendedNanos: c.intendedNanos, sentNanos: c.sentNanos, endNanos: end,
                               ttfbMicros: ttfb, status: head.status, failure: failure, error: reason,
                               bytesIn: c.bytesIn, bytesOut: c.bytesOut)
        if head.closesConnection || extraBytes || (c.member < 0 && c.generation != targetGeneration) {
            drop(c)
        } else {
            c.reused = true
            if c.member >= 0 { splitIdle[c.member].append(c) } else { idle.append(c) }
        }
        finish(c, o, retryAfter: retryAfter)
    }

    private func finish(_ c: FastConnection, _ o: RequestOutcome, retryAfter: Int64?) {
        inFlight -= 1
        let slot = c.userSlot
        let task = c.task!
        var sse = c.sse
        let timing = c.timing
        let phase = c.phase
        var o = o
        o.modelGroup = c.modelGroup
        o.splitGroup = c.splitGroup
        o.splitStepSlot = c.splitStepSlot
        // A conversation keeps the answer: streamed text (its last events come in `record`), or
        // the kept body of a non-streamed one.
        let turn = c.turn
        o.turnGroup = turn.turnGroup
        var answer = c.answer
        let body = turn.key >= 0 && timing == nil ? c.body : []
        c.prepareForReuse()
        record(o, spec: task.spec, timing: timing, sse: &sse, slot: slot, retryAfterSeconds: retryAfter, phase: phase,
               onContent: turn.key >= 0 ? { answer += $0 } : nil,
               judged: turn.key >= 0 ? { o in
                   self.turnEnded(turn, succeeded: o.failure == nil, answer: timing != nil ? answer : LoadWorker.answerText(body), spec: task.spec)
               } : nil)
    }
}
