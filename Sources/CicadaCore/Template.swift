import Foundation

/// A string with `{{...}}` placeholders, compiled once and rendered per request.
///
/// Placeholders: `{{prompt}}` (next prompt from the prompt file, chosen by the request's
/// random generator), `{{uuid}}` (a v4 UUID from that generator), `{{seq}}` (the user's
/// request number, or the arrival index in the open model), `{{user}}` (the user's number),
/// `{{random_int A B}}` (uniform in [A, B]), `{{random_normal MEAN SD}}` (a whole number from a
/// normal distribution, at least 1: output-length distributions), `{{choice X Y ...}}`.
/// All randomness comes from the caller's ``SeededRandom``, so a seed fixes every body.
public struct Template: Sendable, Equatable {
    /// One compiled piece of a template.
    public enum Part: Sendable, Equatable {
        case literal(String)
        case prompt
        case uuid
        case seq
        case user
        case randomInt(Int, Int)
        /// A whole number from a normal distribution (mean, standard deviation), at least 1.
        case randomNormal(Double, Double)
        case choice([String])
        /// The request's `max_tokens`: a replayed trace's `output_length` when the context has
        /// one, else the number given. Made by the scenario reader for generated bodies only.
        case maxTokens(Int)
        /// The request's model name (from a weighted `model:` list), unquoted. Generated bodies only.
        case model
        /// The request's chat messages as a JSON array (a conversation's history and next turn).
        /// Generated bodies only.
        case messages
    }

    /// How substituted values are escaped (literal parts are taken as they are).
    public enum Escaping: Sendable, Equatable {
        case none
        /// Inside a JSON string: quotes, backslashes and control characters escaped.
        case jsonString
    }

    /// A piece plus how to escape what it produces.
    public struct Segment: Sendable, Equatable {
        public var part: Part
        public var escaping: Escaping
        public init(_ part: Part, _ escaping: Escaping = .none) { self.part = part; self.escaping = escaping }
    }

    public private(set) var segments: [Segment]

    /// An error in a template, with the offending placeholder.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(segments: [Segment]) { self.segments = segments }

    /// A template with no placeholders.
    public static func literal(_ s: String) -> Template { Template(segments: [Segment(.literal(s))]) }

    /// Compiles `text`, escaping substitutions with `escaping`.
    public init(parsing text: String, escaping: Escaping = .none) throws(ParseError) {
        segments = try Template.parseSegments(text, escaping: escaping)
    }

    /// Appends another template's segments.
    public mutating func append(_ other: Template) { segments.append(contentsOf: other.segments) }

    /// Whether the template has no placeholders (so it can be rendered once).
    public var isConstant: Bool { segments.allSatisfy { if case .literal = $0.part { return true } else { return false } } }

    /// Whether `{{prompt}}` appears.
    public var usesPrompt: Bool { segments.contains { $0.part == .prompt } }

    static func parseSegments(_ text: String, escaping: Escaping) throws(ParseError) -> [Segment] {
        var out: [Segment] = []
        var rest = Substring(text)
        // A search of the UTF-8 bytes: a placeholder is the bytes `{{` ... `}}` whatever is next
        // to them (a joiner or a combining mark after `}}` does not hide it, as it would in a
        // search by Character), and the needles are ASCII, so the ranges slice `rest` exactly.
        // Foundation's `range(of:)` bridged to NSString and counted UTF-16 offsets on every call:
        // a third of the fuzzer's time here.
        while let open = rest.utf8.firstRange(of: "{{".utf8) {
            if open.lowerBound > rest.startIndex { out.append(Segment(.literal(String(rest[..<open.lowerBound])))) }
            guard let close = rest[open.upperBound...].utf8.firstRange(of: "}}".utf8) else {
                throw ParseError(message: "unclosed '{{' in template \"\(text)\"")
            }
            let inner = rest[open.upperBound..<close.lowerBound].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            out.append(Segment(try parsePlaceholder(inner, in: text), escaping))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { out.append(Segment(.literal(String(rest)))) }
        return out
    }

    static let placeholderNames = ["prompt", "uuid", "seq", "user", "random_int", "random_normal", "choice"]
    /// The largest `{{random_normal}}` mean (in magnitude) and standard deviation.
    static let maxNormalParameter = 1e15

    static func parsePlaceholder(_ words: [String], in text: String) throws(ParseError) -> Part {
        guard let head = words.first else { throw ParseError(message: "empty placeholder '{{}}' in \"\(text)\"") }
        switch head {
        case "prompt", "uuid", "seq", "user":
            guard words.count == 1 else { throw ParseError(message: "{{\(head)}} takes no arguments") }
            return head == "prompt" ? .prompt : head == "uuid" ? .uuid : head == "seq" ? .seq : .user
        case "random_int":
            guard words.count == 3, let a = Int(words[1]), let b = Int(words[2]), a <= b else {
                throw ParseError(message: "{{random_int A B}} needs two integers A <= B, got \"{{\(words.joined(separator: " "))}}\"")
            }
            // B - A must fit an Int (rendering draws in [0, B - A]).
            guard !b.subtractingReportingOverflow(a).overflow, b - a < Int.max else {
                throw ParseError(message: "{{random_int A B}}: A and B are too far apart (B - A must be below \(Int.max)), got \"{{\(words.joined(separator: " "))}}\"")
            }
            return .randomInt(a, b)
        case "random_normal":
            guard words.count == 3, let m = Double(words[1]), let sd = Double(words[2]), sd >= 0 else {
                throw ParseError(message: "{{random_normal MEAN STDDEV}} needs two numbers with STDDEV >= 0, got \"{{\(words.joined(separator: " "))}}\"")
            }
            // Drawn values become whole numbers: MEAN and STDDEV within ±1e15 keep every draw
            // (a normal sample is within ±10 STDDEV) far inside Int (FuzzExpressions found that
            // STDDEV 4.4e49 trapped the conversion).
            guard m.isFinite, sd.isFinite, abs(m) <= Self.maxNormalParameter, sd <= Self.maxNormalParameter else {
                throw ParseError(message: "{{random_normal MEAN STDDEV}}: MEAN and STDDEV must lie within ±1e15, got \"{{\(words.joined(separator: " "))}}\"")
            }
            return .randomNormal(m, sd)
        case "choice":
            guard words.count >= 2 else { throw ParseError(message: "{{choice ...}} needs at least one option") }
            return .choice(Array(words.dropFirst()))
        default:
            let hint = Suggest.closest(head, in: placeholderNames).map { " (did you mean '\($0)'?)" } ?? ""
            throw ParseError(message: "unknown placeholder '{{\(head)}}'\(hint); known: \(placeholderNames.joined(separator: ", "))")
        }
    }

    /// Values a placeholder may draw on.
    public struct Context {
        public var user: Int
        public var seq: UInt64
        public var prompts: [String]
        /// This request's prompt, given by a replayed trace; nil draws from `prompts`.
        public var promptOverride: String?
        /// Shared prefixes put before each drawn prompt (`prompts.synthetic.prefix`).
        public var sharedPrefix: SharedPrefix?
        /// This request's `max_tokens` (a trace's `output_length`); nil keeps the task's.
        public var maxTokens: Int?
        /// This request's model name (a weighted model list's pick).
        public var model: String?
        /// This request's chat messages as JSON array text (multi-turn conversations).
        public var messagesJSON: String?
        public init(user: Int, seq: UInt64, prompts: [String]) { self.user = user; self.seq = seq; self.prompts = prompts }
    }

    /// Renders the template into `out`.
    public func render(into out: inout String, context: Context, rng: inout SeededRandom) {
        for seg in segments {
            switch seg.part {
            case .literal(let s): out += s
            case .prompt:
                if let o = context.promptOverride { Template.append(o, seg.escaping, &out); continue }
                let p = context.prompts.isEmpty ? "" : context.prompts[Int(rng.next() % UInt64(context.prompts.count))]
                if let sp = context.sharedPrefix {
                    Template.append(sp.prompt(index: sp.pick(&rng), user: context.user, seq: context.seq, suffix: p), seg.escaping, &out)
                } else {
                    Template.append(p, seg.escaping, &out)
                }
            case .maxTokens(let d): out += String(context.maxTokens ?? d)
            case .model: Template.append(context.model ?? "", seg.escaping, &out)
            case .messages: out += context.messagesJSON ?? "[]"
            case .uuid: out += Template.uuid(&rng)
            case .seq: out += String(context.seq)
            case .user: out += String(context.user)
            case .randomInt(let a, let b):
                let span = UInt64(b - a) + 1
                out += String(a + Int(rng.next() % span))
            case .randomNormal(let m, let sd):
                // Clamped before the conversion, whatever the sample (parameters are bounded).
                let v = Swift.min(Swift.max((m + sd * rng.normal()).rounded(), 1), 9.0e18)
                out += String(Int(v))
            case .choice(let options):
                Template.append(options[Int(rng.next() % UInt64(options.count))], seg.escaping, &out)
            }
        }
    }

    /// Renders the template to a new string.
    public func render(context: Context, rng: inout SeededRandom) -> String {
        var s = ""
        render(into: &s, context: context, rng: &rng)
        return s
    }

    static func append(_ value: String, _ escaping: Escaping, _ out: inout String) {
        switch escaping {
        case .none: out += value
        case .jsonString: JSONText.appendEscaped(value, to: &out)
        }
    }

    static func uuid(_ rng: inout SeededRandom) -> String {
        let a = rng.next(), b = rng.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i))) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array("0123456789abcdef")
        var s = ""
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s += "-" }
            s.append(hex[Int(byte >> 4)]); s.append(hex[Int(byte & 0xF)])
        }
        return s
    }
}

/// JSON text helpers used by templates and report writers.
public enum JSONText {
    /// Appends `s` escaped for use inside a JSON string literal (without the quotes).
    public static func appendEscaped(_ s: String, to out: inout String) {
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// `s` as a quoted JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        appendEscaped(s, to: &out)
        out += "\""
        return out
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    /// The candidate closest to `word` within an edit distance of 2 (or a third of its length).
    public static func closest(_ word: String, in candidates: [String]) -> String? {
        let limit = max(2, word.count / 3)
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let lc = Array(c.lowercased())
            // The distance is at least the difference in length: a long unknown word is not
            // compared with every short key, letter by letter.
            guard abs(lc.count - w.count) <= limit else { continue }
            let d = distance(w, lc)
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
