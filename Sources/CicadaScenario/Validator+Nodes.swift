import CicadaCore
import Yams

/// Reading typed values out of YAML nodes; each failure becomes an issue at the node.
extension Validator {
    /// The mapping at `node`, checking keys against `allowed`; nil (with an issue) otherwise.
    func mapping(_ node: Node, _ path: String, allowed: [String]) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let m) = node else {
            fail(node, path, "expected a mapping (key: value pairs), found \(kind(node))")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (k, v) in m {
            guard let name = k.scalar?.string else { fail(k, path, "keys must be plain text"); continue }
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if out[name] != nil { fail(k, keyPath, "duplicate key '\(name)'"); continue }
            if !allowed.contains(name) {
                let hint = Suggest.closest(name, in: allowed).map { "did you mean '\($0)'?" } ?? "known keys: \(allowed.joined(separator: ", "))"
                fail(k, keyPath, "unknown key '\(name)'", hint: hint)
                continue
            }
            out[name] = (k, v)
        }
        return out
    }

    func kind(_ n: Node) -> String {
        switch n {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string(_ n: Node, _ path: String) -> String? {
        guard let s = n.scalar?.string else { fail(n, path, "expected text, found \(kind(n))"); return nil }
        return s
    }

    func int(_ n: Node, _ path: String, min: Int = 0, max: Int = .max) -> Int? {
        guard let s = n.scalar?.string, let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            fail(n, path, "expected a whole number, found \(n.scalar.map { "'\($0.string)'" } ?? kind(n))"); return nil
        }
        guard v >= min else { fail(n, path, "must be at least \(min), found \(v)"); return nil }
        guard v <= max else { fail(n, path, "must be at most \(max), found \(v)"); return nil }
        return v
    }

    func double(_ n: Node, _ path: String, positive: Bool = false, max: Double = .infinity, least: Double? = nil) -> Double? {
        guard let s = n.scalar?.string, let v = Double(s), v.isFinite else {
            fail(n, path, "expected a number, found \(n.scalar.map { "'\($0.string)'" } ?? kind(n))"); return nil
        }
        if positive, v <= 0 { fail(n, path, "must be greater than 0, found \(s)"); return nil }
        if v < 0 { fail(n, path, "must not be negative, found \(s)"); return nil }
        if let least, v < least { fail(n, path, "must be at least \(least), found \(s)"); return nil }
        if v > max { fail(n, path, "must be at most \(Int(max)), found \(s)"); return nil }
        return v
    }

    func bool(_ n: Node, _ path: String) -> Bool? {
        switch n.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: fail(n, path, "expected true or false"); return nil
        }
    }

    func duration(_ n: Node, _ path: String) -> Duration? {
        guard let s = n.scalar?.string, let d = DurationText.parse(s) else {
            fail(n, path, "expected a duration such as 30s, 5m, 1h30m or 250ms, found \(n.scalar.map { "'\($0.string)'" } ?? kind(n))")
            return nil
        }
        return d
    }

    func list(_ n: Node, _ path: String) -> [Node]? {
        guard case .sequence(let s) = n else { fail(n, path, "expected a list, found \(kind(n))"); return nil }
        return Array(s)
    }


    /// A fraction given as `0.01` or `1%`.
    func fraction(_ n: Node, _ path: String) -> Double? {
        if let s = n.scalar?.string {
            if s.hasSuffix("%"), let v = Double(s.dropLast()), v >= 0 { return v / 100 }
            if let v = Double(s), v >= 0, v <= 1 { return v }
        }
        fail(n, path, "expected a fraction or a percentage such as 1%")
        return nil
    }
}
