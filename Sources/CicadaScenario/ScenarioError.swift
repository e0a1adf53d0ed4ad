/// One problem in a scenario file, located as precisely as the file allows.
public struct ScenarioIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line and column; nil when the problem has no single place (a missing key).
    public var line: Int?
    public var column: Int?
    /// Where in the document, e.g. `tasks[1].checks.status`.
    public var keyPath: String
    public var message: String
    /// A suggestion, e.g. "did you mean 'spawn_rate'?".
    public var hint: String?

    public init(file: String, line: Int?, column: Int?, keyPath: String, message: String, hint: String? = nil) {
        self.file = file; self.line = line; self.column = column; self.keyPath = keyPath; self.message = message; self.hint = hint
    }

    /// `file:line:column: error: key.path: message (hint)`, the format editors and CI parse.
    public var description: String {
        var loc = file
        if let line { loc += ":\(line)" ; if let column { loc += ":\(column)" } }
        let path = keyPath.isEmpty ? "" : "\(keyPath): "
        let h = hint.map { " (\($0))" } ?? ""
        return "\(loc): error: \(path)\(message)\(h)"
    }
}

/// Every problem found in a scenario: validation never stops at the first one.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ScenarioIssue]
    public init(_ issues: [ScenarioIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
