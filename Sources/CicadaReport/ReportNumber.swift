import CicadaCore

/// Plain decimal text for machine-read outputs (JSON, CSV): at most three decimals, trailing
/// zeros trimmed, never an exponent.
///
/// Human-facing text uses ``Format`` (fixed decimals for aligned columns); files that other
/// programs parse want the shortest exact-enough form, and the same rounding everywhere.
enum ReportNumber {
    /// `v` with up to three decimals (`12`, `12.5`, `0.001`); nil for NaN or infinity.
    static func decimal(_ v: Double) -> String? {
        guard v.isFinite else { return nil }
        // Beyond 2^53 / 1000 the fixed-point path would overflow; such values have no
        // meaningful decimals anyway.
        if abs(v) >= 9.0e15 { return abs(v) < 9.0e18 ? String(Int64(v.rounded())) : "\(v)" }
        var s = Format.number(v, digits: 3)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        if s == "-0" { s = "0" }
        return s
    }

    /// Microseconds as milliseconds with up to three decimals (exact: 1 µs = 0.001 ms).
    static func millis(_ micros: UInt64) -> String {
        let whole = micros / 1000
        let frac = micros % 1000
        guard frac != 0 else { return String(whole) }
        var f = String(frac)
        f = String(repeating: "0", count: 3 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }
}
