/// A scenario's `consistency:` block: the opt-in probe that sends one fixed request again and
/// again (temperature 0 by default) and compares each answer with the first.
///
/// A server that answers the same greedy request differently from one time to the next is
/// losing precision somewhere: quantized kernels, batch-size-dependent reductions, a replica
/// on other hardware. The probe makes that visible; ``DiagnosisRules`` turns a mismatch into
/// the `inconsistent_outputs` diagnosis. Probes are sent beside the load, one at a time, and
/// are counted apart: they are in no latency figure, request count or error table of the run.
public struct ConsistencySpec: Sendable, Equatable {
    /// When a probe is due.
    public enum Cadence: Sendable, Equatable {
        /// After every `n` requests the load has completed (`every: 100`).
        case everyRequests(Int)
        /// Every so often on the run's clock (`interval: 10s`).
        case interval(Duration)
    }

    /// When a probe is due.
    public var cadence: Cadence
    /// The request's API: `openai-chat`, `openai-completions` or `anthropic-messages`.
    public var kind: RequestKind
    /// Path appended to the scenario's target.
    public var path: String
    /// The body's `model` field.
    public var model: String
    /// The fixed request's text (the user message, or the completion prompt).
    public var prompt: String
    /// The body's `temperature` (0: greedy, the only setting where answers should repeat).
    public var temperature: Double
    /// The body's `max_tokens`.
    public var maxTokens: Int

    /// A probe; `path` defaults to the kind's usual path.
    public init(cadence: Cadence, kind: RequestKind = .openAIChat, path: String? = nil, model: String = "default",
                prompt: String, temperature: Double = 0, maxTokens: Int = 64) {
        self.cadence = cadence; self.kind = kind; self.model = model; self.prompt = prompt
        self.temperature = temperature; self.maxTokens = maxTokens
        self.path = path ?? Self.defaultPath(kind)
    }

    /// The request kinds a probe can speak (those whose answer is one text).
    public static let kinds: [RequestKind] = [.openAIChat, .openAICompletions, .anthropicMessages]

    /// The kind's usual path (`/v1/chat/completions`, `/v1/completions`, `/v1/messages`).
    public static func defaultPath(_ kind: RequestKind) -> String {
        switch kind {
        case .openAICompletions: return "/v1/completions"
        case .anthropicMessages: return "/v1/messages"
        default: return "/v1/chat/completions"
        }
    }

    /// The request body: never streamed, so the whole answer arrives in one JSON document.
    public var body: String {
        let t = temperature == temperature.rounded() && abs(temperature) < 1e6 ? String(Int(temperature)) : String(temperature)
        let common = "\"model\":\(JSONText.quoted(model)),\"max_tokens\":\(maxTokens),\"temperature\":\(t),\"stream\":false"
        switch kind {
        case .openAICompletions:
            return "{\(common),\"prompt\":\(JSONText.quoted(prompt))}"
        default:
            return "{\(common),\"messages\":[{\"role\":\"user\",\"content\":\(JSONText.quoted(prompt))}]}"
        }
    }

    /// Headers the kind needs beside the scenario's own (Anthropic's API version).
    public var headers: [(name: String, value: String)] {
        var h = [(name: "Content-Type", value: "application/json")]
        if kind == .anthropicMessages { h.append((name: "anthropic-version", value: "2023-06-01")) }
        return h
    }

    /// The answer text in a response body: `choices[0].message.content` (chat),
    /// `choices[0].text` (completions) or the text blocks of `content` (Anthropic); nil when the
    /// body has none.
    public func answer(fromBody body: [UInt8]) -> String? {
        guard case .object(let o)? = JSONValue.parse(body) else { return nil }
        switch kind {
        case .anthropicMessages:
            guard case .array(let blocks)? = o["content"] else { return nil }
            var text = ""
            for case .object(let b) in blocks { if case .string(let s)? = b["text"] { text += s } }
            return text
        default:
            guard case .array(let choices)? = o["choices"], case .object(let c)? = choices.first else { return nil }
            if case .object(let m)? = c["message"], case .string(let s)? = m["content"] { return s }
            if case .string(let s)? = c["text"] { return s }
            return nil
        }
    }
}

/// The probe's findings: how many answers came back, how many differed from the first, and
/// a few of the differing pairs. The JSON report's `consistency` section.
public struct ConsistencySummary: Sendable, Equatable {
    /// One answer that differed from the reference (the first answer), both cut short.
    public struct Mismatch: Sendable, Equatable {
        /// Seconds into the run when the probe was answered.
        public var atSeconds: Double
        /// The first character at which the answers part (0-based, in Unicode characters).
        public var position: Int
        /// The word that position falls in (0-based): a rough token index.
        public var word: Int
        /// The reference answer from a little before ``position`` on, truncated.
        public var expected: String
        /// This answer from the same character on, truncated.
        public var got: String
        /// A mismatch as recorded.
        public init(atSeconds: Double, position: Int, word: Int, expected: String, got: String) {
            self.atSeconds = atSeconds; self.position = position; self.word = word; self.expected = expected; self.got = got
        }
    }

    /// What was probed (the spec's cadence, temperature, prompt).
    public var spec: ConsistencySpec
    /// Answers compared, the reference included.
    public var answered: Int = 0
    /// Answers that differed from the reference.
    public var differing: Int = 0
    /// Probes that got no answer to compare (transport error, HTTP error, no text in the body).
    public var failed: Int = 0
    /// The last failure's message.
    public var lastFailure: String?
    /// The reference answer, truncated; nil until one arrived.
    public var reference: String?
    /// The first differing answers, at most ``ConsistencyTally/sampleLimit``.
    public var samples: [Mismatch] = []

    /// Nothing probed yet.
    public init(spec: ConsistencySpec) { self.spec = spec }

    /// Probes that were compared with the reference (the reference itself is not).
    public var compared: Int { max(answered - 1, 0) }
}

/// Counts the probe's answers against the first one; pure, so tests drive it directly.
public struct ConsistencyTally: Sendable {
    /// Mismatches kept as samples.
    public static let sampleLimit = 5
    /// Characters kept of each answer in a sample (around where they part) and of the reference.
    public static let excerptLength = 120

    /// The findings so far.
    public private(set) var summary: ConsistencySummary
    private var referenceText: String?

    /// A tally with no answer yet.
    public init(spec: ConsistencySpec) { summary = ConsistencySummary(spec: spec) }

    /// Records an answer received `atSeconds` into the run; the first becomes the reference.
    /// Returns whether it matched the reference (true for the reference itself).
    @discardableResult
    public mutating func record(answer: String, atSeconds: Double) -> Bool {
        summary.answered += 1
        guard let ref = referenceText else {
            referenceText = answer
            summary.reference = Self.excerpt(answer, from: 0)
            return true
        }
        guard answer != ref else { return true }
        summary.differing += 1
        if summary.samples.count < Self.sampleLimit {
            let (position, word) = Self.firstDifference(ref, answer)
            let from = max(position - 20, 0)
            summary.samples.append(.init(atSeconds: atSeconds, position: position, word: word,
                                         expected: Self.excerpt(ref, from: from), got: Self.excerpt(answer, from: from)))
        }
        return false
    }

    /// Records a probe that got no answer.
    public mutating func recordFailure(_ message: String) {
        summary.failed += 1
        summary.lastFailure = message
    }

    /// The first character index where `a` and `b` differ (the shorter one's length when one
    /// is a prefix of the other), and the index of the word it falls in.
    public static func firstDifference(_ a: String, _ b: String) -> (position: Int, word: Int) {
        var position = 0, word = 0
        var ia = a.makeIterator(), ib = b.makeIterator()
        var previousWasSpace = false
        while true {
            let ca = ia.next(), cb = ib.next()
            if ca == nil || cb == nil || ca != cb {
                // The character where they part begins a new word when a space came before it.
                return (position, word + (previousWasSpace && !(ca ?? cb ?? " ").isWhitespace ? 1 : 0))
            }
            let space = ca!.isWhitespace
            if !space && previousWasSpace { word += 1 }
            previousWasSpace = space
            position += 1
        }
    }

    static func excerpt(_ s: String, from: Int) -> String {
        let chars = Array(s)
        guard from < chars.count else { return "" }
        let end = min(chars.count, from + excerptLength)
        return (from > 0 ? "…" : "") + String(chars[from..<end]) + (end < chars.count ? "…" : "")
    }
}
