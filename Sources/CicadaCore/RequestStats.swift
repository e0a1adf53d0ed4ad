/// Why a request counted as failed.
public enum FailureKind: String, Sendable, CaseIterable, Codable, Comparable {
    /// A 4xx status.
    case http4xx = "http_4xx"
    /// A 5xx status.
    case http5xx = "http_5xx"
    /// Any other status the checks did not accept (1xx, 3xx).
    case httpOther = "http_other"
    /// A 429 status: the server shed load and asked the client to slow down (its `Retry-After`
    /// is in the error message). Apart from 4xx, since it is overload, not a bad request.
    case rateLimited = "rate_limited"
    /// The request or the connect timed out.
    case timeout
    /// Nothing listened: the connect was refused (or no route to the host).
    case connectionRefused = "connection_refused"
    /// The connection (or, over HTTP/2, the stream) closed or was reset after the request was
    /// sent and before its response was complete: nothing back, half a status line, a body cut
    /// short. Includes a keep-alive connection that died before the first response byte, which
    /// libcurl would silently have re-sent (see docs/DECISIONS.md): Cicada never re-sends.
    case connectionReset = "connection_reset"
    /// The bytes that came back were not valid HTTP (garbage, HTTP/0.9, a broken chunked
    /// encoding or HTTP/2 framing).
    case protocolError = "protocol_error"
    /// The connection could not be made for another reason (DNS, TLS, a local resource).
    case connection
    /// The status was fine but a check on the response failed.
    case check
    /// A streamed response carried an `error` object after its 200 status (`data: {"error": ...}`
    /// or an `event: error` event); the message is the server's.
    case streamError = "stream_error"
    /// A 200 `text/event-stream` response to an OpenAI kind that ended without a transport error
    /// but is not a valid OpenAI stream: an event whose data is not JSON, no `data:` event at
    /// all, no chunk with `choices`, or no `data: [DONE]` at the end (vLLM and OpenAI always send
    /// it; without it a cut-short answer cannot be told from a whole one). Like every failure,
    /// it adds no TTFT, ITL or token figures.
    case invalidStream = "invalid_stream"
    public static func < (a: FailureKind, b: FailureKind) -> Bool { a.rawValue < b.rawValue }
}

/// What happened to one request, as the transport observed it. Times are nanoseconds
/// on the run's ``TimeSource``.
public struct RequestOutcome: Sendable {
    /// Index into the run's stat names.
    public var statIndex: Int
    /// When the request was meant to start (its schedule slot).
    public var intendedNanos: UInt64
    /// When it was handed to the transport.
    public var sentNanos: UInt64
    /// When its response completed (or it failed).
    public var endNanos: UInt64
    /// Time to first response byte, in microseconds, when a response began.
    public var ttfbMicros: UInt64?
    /// HTTP status, 0 when no response.
    public var status: Int
    public var failure: FailureKind?
    /// Human-readable reason when failed.
    public var error: String?
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    /// Per-token figures when the response was a stream; nil otherwise.
    public var stream: StreamOutcome?
    /// Whether this request met the scenario's goodput SLOs (only for streams).
    public var good: Bool = false
    /// The breakdown groups (``Breakdown``) of its conversation turn and its model; -1 for none.
    public var turnGroup: Int = -1
    public var modelGroup: Int = -1
    /// The breakdown group of its `split:` member; -1 for none.
    public var splitGroup: Int = -1
    /// Its `split:` member's slot in the step window it was chosen in
    /// (`step · members + member`, ``SplitStepWindow``); -1 for none.
    public var splitStepSlot: Int = -1

    public init(statIndex: Int, intendedNanos: UInt64, sentNanos: UInt64, endNanos: UInt64, ttfbMicros: UInt64?,
                status: Int, failure: FailureKind?, error: String?, bytesIn: UInt64, bytesOut: UInt64) {
        self.statIndex = statIndex; self.intendedNanos = intendedNanos; self.sentNanos = sentNanos
        self.endNanos = endNanos; self.ttfbMicros = ttfbMicros; self.status = status; self.failure = failure
        self.error = error; self.bytesIn = bytesIn; self.bytesOut = bytesOut
    }
}

/// Counters and latency distributions for one request name (or the total).
///
/// `corrected` is timed from each request's intended start (coordinated omission corrected,
/// as wrk2), `raw` from its actual send, `ttfb` is time to first byte from the actual send.
/// Failed requests are timed too (a timeout's latency is real), as Locust does.
public struct RequestStats: Sendable, Equatable {
    public var corrected = LatencyHistogram()
    public var raw = LatencyHistogram()
    public var ttfb = LatencyHistogram()
    public var requests: UInt64 = 0
    public var failures: UInt64 = 0
    public var failuresByKind: [FailureKind: UInt64] = [:]
    public var statusCodes: [Int: UInt64] = [:]
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Per-token figures of streamed responses; nil when none was seen (absent, not zero).
    public var llm: LLMStats?

    public init() {}

    /// Adds one outcome.
    public mutating func record(_ o: RequestOutcome) {
        requests += 1
        corrected.record(nanos: o.endNanos &- Swift.min(o.intendedNanos, o.endNanos))
        raw.record(nanos: o.endNanos &- Swift.min(o.sentNanos, o.endNanos))
        if let t = o.ttfbMicros { ttfb.record(micros: t) }
        if let k = o.failure { failures += 1; failuresByKind[k, default: 0] += 1 }
        if o.status > 0 { statusCodes[o.status, default: 0] += 1 }
        bytesIn += o.bytesIn
        bytesOut += o.bytesOut
        if let st = o.stream, o.failure == nil {
            var l = llm ?? LLMStats()
            l.streams += 1
            if let v = st.ttftMicros { l.ttft.record(micros: v) }
            if let v = st.firstContentMicros { l.firstContent.record(micros: v) }
            if let v = st.tpotMicros { l.tpot.record(micros: v) }
            if let v = st.e2elMicros { l.e2el.record(micros: v) }
            for g in st.itlMicros { l.itl.record(micros: g) }
            l.outputTokens += UInt64(max(0, st.outputTokens))
            if let i = st.inputTokens { l.inputTokens += UInt64(max(0, i)) }
            if st.outputTokensFromUsage { l.usageReported += 1 }
            if st.outputTokensFromTokenizer { l.tokenizerCounted += 1 }
            if o.good { l.goodRequests += 1 }
            if let v = st.firstReasoningMicros { l.firstReasoning.record(micros: v) }
            if let r = st.reasoningTokens {
                l.reasoningStreams += 1
                l.reasoningTokens += UInt64(max(0, r))
                if st.reasoningTokensFromUsage { l.reasoningUsageReported += 1 }
            }
            llm = l
        }
    }

    /// Adds another set of stats into this one.
    public mutating func merge(_ o: RequestStats) {
        corrected.merge(o.corrected); raw.merge(o.raw); ttfb.merge(o.ttfb)
        // Saturating: figures read from files and other processes are bounded (2^52 each), and
        // adding them must never trap however many there are.
        requests = requests.addingSaturating(o.requests); failures = failures.addingSaturating(o.failures)
        for (k, v) in o.failuresByKind { failuresByKind[k] = failuresByKind[k, default: 0].addingSaturating(v) }
        for (k, v) in o.statusCodes { statusCodes[k] = statusCodes[k, default: 0].addingSaturating(v) }
        bytesIn = bytesIn.addingSaturating(o.bytesIn); bytesOut = bytesOut.addingSaturating(o.bytesOut)
        if let ol = o.llm { var l = llm ?? LLMStats(); l.merge(ol); llm = l }
    }

    /// Failures / requests; nil with no requests.
    public var errorRate: Double? { requests == 0 ? nil : Double(failures) / Double(requests) }
}

/// One distinct failure (Locust's failures table row).
public struct ErrorKey: Hashable, Sendable, Comparable {
    public var method: String
    public var name: String
    public var message: String
    public init(method: String, name: String, message: String) { self.method = method; self.name = name; self.message = message }
    public static func < (a: ErrorKey, b: ErrorKey) -> Bool { (a.name, a.method, a.message) < (b.name, b.method, b.message) }
}

/// How often a failure was seen and when (nanoseconds on the run's clock).
public struct ErrorStat: Sendable, Equatable {
    public var occurrences: UInt64
    public var firstSeenNanos: UInt64
    public var lastSeenNanos: UInt64
    public init(occurrences: UInt64, firstSeenNanos: UInt64, lastSeenNanos: UInt64) {
        self.occurrences = occurrences; self.firstSeenNanos = firstSeenNanos; self.lastSeenNanos = lastSeenNanos
    }
    mutating func merge(_ o: ErrorStat) {
        occurrences = occurrences.addingSaturating(o.occurrences)
        firstSeenNanos = Swift.min(firstSeenNanos, o.firstSeenNanos)
        lastSeenNanos = Swift.max(lastSeenNanos, o.lastSeenNanos)
    }
}

/// A bounded table of distinct failures: past `capacity` distinct keys, new ones are folded
/// into one "other errors" row per request name, so a server returning unique error text per
/// request cannot make memory grow without bound.
public struct ErrorTable: Sendable, Equatable {
    public static let defaultCapacity = 1000
    public private(set) var entries: [ErrorKey: ErrorStat] = [:]
    public let capacity: Int
    public init(capacity: Int = ErrorTable.defaultCapacity) { self.capacity = capacity }

    public mutating func add(_ key: ErrorKey, _ stat: ErrorStat) {
        var key = key
        if entries[key] == nil, entries.count >= capacity {
            key = ErrorKey(method: key.method, name: key.name, message: "(other errors: distinct error limit reached)")
        }
        if entries[key] != nil { entries[key]!.merge(stat) } else { entries[key] = stat }
    }

    public mutating func record(_ key: ErrorKey, atNanos t: UInt64) {
        add(key, ErrorStat(occurrences: 1, firstSeenNanos: t, lastSeenNanos: t))
    }

    public mutating func merge(_ o: ErrorTable) { for (k, v) in o.entries { add(k, v) } }

    /// Rows sorted by occurrences, most first.
    public var sorted: [(key: ErrorKey, stat: ErrorStat)] {
        entries.map { ($0.key, $0.value) }.sorted { $0.stat.occurrences != $1.stat.occurrences ? $0.stat.occurrences > $1.stat.occurrences : $0.key < $1.key }
    }
}
