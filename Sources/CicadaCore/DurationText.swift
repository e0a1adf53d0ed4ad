import Foundation

/// Parsing and formatting of human durations such as `90s`, `1h30m`, `250ms`, `1.5s`.
///
/// The grammar is Locust's `--run-time` and k6's duration strings: one or more
/// `number unit` parts with units `h`, `m`, `s`, `ms`, `us` (or `µs`), `ns`. A bare number
/// takes `defaultUnit`, which differs by context (seconds for run times, milliseconds for
/// latency thresholds, as in k6).
public enum DurationText {
    /// A unit a bare number is read in.
    public enum Unit: Sendable { case seconds, milliseconds }

    /// Parses `text`; returns nil when it is not a duration.
    public static func parse(_ text: String, defaultUnit: Unit = .seconds) -> Duration? {
        let s = text.trimmingCharacters(in: .whitespaces)
        // Control characters are never part of a duration; `Double("5\0x")` would read 5 (the
        // C parser under it stops at the NUL), so they are refused before any number is read.
        guard !s.isEmpty, !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        if let bare = Double(s) {
            guard bare >= 0, bare.isFinite else { return nil }
            let seconds = defaultUnit == .seconds ? bare : bare / 1000
            guard seconds < maxSeconds else { return nil }
            return .fromSeconds(seconds)
        }
        var total = 0.0
        var chars = Array(s.unicodeScalars)
        var i = 0
        var parts = 0
        while i < chars.count {
            var num = ""
            while i < chars.count, (("0"..."9").contains(chars[i]) || chars[i] == ".") {
                num.unicodeScalars.append(chars[i]); i += 1
            }
            var unit = ""
            while i < chars.count, !(("0"..."9").contains(chars[i]) || chars[i] == ".") {
                unit.unicodeScalars.append(chars[i]); i += 1
            }
            guard let value = Double(num) else { return nil }
            let factor: Double
            switch unit {
            case "h": factor = 3600
            case "m": factor = 60
            case "s": factor = 1
            case "ms": factor = 1e-3
            case "us", "µs": factor = 1e-6
            case "ns": factor = 1e-9
            default: return nil
            }
            total += value * factor
            parts += 1
        }
        chars.removeAll()
        guard parts > 0, total.isFinite, total < maxSeconds else { return nil }
        return .fromSeconds(total)
    }

    /// The longest duration accepted: a run time or timeout past it is not a duration (a
    /// `Duration` holds about 292 years of nanoseconds; found by fuzzing, `55555555155s` crashed).
    public static let maxSeconds: Double = 100 * 365 * 24 * 3600

    /// Formats a duration compactly: `1h2m3s`, `90s`, `250ms`, `1.5s`.
    public static func format(_ d: Duration) -> String {
        let secs = d.seconds
        if secs < 1 {
            let ms = secs * 1000
            return ms == ms.rounded() ? "\(Int(ms))ms" : "\(trim(ms))ms"
        }
        if secs != secs.rounded() || secs < 60 { return "\(trim(secs))s" }
        var rest = Int(secs)
        var out = ""
        if rest >= 3600 { out += "\(rest / 3600)h"; rest %= 3600 }
        if rest >= 60 { out += "\(rest / 60)m"; rest %= 60 }
        if rest > 0 { out += "\(rest)s" }
        return out
    }

    static func trim(_ v: Double) -> String {
        var s = String(format3(v))
        while s.contains("."), s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func format3(_ v: Double) -> String {
        let scaled = (v * 1000).rounded()
        let whole = Int(scaled) / 1000
        let frac = abs(Int(scaled) % 1000)
        let f = String(frac)
        return "\(whole).\(String(repeating: "0", count: 3 - f.count))\(f)"
    }
}

