import CCurl
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The worker's libcurl side: setting up and sending one request, reaping finished transfers,
/// judging each response and recording its outcome.
extension LoadWorker {
    func checkout() -> Transfer? {
        if let t = pool.popLast() { return t }
        guard let t = Transfer() else { return nil }
        allTransfers.append(t)
        return t
    }

    /// Sends one request; false when no handle could be made (recorded as a failure).
    func send(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, now: UInt64, rng: inout SeededRandom) -> Bool {
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
        // The model, the conversation's turn, the trace's prompt and the phase: shared with the
        // fast worker.
        let choices = requestChoices(ref, user: user, seq: seq, slot: slot, intended: intended, rng: &rng)
        let ctx = choices.context
        let modelGroup = choices.modelGroup
        // A conversation's turn (shared too): its history is in ctx.
        let turnGroup = choices.turn.turnGroup, chatKey = choices.turn.key
        let chatText = choices.turn.userText
        // A split run: the seeded chooser names the member, whose target the request goes to.
        let (splitGroup, splitStepSlot) = plan.scenario.split == nil ? (-1, -1) : chooseSplitMember(user: user, seq: seq, slot: slot)
        let generation = control.targetGeneration
        if splitGroup < 0, generation != targetGeneration {
            targetGeneration = generation
            var base = control.targetOverride ?? plan.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            currentBase = base
        }
        let retargeted = currentBase != plan.baseURL
        if retargeted { url = nil }
        if url == nil { url = currentBase + spec.path.render(context: ctx, rng: &rng) }
        if body == nil, let b = spec.body { body = b.render(context: ctx, rng: &rng) }

        // The warm-up / cool-down a request belongs to is fixed by its intended start.
        let phase = choices.phase
        guard let t = checkout() else {
            stats.record(RequestOutcome(statIndex: statIndex, intendedNanos: intended, sentNanos: now, endNanos: now, ttfbMicros: nil,
                                        status: 0, failure: .connection, error: "curl_easy_init failed", bytesIn: 0, bytesOut: 0),
                         method: spec.method, name: spec.name, phase: phase)
            return false
        }
        t.phase = phase
        let e = t.easy
        t.turnGroup = turnGroup; t.modelGroup = modelGroup; t.splitGroup = splitGroup; t.splitStepSlot = splitStepSlot
        t.chatKey = chatKey; t.chatUserText = chatText; t.captureAnswer = chatKey >= 0
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
    func start(_ t: Transfer, spec: TaskSpec, ref: Transfer.TaskRef, statIndex: Int, slot: Int, intended: UInt64) -> Bool {
        let e = t.easy
        t.keepBody = spec.needsBody || spec.kind.streamDialect != nil
        t.checksNeedBody = spec.needsBody
        t.measureStream = spec.kind.streamDialect != nil
        t.streamDialect = spec.kind.streamDialect ?? .openAI
        t.keepsStreamText = plan.scenario.tokenizer != nil
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

    func reapCompleted() {
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

    func complete(_ t: Transfer, code: CURLcode, end: UInt64, message: String?) {
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
        var retryAfter: Int64?
        if code != CURLE_OK {
            t.setupKey = nil   // set the handle up afresh after a transport error
            if code == CURLE_ABORTED_BY_CALLBACK, let at = t.refusedResendNanos {
                // The connection died before the first response byte; the request ends when
                // that was found, not after the connect libcurl made for its re-send.
                failure = .connectionReset
                reason = Self.refusedResendMessage
                end = max(t.sentNanos, min(end, at))
            } else if code == CURLE_COULDNT_CONNECT, t.attempts >= 1 {
                // The request went out (the pre-request callback saw it), its connection died,
                // and the connect libcurl tried for a re-send was refused: the request's own
                // fate is the dead connection, not a refused one (the server did read it).
                failure = .connectionReset
                reason = Self.refusedResendMessage
            } else if code == CURLE_COULDNT_CONNECT, let why = Self.localLimit(t) {
                // socket() itself failed: Cicada's own limit, not the server refusing.
                failure = .connection
                reason = why
            } else {
                failure = Self.failureKind(for: code)
                reason = message ?? String(cString: curl_easy_strerror(code))
            }
        } else {
            (failure, reason) = Self.judge(status: status, body: t.body, checks: spec.checks)
            if status == 429 || status == 503, failure != nil {
                // libcurl reads Retry-After as seconds or an HTTP date (made relative to now).
                var after: curl_off_t = -1
                if ccurl_easy_getinfo_off(t.easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK, after > 0 {
                    reason = "HTTP \(status) (Retry-After \(after)s)"
                    retryAfter = Int64(after)
                }
            }
        }
        let outcome = RequestOutcome(statIndex: t.statIndex, intendedNanos: t.intendedNanos, sentNanos: t.sentNanos, endNanos: end,
                                     ttfbMicros: ttfb, status: status, failure: failure, error: reason,
                                     bytesIn: t.bytesIn, bytesOut: t.bytesOut)
        // A 200 event stream with an empty body never reached the write callback.
        if code == CURLE_OK { t.checkForEventStream() }
        var judged = outcome
        judged.turnGroup = t.turnGroup
        judged.modelGroup = t.modelGroup
        judged.splitGroup = t.splitGroup
        judged.splitStepSlot = t.splitStepSlot
        let slot = t.userSlot
        record(judged, spec: spec, timing: t.timing, sse: &t.sse, slot: slot, retryAfterSeconds: retryAfter, phase: t.phase,
               onContent: t.captureAnswer ? { t.answer += $0 } : nil,
               judged: t.chatKey >= 0 ? { o in self.conversationTurnEnded(t, succeeded: o.failure == nil, spec: spec) } : nil)
        t.prepareForReuse()
        pool.append(t)
    }

    /// A conversation's turn ended: a success adds the user's text and the server's real answer
    /// to the history (the conversation ends after its last turn); a failure ends it, since
    /// there is no answer to send back.
    func conversationTurnEnded(_ t: Transfer, succeeded: Bool, spec: TaskSpec) {
        let answer = t.timing != nil ? t.answer : Self.answerText(t.body)
        turnEnded(ChatTurn(key: t.chatKey, userText: t.chatUserText), succeeded: succeeded, answer: answer, spec: spec)
    }

    /// The answer of a non-streamed chat (or completions) response: `choices[0].message.content`
    /// (or `choices[0].text`); empty when the body has neither.
    static func answerText(_ body: [UInt8]) -> String {
        guard case .object(let o)? = JSONValue.parse(body), case .array(let choices)? = o["choices"],
              case .object(let c)? = choices.first else { return "" }
        if case .object(let m)? = c["message"], case .string(let s)? = m["content"] { return s }
        if case .string(let s)? = c["text"] { return s }
        return ""
    }

    /// The per-token figures of a finished stream, in microseconds.
    ///
    /// Without `usage` and with a tokenizer, the kept text is counted with it (after the end
    /// was timed, so the counting delays no timestamp), and TPOT follows that count.
    static func streamOutcome(_ t: StreamTiming, tokenizer: BPETokenizer? = nil) -> StreamOutcome {
        func us(_ n: UInt64?) -> UInt64? { n.map { ($0 + 500) / 1000 } }
        var o = StreamOutcome(ttftMicros: us(t.ttftNanos), firstContentMicros: us(t.firstContentNanos), tpotMicros: us(t.tpotNanos),
                             e2elMicros: us(t.e2elNanos), itlMicros: t.interChunkNanos.map { ($0 + 500) / 1000 },
                             outputTokens: t.outputTokens, inputTokens: t.usage?.promptTokens,
                             outputTokensFromUsage: t.outputTokensFromUsage)
        o.firstReasoningMicros = us(t.firstReasoningNanos)
        o.reasoningTokens = t.reasoningTokens
        o.reasoningTokensFromUsage = t.reasoningTokensFromUsage
        if let tokenizer, t.keepsText, !t.textTruncated, !t.outputTokensFromUsage {
            let reasoning = tokenizer.count(t.reasoningText)
            let tokens = tokenizer.count(t.answerText) + reasoning
            o.outputTokens = tokens
            o.outputTokensFromTokenizer = true
            if tokens > 1, let ttft = t.ttftNanos, let e2el = t.e2elNanos {
                o.tpotMicros = ((e2el >= ttft ? e2el - ttft : 0) / UInt64(tokens - 1) + 500) / 1000
            } else {
                o.tpotMicros = nil
            }
            if !t.reasoningTokensFromUsage, t.reasoningChunks > 0 { o.reasoningTokens = reasoning }
        }
        return o
    }

    /// The error message of a request whose keep-alive connection died before its first
    /// response byte (libcurl's re-send refused).
    static let refusedResendMessage = "connection closed before any response byte (reused keep-alive connection or HTTP/2 stream; not re-sent)"

    /// The local cause of a failed connect when it was this process's limit (no descriptor
    /// left for a socket, or no local port), in words that do not blame the server.
    static func localLimit(_ t: Transfer) -> String? {
        var osErrno = 0
        guard ccurl_easy_getinfo_long(t.easy, CURLINFO_OS_ERRNO, &osErrno) == CURLE_OK else { return nil }
        return localLimit(errno: Int32(osErrno))
    }

    /// The words for a socket or connect errno that is this process's limit; nil for others.
    static func localLimit(errno osErrno: Int32) -> String? {
        switch osErrno {
        case EMFILE, ENFILE:
            let soft = FileLimit.current().soft.map { " (ulimit -n is \($0))" } ?? ""
            return "local: out of file descriptors for a new connection\(soft); not the server's doing"
        case EADDRNOTAVAIL:
            return "local: no free local port for a new connection (ephemeral ports exhausted); not the server's doing"
        default: return nil
        }
    }

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
    func cancelAll() {
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

}
