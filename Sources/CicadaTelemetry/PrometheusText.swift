/// A parser for the Prometheus text exposition format, version 0.0.4.
///
/// Every server Cicada scrapes (DCGM exporter, Triton, vLLM, TGI, SGLang, Cicada's own engine)
/// speaks this format, so one strict, complete parser serves them all. It follows the reference
/// parser (`prometheus/common/expfmt`): `# HELP` and `# TYPE` lines, other comments ignored,
/// labels with `\\` `\"` `\n` escapes and blanks around `{ = , }`, an optional trailing comma,
/// `NaN` / `+Inf` / `-Inf` and exponents, an optional integer timestamp in milliseconds, and
/// histogram and summary samples grouped under the family their TYPE line names. Two leniencies
/// are deliberate: a `\r` before the newline is dropped, and an unknown escape inside HELP text is
/// kept as written (HELP is prose; a label value is identity, so there it is an error).
///
/// The input is scanned once, line by line, without recursion or backtracking: time and memory
/// grow linearly with its size, and every error names its line.
public enum PrometheusText {
    /// Parses `text` into families.
    public static func parse(_ text: String) throws(PrometheusParseError) -> PrometheusExposition {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses UTF-8 `bytes` (for example an HTTP body) into families without building a String first.
    public static func parse(bytes: [UInt8]) throws(PrometheusParseError) -> PrometheusExposition {
        var parser = Parser(bytes)
        return try parser.run()
    }

    /// Parses a sample value as the format allows: decimal with optional exponent, `NaN`, `+Inf`, `-Inf`.
    ///
    /// Spellings are case-insensitive and `Infinity` is accepted, as Go's `ParseFloat` does;
    /// hexadecimal floats are not, because no exporter writes them.
    public static func parseFloat(_ text: some StringProtocol) -> Double? {
        parseFloat(bytes: Array(text.utf8)[...])
    }

    static func parseFloat(bytes: ArraySlice<UInt8>) -> Double? {
        guard let first = bytes.first else { return nil }
        var sawDigit = false
        var plain = true
        for c in bytes {
            if c >= 0x30 && c <= 0x39 { sawDigit = true; continue }
            switch c {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): continue
            default: plain = false
            }
        }
        if plain {
            guard sawDigit else { return nil }
            return Double(String(decoding: bytes, as: UTF8.self))
        }
        var word = String(decoding: bytes, as: UTF8.self).lowercased()
        var negative = false
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            word.removeFirst()
        }
        switch word {
        case "nan": return .nan
        case "inf", "infinity": return negative ? -.infinity : .infinity
        default: return nil
        }
    }
}

/// The line-by-line state machine behind ``PrometheusText``.
private struct Parser {
    private static let newline = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let hash = UInt8(ascii: "#")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    private let b: [UInt8]
    private var line = 0
    private var families: [PrometheusFamily] = []
    private var index: [String: Int] = [:]
    private var hasType: [Bool] = []
    private var hasHelp: [Bool] = []
    // The previous sample's name and family: consecutive samples usually share both, so the
    // name's String (and its storage) is reused instead of rebuilt for every line.
    private var lastName: (start: Int, end: Int, name: String, family: Int)?

    init(_ bytes: [UInt8]) { b = bytes }

    mutating func run() throws(PrometheusParseError) -> PrometheusExposition {
        var start = 0
        let n = b.count
        while start < n {
            line += 1
            var end = start
            while end < n && b[end] != Self.newline { end += 1 }
            var lineEnd = end
            if lineEnd > start && b[lineEnd - 1] == Self.cr { lineEnd -= 1 }
            try parseLine(start, lineEnd)
            start = end + 1
        }
        return PrometheusExposition(families: families)
    }

    // MARK: Lines

    private mutating func parseLine(_ s: Int, _ e: Int) throws(PrometheusParseError) {
        let i = skipBlanks(s, e)
        if i == e { return }
        if b[i] == Self.hash {
            try parseComment(i + 1, e)
        } else {
            try parseSample(i, e)
        }
    }

    private mutating func parseComment(_ s: Int, _ e: Int) throws(PrometheusParseError) {
        let k = skipBlanks(s, e)
        let keywordEnd = tokenEnd(k, e)
        let keyword = text(k, keywordEnd)
        guard keyword == "HELP" || keyword == "TYPE" else { return }
        let n = skipBlanks(keywordEnd, e)
        guard n < e else { throw fail("\(keyword) line has no metric name") }
        let nameEnd = scanMetricName(n, e)
        guard nameEnd > n else { throw fail("invalid metric name in \(keyword) line: unexpected \(describe(b[n]))") }
        guard nameEnd == e || isBlank(b[nameEnd]) else {
            throw fail("invalid character \(describe(b[nameEnd])) in metric name \(text(n, nameEnd)) of \(keyword) line")
        }
        let name = text(n, nameEnd)
        let rest = skipBlanks(nameEnd, e)
        let f = familyIndex(name)
        if keyword == "HELP" {
            guard !hasHelp[f] else { throw fail("second HELP line for \(name)") }
            hasHelp[f] = true
            families[f].help = unescapeHelp(rest, e)
        } else {
            guard rest < e else { throw fail("TYPE line for \(name) has no type") }
            let typeEnd = tokenEnd(rest, e)
            let word = text(rest, typeEnd)
            guard let type = Self.metricType(word) else {
                throw fail("unknown metric type '\(word)' for \(name) (expected counter, gauge, histogram, summary or untyped)")
            }
            let after = skipBlanks(typeEnd, e)
            guard after == e else { throw fail("unexpected text after the type in TYPE line for \(name)") }
            guard !hasType[f] else { throw fail("second TYPE line for \(name)") }
            guard families[f].samples.isEmpty else { throw fail("TYPE line for \(name) comes after its samples") }
            hasType[f] = true
            families[f].type = type
            lastName = nil
        }
    }

    private static func metricType(_ word: String) -> PrometheusMetricType? {
        switch word.lowercased() {
        case "counter": return .counter
        case "gauge": return .gauge
        case "histogram": return .histogram
        case "summary": return .summary
        // OpenMetrics spells untyped "unknown"; accepting it costs nothing.
        case "untyped", "unknown": return .untyped
        default: return nil
        }
    }

    private mutating func parseSample(_ s: Int, _ e: Int) throws(PrometheusParseError) {
        let nameEnd = scanMetricName(s, e)
        guard nameEnd > s else { throw fail("expected a metric name, found \(describe(b[s]))") }
        let name: String
        var knownFamily: Int?
        if let last = lastName, last.end - last.start == nameEnd - s, b[last.start..<last.end].elementsEqual(b[s..<nameEnd]) {
            name = last.name
            knownFamily = last.family
        } else {
            name = text(s, nameEnd)
        }
        var j = nameEnd
        var labels: [PrometheusLabel] = []
        if j < e && b[j] == UInt8(ascii: "{") {
            j = try parseLabels(j + 1, e, sample: name, into: &labels)
        } else if j < e && !isBlank(b[j]) {
            throw fail("invalid character \(describe(b[j])) in metric name \(name)")
        }
        j = skipBlanks(j, e)
        guard j < e else { throw fail("sample \(name) has no value") }
        let valueEnd = tokenEnd(j, e)
        guard let value = PrometheusText.parseFloat(bytes: b[j..<valueEnd]) else {
            throw fail("invalid value '\(text(j, valueEnd))' for sample \(name)")
        }
        j = skipBlanks(valueEnd, e)
        var timestamp: Int64?
        if j < e {
            let stampEnd = tokenEnd(j, e)
            guard let millis = Int64(text(j, stampEnd)) else {
                throw fail("invalid timestamp '\(text(j, stampEnd))' for sample \(name) (expected integer milliseconds)")
            }
            timestamp = millis
            j = skipBlanks(stampEnd, e)
            guard j == e else { throw fail("unexpected text '\(text(j, e))' after the timestamp of sample \(name)") }
        }
        let f: Int
        if let knownFamily { f = knownFamily } else { f = try resolveFamily(name) }
        try validate(name: name, labels: labels, family: f)
        families[f].samples.append(PrometheusSample(name: name, labels: labels, value: value, timestampMillis: timestamp))
        lastName = (s, nameEnd, name, f)
    }

    private mutating func parseLabels(_ s: Int, _ e: Int, sample: String, into labels: inout [PrometheusLabel]) throws(PrometheusParseError) -> Int {
        var j = s
        while true {
            j = skipBlanks(j, e)
            guard j < e else { throw fail("unterminated label set of sample \(sample) (missing '}')") }
            if b[j] == UInt8(ascii: "}") { return j + 1 }
            let nameEnd = scanLabelName(j, e)
            guard nameEnd > j else { throw fail("invalid label name in sample \(sample): unexpected \(describe(b[j]))") }
            let labelName = text(j, nameEnd)
            j = skipBlanks(nameEnd, e)
            guard j < e, b[j] == UInt8(ascii: "=") else {
                throw fail("expected '=' after label name \(labelName) in sample \(sample)")
            }
            j = skipBlanks(j + 1, e)
            guard j < e, b[j] == Self.quote else {
                throw fail("expected '\"' to open the value of label \(labelName) in sample \(sample)")
            }
            let (value, next) = try parseLabelValue(j + 1, e, label: labelName, sample: sample)
            if labels.contains(where: { $0.name == labelName }) {
                throw fail("duplicate label \(labelName) in sample \(sample)")
            }
            labels.append(PrometheusLabel(name: labelName, value: value))
            j = skipBlanks(next, e)
            guard j < e else { throw fail("unterminated label set of sample \(sample) (missing '}')") }
            if b[j] == UInt8(ascii: ",") { j += 1; continue }
            if b[j] == UInt8(ascii: "}") { return j + 1 }
            throw fail("expected ',' or '}' after the value of label \(labelName) in sample \(sample), found \(describe(b[j]))")
        }
    }

    private func parseLabelValue(_ s: Int, _ e: Int, label: String, sample: String) throws(PrometheusParseError) -> (String, Int) {
        var j = s
        var escaped: [UInt8]?
        var runStart = s
        while j < e {
            let c = b[j]
            if c == Self.quote {
                let bytes: ArraySlice<UInt8>
                if var out = escaped {
                    out.append(contentsOf: b[runStart..<j])
                    bytes = out[...]
                } else {
                    bytes = b[s..<j]
                }
                guard let value = String(validating: bytes, as: UTF8.self) else {
                    throw fail("value of label \(label) in sample \(sample) is not valid UTF-8")
                }
                return (value, j + 1)
            }
            if c == Self.backslash {
                guard j + 1 < e else { break }
                let replacement: UInt8
                switch b[j + 1] {
                case Self.backslash: replacement = Self.backslash
                case Self.quote: replacement = Self.quote
                case UInt8(ascii: "n"): replacement = Self.newline
                default:
                    throw fail("invalid escape sequence '\\\(String(decoding: [b[j + 1]], as: UTF8.self))' in the value of label \(label) (allowed: \\\\, \\\", \\n)")
                }
                var out = escaped ?? []
                out.append(contentsOf: b[runStart..<j])
                out.append(replacement)
                escaped = out
                j += 2
                runStart = j
                continue
            }
            j += 1
        }
        throw fail("unterminated label value of label \(label) in sample \(sample) (missing closing '\"')")
    }

    // MARK: Families

    private mutating func familyIndex(_ name: String) -> Int {
        if let i = index[name] { return i }
        families.append(PrometheusFamily(name: name))
        hasType.append(false)
        hasHelp.append(false)
        index[name] = families.count - 1
        return families.count - 1
    }

    /// The family a sample named `name` belongs to: its own name, unless that is absent and the
    /// name minus `_bucket`/`_sum`/`_count` is a histogram or summary declared by a TYPE line.
    private mutating func resolveFamily(_ name: String) throws(PrometheusParseError) -> Int {
        if let i = index[name] { return i }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let i = index[base] {
                switch families[i].type {
                case .histogram: return i
                case .summary where suffix != "_bucket": return i
                default: break
                }
            }
        }
        return familyIndex(name)
    }

    private func validate(name: String, labels: [PrometheusLabel], family f: Int) throws(PrometheusParseError) {
        let family = families[f]
        switch family.type {
        case .histogram:
            if name == family.name {
                throw fail("sample \(name) of histogram \(family.name) must end in _bucket, _sum or _count")
            }
            if name == family.name + "_bucket" {
                guard let le = labels.first(where: { $0.name == "le" }) else {
                    throw fail("bucket sample \(name) of histogram \(family.name) has no 'le' label")
                }
                guard PrometheusText.parseFloat(le.value) != nil else {
                    throw fail("invalid 'le' value '\(le.value)' in bucket sample \(name)")
                }
            }
        case .summary:
            if name == family.name {
                guard let q = labels.first(where: { $0.name == "quantile" }) else {
                    throw fail("sample \(name) of summary \(family.name) has no 'quantile' label")
                }
                guard PrometheusText.parseFloat(q.value) != nil else {
                    throw fail("invalid 'quantile' value '\(q.value)' in sample \(name)")
                }
            }
        default:
            break
        }
    }

    // MARK: Scanning

    private func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    private func skipBlanks(_ s: Int, _ e: Int) -> Int {
        var i = s
        while i < e && isBlank(b[i]) { i += 1 }
        return i
    }

    private func tokenEnd(_ s: Int, _ e: Int) -> Int {
        var i = s
        while i < e && !isBlank(b[i]) { i += 1 }
        return i
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    private func scanMetricName(_ s: Int, _ e: Int) -> Int {
        var i = s
        while i < e {
            let c = b[i]
            let ok = isLetter(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || (i > s && isDigit(c))
            if !ok { break }
            i += 1
        }
        return i
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    private func scanLabelName(_ s: Int, _ e: Int) -> Int {
        var i = s
        while i < e {
            let c = b[i]
            let ok = isLetter(c) || c == UInt8(ascii: "_") || (i > s && isDigit(c))
            if !ok { break }
            i += 1
        }
        return i
    }

    private func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private func text(_ s: Int, _ e: Int) -> String { String(decoding: b[s..<e], as: UTF8.self) }

    /// HELP text: `\\` is a backslash and `\n` a newline; any other backslash stays as written.
    private func unescapeHelp(_ s: Int, _ e: Int) -> String {
        guard b[s..<e].contains(Self.backslash) else { return text(s, e) }
        var out: [UInt8] = []
        out.reserveCapacity(e - s)
        var i = s
        while i < e {
            if b[i] == Self.backslash, i + 1 < e, b[i + 1] == Self.backslash || b[i + 1] == UInt8(ascii: "n") {
                out.append(b[i + 1] == Self.backslash ? Self.backslash : Self.newline)
                i += 2
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(String(decoding: [c], as: UTF8.self))'" }
        if c == 0x20 { return "' '" }
        return "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    private func fail(_ message: String) -> PrometheusParseError {
        PrometheusParseError(line: line, message: message)
    }
}
