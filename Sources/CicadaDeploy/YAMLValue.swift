/// A YAML value to write: scalars, lists and ordered maps, written in block style.
///
/// Strings are written plain only when no YAML reader could take them for something else
/// (a number, a boolean, null, a flow collection); multi-line text is a literal block (`|`), so a
/// scenario stays readable in its ConfigMap; anything else is double-quoted with escapes.
public indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value as a block at `indent` spaces: for a map or list, its lines; for a scalar, one line.
    public func yaml(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let pairs):
            if pairs.isEmpty { return pad + "{}\n" }
            return pairs.map { pad + Self.key($0.0) + ":" + $0.1.after(indent: indent) }.joined()
        case .list(let items):
            if items.isEmpty { return pad + "[]\n" }
            return items.map { item -> String in
                switch item {
                case .map(let pairs) where !pairs.isEmpty:
                    // "- first: value" then the other keys under it.
                    let inner = item.yaml(indent: indent + 2)
                    return pad + "- " + inner.dropFirst(indent + 2)
                case .list(let l) where !l.isEmpty:
                    return pad + "-\n" + item.yaml(indent: indent + 2)
                default:
                    return pad + "-" + item.after(indent: indent)
                }
            }.joined()
        default:
            return pad + scalarText(indent: indent) + "\n"
        }
    }

    /// What follows `key:` or `-`: a space and a scalar, or a new line and a nested block.
    func after(indent: Int) -> String {
        switch self {
        case .map(let p) where !p.isEmpty: return "\n" + yaml(indent: indent + 2)
        case .list(let l) where !l.isEmpty: return "\n" + yaml(indent: indent + 2)
        case .map: return " {}\n"
        case .list: return " []\n"
        default: return " " + scalarText(indent: indent) + "\n"
        }
    }

    /// A scalar's text; a literal block carries its own lines, indented under `indent`.
    func scalarText(indent: Int) -> String {
        switch self {
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s):
            if Self.isPlain(s) { return s }
            if let block = Self.literalBlock(s, indent: indent + 2) { return block }
            return Self.quoted(s)
        default: return ""
        }
    }

    static func key(_ k: String) -> String { isPlain(k) ? k : quoted(k) }

    /// Safe as a plain scalar: starts with a letter, digit, '/' or '.', holds only characters
    /// with no meaning in YAML's flow or block syntax, and resolves to no other type.
    static func isPlain(_ s: String) -> Bool {
        guard let f = s.first, !s.contains(": "), !s.hasSuffix(":"), !s.contains(" #") else { return false }
        let allowed: (Character) -> Bool = { c in
            c.isASCII && (c.isLetter || c.isNumber || "-_./:()$=+@ ".contains(c))
        }
        guard f.isASCII && (f.isLetter || f == "/" || f == "."), s.allSatisfy(allowed), s.last != " " else { return false }
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", ".inf", ".nan"]
        if reserved.contains(s.lowercased()) { return false }
        if Double(s) != nil || s.hasPrefix(".") && Double("0" + s) != nil { return false }
        return true
    }

    /// A literal block (`|`, `|-` or `|+`, with an indentation indicator when the first line
    /// starts with a space), or nil when the text cannot be one (control characters, CR, BOM, no lines).
    static func literalBlock(_ s: String, indent: Int) -> String? {
        guard s.contains("\n") else { return nil }
        for u in s.unicodeScalars where (u.value < 0x20 && u != "\n" && u != "\t") || u.value == 0x7f || u.value == 0xFEFF
            || (0x80...0x9f).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 || u.value == 0x85 {
            return nil
        }
        var body = Substring(s)
        var trailing = 0
        while body.last == "\n" { body.removeLast(); trailing += 1 }
        if body.isEmpty { return nil }
        let chomp = trailing == 0 ? "-" : trailing == 1 ? "" : "+"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.first { !$0.isEmpty }!
        if first.hasPrefix("\t") { return nil }
        let indicator = first.hasPrefix(" ") ? "2" : ""
        let pad = String(repeating: " ", count: indent)
        var out = "|" + indicator + chomp
        for line in lines { out += line.isEmpty ? "\n" : "\n" + pad + line }
        for _ in 1..<max(trailing, 1) { out += "\n" }
        return out
    }

    /// A double-quoted scalar with JSON-style escapes (YAML's double-quoted style accepts them).
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7f || (0x80...0x9f).contains(u.value) || u.value == 0xFEFF || u.value == 0x2028 || u.value == 0x2029 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
