/// A condition on a response; a request that fails one is a failure with the check's reason.
public enum Check: Sendable, Equatable {
    /// The status must be one of these codes.
    case status(Set<Int>)
    /// The JSON body must have a value at this path (`$.a.b[0]` or `a.b.0`).
    case jsonExists(JSONPath)
    /// The JSON value at this path must equal the given JSON value.
    case jsonEquals(JSONPath, JSONValue)
    /// The body must contain this text.
    case contains(String)

    /// The failure reason, or nil when the response passes.
    public func failure(status: Int, body: [UInt8]) -> String? {
        switch self {
        case .status(let codes):
            return codes.contains(status) ? nil : "status \(status) not in \(codes.sorted().map(String.init).joined(separator: ","))"
        case .contains(let text):
            return String(decoding: body, as: UTF8.self).contains(text) ? nil : "body does not contain \"\(text)\""
        case .jsonExists(let path):
            switch JSONValue.parse(body) {
            case nil: return "body is not JSON"
            case let v?: return path.lookup(v) == nil ? "JSON path \(path) missing" : nil
            }
        case .jsonEquals(let path, let expected):
            guard let v = JSONValue.parse(body) else { return "body is not JSON" }
            guard let found = path.lookup(v) else { return "JSON path \(path) missing" }
            return found == expected ? nil : "JSON path \(path) is \(found.text), expected \(expected.text)"
        }
    }

    /// The default check when a task names none: any 2xx or 3xx status passes.
    public static let defaultStatus = Check.status(Set(200..<400))
}

/// A JSON value with structural equality (numbers compare as doubles).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; nil when it is not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var p = JSONParser(bytes)
        guard let v = p.value() else { return nil }
        p.skipSpace()
        return p.atEnd ? v : nil
    }

    /// Compact JSON text of the value.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .string(let s): return JSONText.quoted(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { JSONText.quoted($0) + ":" + o[$0]!.text }.joined(separator: ",") + "}"
        }
    }
}

/// A simple JSON path: `$.a.b[0].c`, `a.b.0.c` or `$["key"]`.
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    /// A step into an object (by key) or an array (by index).
    public enum Step: Sendable, Equatable { case key(String), index(Int) }
    public var steps: [Step]
    public var description: String { source }
    private var source: String

    /// Parses a path; nil when it is malformed.
    public init?(_ text: String) {
        source = text
        var s = Substring(text)
        if s.hasPrefix("$") { s = s.dropFirst() }
        if s.hasPrefix(".") { s = s.dropFirst() }
        steps = []
        var key = ""
        var i = s.startIndex
        func flush() { if !key.isEmpty { steps.append(Int(key).map { .index($0) } ?? .key(key)); key = "" } }
        while i < s.endIndex {
            let c = s[i]
            if c == "." {
                flush()
            } else if c == "[" {
                flush()
                guard let close = s[i...].firstIndex(of: "]") else { return nil }
                var inner = String(s[s.index(after: i)..<close])
                if inner.hasPrefix("\""), inner.hasSuffix("\""), inner.count >= 2 {
                    inner = String(inner.dropFirst().dropLast())
                    steps.append(.key(inner))
                } else if let n = Int(inner) {
                    steps.append(.index(n))
                } else { return nil }
                i = close
            } else {
                key.append(c)
            }
            i = s.index(after: i)
        }
        flush()
    }

    /// The value at this path in `value`, or nil when absent.
    public func lookup(_ value: JSONValue) -> JSONValue? {
        var cur = value
        for step in steps {
            switch (step, cur) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                cur = next
            case (.index(let n), .array(let a)):
                guard n >= 0, n < a.count else { return nil }
                cur = a[n]
            case (.index(let n), .object(let o)):
                guard let next = o[String(n)] else { return nil }
                cur = next
            default:
                return nil
            }
        }
        return cur
    }
}
