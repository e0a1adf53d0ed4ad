import CicadaCore

/// A JSON document under construction, with object keys kept in the order they were given.
///
/// The report is written by hand rather than with `JSONEncoder` so its key order is stable
/// (diffable, documented) and numbers are printed with at most three decimals on every
/// platform.
indirect enum JSONOut {
    case object([(String, JSONOut)])
    case array([JSONOut])
    case string(String)
    /// A number with up to three decimals; NaN and infinities become `null`.
    case number(Double)
    case integer(UInt64)
    /// Already-formatted number text.
    case numberText(String)
    case bool(Bool)
    case null

    /// `v`, or `null` when nil.
    static func number(_ v: Double?) -> JSONOut { v.map { .number($0) } ?? .null }
    /// A number written to 9 significant digits rather than 3 decimals: for fractions and bounds
    /// that a reader compares with figures it computes itself (intervals, error rates, limits).
    static func precise(_ v: Double?) -> JSONOut {
        guard let v, v.isFinite else { return .null }
        return .numberText(String(format: "%.9g", v))
    }
    /// `s`, or `null` when nil.
    static func string(_ s: String?) -> JSONOut { s.map { .string($0) } ?? .null }
    /// Microseconds as milliseconds (exact to 0.001), or `null` when nil.
    static func millis(_ micros: UInt64?) -> JSONOut { micros.map { .numberText(ReportNumber.millis($0)) } ?? .null }

    /// Writes the value, indented by two spaces per level, to `out`.
    func write(to out: inout some TextOutputStream, indent: Int = 0) {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .object(let pairs):
            guard !pairs.isEmpty else { out.write("{}"); return }
            out.write("{\n")
            for (i, (k, v)) in pairs.enumerated() {
                out.write(pad); out.write(JSONText.quoted(k)); out.write(": ")
                v.write(to: &out, indent: indent + 1)
                out.write(i == pairs.count - 1 ? "\n" : ",\n")
            }
            out.write(close); out.write("}")
        case .array(let items):
            guard !items.isEmpty else { out.write("[]"); return }
            out.write("[\n")
            for (i, v) in items.enumerated() {
                out.write(pad)
                v.write(to: &out, indent: indent + 1)
                out.write(i == items.count - 1 ? "\n" : ",\n")
            }
            out.write(close); out.write("]")
        case .string(let s): out.write(JSONText.quoted(s))
        case .number(let d): out.write(ReportNumber.decimal(d) ?? "null")
        case .integer(let n): out.write(String(n))
        case .numberText(let t): out.write(t)
        case .bool(let b): out.write(b ? "true" : "false")
        case .null: out.write("null")
        }
    }
}
