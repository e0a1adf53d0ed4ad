/// One request as `--requests-out` writes it: its times on the run's clock and what came back.
///
/// Made by the worker from the ``RequestOutcome`` it records and handed over with its interval
/// (``IntervalStats/records``), so the hot path takes no lock and touches no file; the runner
/// passes the records to a ``RequestRecordSink``, whose writer thread turns them into lines.
public struct RequestRecord: Sendable, Equatable {
    /// The worker that sent it, and its number among that worker's requests (from 0).
    public var worker: Int
    public var sequence: UInt64
    /// Index into the run's stat names (the task's name).
    public var statIndex: Int
    /// Nanoseconds on the run's clock (``TimeSource``).
    public var intendedNanos: UInt64
    public var sentNanos: UInt64
    /// First response byte; nil when no response began.
    public var firstByteNanos: UInt64?
    /// First chunk with choices (TTFT), first reasoning and first answer chunk; nil when none.
    public var firstTokenNanos: UInt64?
    public var firstReasoningNanos: UInt64?
    public var firstAnswerNanos: UInt64?
    public var endNanos: UInt64
    /// HTTP status, 0 when no response.
    public var status: Int
    public var failure: FailureKind?
    /// Token counts of a stream (nil for other kinds, or a count nobody reported).
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var reasoningTokens: Int?
    /// How ``outputTokens`` was obtained.
    public var tokenMethod: TokenCountMethod?
    /// The part of the run it started in.
    public var phase: MeasurementPhase
    /// Its breakdown groups (``Breakdown/keys`` indexes: conversation turn, picked model); -1 for none.
    public var turnGroup: Int
    public var modelGroup: Int

    /// The record of `o`, recorded by `worker` as its `sequence`-th request, in `phase`.
    public init(_ o: RequestOutcome, worker: Int, sequence: UInt64, phase: MeasurementPhase) {
        self.worker = worker; self.sequence = sequence; statIndex = o.statIndex
        intendedNanos = o.intendedNanos; sentNanos = o.sentNanos; endNanos = o.endNanos
        status = o.status; failure = o.failure; self.phase = phase
        turnGroup = o.turnGroup; modelGroup = o.modelGroup
        func at(_ micros: UInt64?) -> UInt64? { micros.map { o.sentNanos &+ $0 &* 1000 } }
        firstByteNanos = at(o.ttfbMicros)
        if let s = o.stream {
            firstTokenNanos = at(s.ttftMicros)
            firstReasoningNanos = at(s.firstReasoningMicros)
            firstAnswerNanos = at(s.firstContentMicros)
            inputTokens = s.inputTokens
            outputTokens = s.outputTokens
            reasoningTokens = s.reasoningTokens
            tokenMethod = s.outputTokensFromUsage ? .usage : s.outputTokensFromTokenizer ? .tokenizer : .chunks
        }
    }
}

/// Which method produced a token count.
public enum TokenCountMethod: String, Sendable, Equatable {
    /// The server's `usage` report.
    case usage
    /// Cicada counted the stream's text with the scenario's `tokenizer.json`.
    case tokenizer
    /// Cicada counted the stream's chunks with text (one token per chunk).
    case chunks
}

/// Which requests `--requests-out` writes: all of them, or a seeded sample (`--requests-sample`).
///
/// Whether a request is written depends only on the seed, its worker and its number among that
/// worker's requests, so the same run writes the same requests; never on timing.
public struct RequestSampling: Sendable, Equatable {
    /// The fraction written, in (0, 1].
    public var fraction: Double
    public var seed: UInt64
    /// At most this many records wait in one worker's interval (250 ms); more are dropped and
    /// counted (``IntervalStats/recordsDropped``), so a burst cannot grow memory without bound.
    public var maxPerInterval: Int

    public init(fraction: Double = 1, seed: UInt64 = 1, maxPerInterval: Int = 50_000) {
        self.fraction = Swift.min(1, Swift.max(0, fraction)); self.seed = seed; self.maxPerInterval = Swift.max(1, maxPerInterval)
    }

    /// Whether request `sequence` of `worker` is written.
    public func keeps(worker: Int, sequence: UInt64) -> Bool {
        if fraction >= 1 { return true }
        var r = SeededRandom(seed: seed ^ 0x5245_5155_4553_5453, stream: (UInt64(truncatingIfNeeded: worker) << 40) ^ sequence)
        return r.unit() < fraction
    }
}

/// Takes the records the runner drains from the workers' intervals; never blocks (a full queue
/// drops and counts). `CicadaSession`'s `RequestLogWriter` writes them to a JSONL file.
public protocol RequestRecordSink: AnyObject, Sendable {
    /// Hands over records, and how many the workers had already dropped (their interval cap).
    func accept(_ records: [RequestRecord], droppedUpstream: UInt64)
}
