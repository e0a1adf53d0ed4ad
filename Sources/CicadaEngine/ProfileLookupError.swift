/// A GPU, model or precision name that matches no known profile, with what was probably meant.
///
/// Device and model names come from the command line and scenario files, where a typo should
/// produce a helpful message ("did you mean ...") and the list of valid names, not a bare failure.
public struct ProfileLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being looked up: `GPU`, `model` or `precision`.
    public let kind: String
    /// The name as given.
    public let name: String
    /// Canonical names close to the one given, best first (may be empty).
    public let suggestions: [String]
    /// Every canonical name of this kind.
    public let known: [String]

    /// Creates the error; ``suggestions(for:among:)`` computes `suggestions`.
    public init(kind: String, name: String, suggestions: [String], known: [String]) {
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        self.known = known
    }

    /// The message: `unknown GPU "a100"; did you mean "A100-40GB" or "A100-80GB"? (known: ...)`.
    public var description: String {
        var text = "unknown \(kind) \"\(name)\""
        if !suggestions.isEmpty {
            let quoted = suggestions.map { "\"\($0)\"" }
            text += "; did you mean " + quoted.joined(separator: " or ") + "?"
        }
        text += " (known: " + known.joined(separator: ", ") + ")"
        return text
    }

    /// Normalises a profile name for matching: lowercase, letters, digits and dots only.
    ///
    /// So `A100 80GB`, `a100-80gb` and `A100_80GB` all match one profile, while the dot in
    /// `1.3b` survives.
    public static func normalise(_ name: String) -> String {
        String(name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "." })
    }

    /// Canonical names worth suggesting for the normalised `key`: those with an alias that
    /// starts with the key; failing that, those with an alias the key starts with; failing
    /// that, those within a small edit distance; at most three, in table order.
    ///
    /// Prefix matches come first because a truncated name (`a100`, `h100`) is the common
    /// mistake; edit distance catches typos (`a1OO`, `deepsek-llm-7b`).
    public static func suggestions(
        for key: String, among candidates: [(canonical: String, aliases: [String])]
    ) -> [String] {
        guard !key.isEmpty else { return [] }
        func matching(_ test: (String) -> Bool) -> [String] {
            candidates.filter { $0.aliases.contains { test(normalise($0)) } }.map(\.canonical)
        }
        var out = matching { $0.hasPrefix(key) }
        if out.isEmpty {
            out = matching { key.hasPrefix($0) && $0.count >= 3 }
        }
        if out.isEmpty {
            let limit = max(2, key.count / 3)
            var scored: [(distance: Int, canonical: String)] = []
            for candidate in candidates {
                let best = candidate.aliases.map { editDistance(key, normalise($0)) }.min() ?? .max
                if best <= limit { scored.append((best, candidate.canonical)) }
            }
            // A stable sort keeps table order among equal distances.
            out = scored.enumerated()
                .sorted { ($0.element.distance, $0.offset) < ($1.element.distance, $1.offset) }
                .map(\.element.canonical)
        }
        var seen = Set<String>()
        return Array(out.filter { seen.insert($0).inserted }.prefix(3))
    }

    /// Levenshtein distance between two strings, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
