import CicadaCore
import CicadaEngine
import Foundation
import Yams

/// Reads scenario YAML into a validated ``Scenario``, reporting every error at once with
/// `file:line:column`, the key path and, for unknown keys, a "did you mean".
///
/// The document is walked as a YAML node tree (not decoded with `Codable`) so each error keeps
/// the position of the node it is about. The format is described in docs/SCENARIOS.md.
public struct ScenarioReader {
    public init() {}

    /// Reads and validates the scenario file at `path`.
    public func read(path: String) throws(ScenarioErrors) -> Scenario {
        try readDocument(path: path).scenario
    }

    /// Reads and validates the scenario file at `path`, with its engine block.
    public func readDocument(path: String) throws(ScenarioErrors) -> ScenarioDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "cannot read file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "file is not UTF-8 text")])
        }
        let dir = (path as NSString).deletingLastPathComponent
        let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parseDocument(text, file: path, baseDirectory: dir.isEmpty ? "." : dir, defaultName: base)
    }

    /// Parses scenario text; `file` is used in messages and `baseDirectory` for prompt files.
    public func parse(_ text: String, file: String, baseDirectory: String = ".", defaultName: String = "scenario") throws(ScenarioErrors) -> Scenario {
        try parseDocument(text, file: file, baseDirectory: baseDirectory, defaultName: defaultName).scenario
    }

    /// Parses scenario text with its engine block.
    public func parseDocument(_ text: String, file: String, baseDirectory: String = ".", defaultName: String = "scenario") throws(ScenarioErrors) -> ScenarioDocument {
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw ScenarioErrors([ScenarioIssue(file: file, line: 1, column: 1, keyPath: "", message: "the file is empty")])
            }
            root = n
        } catch let e as ScenarioErrors {
            throw e
        } catch let e as YamlError {
            throw ScenarioErrors([Self.issue(from: e, file: file)])
        } catch {
            throw ScenarioErrors([ScenarioIssue(file: file, line: nil, column: nil, keyPath: "", message: "\(error)")])
        }
        let v = Validator(file: file, baseDirectory: baseDirectory)
        let scenario = v.scenario(root, defaultName: defaultName)
        if !v.issues.isEmpty || scenario == nil { throw ScenarioErrors(v.issues) }
        var document = ScenarioDocument(scenario: scenario!, engine: v.engine, targetsEngine: v.targetsEngine, sweep: v.sweep, compare: v.compare, dataFiles: v.dataFiles)
        document.splitEngines = v.splitEngines
        return document
    }

    /// Reads an engine configuration file: a YAML mapping with the keys of a scenario's
    /// `engine:` block (for `cicada serve --config`).
    public func readEngine(path: String) throws(ScenarioErrors) -> EngineConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "cannot read file")])
        }
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else { return EngineConfig() }
            root = n
        } catch let e as YamlError {
            throw ScenarioErrors([Self.issue(from: e, file: path)])
        } catch {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "\(error)")])
        }
        let v = Validator(file: path, baseDirectory: ".")
        let spec = v.engineConfig(root, path: "")
        if !v.issues.isEmpty || spec == nil { throw ScenarioErrors(v.issues) }
        return spec!
    }

    static func issue(from e: YamlError, file: String) -> ScenarioIssue {
        switch e {
        case .scanner(let ctx, let problem, let mark, _), .parser(let ctx, let problem, let mark, _), .composer(let ctx, let problem, let mark, _):
            let c = ctx.map { " \($0.text)" } ?? ""
            return ScenarioIssue(file: file, line: mark.line, column: mark.column, keyPath: "", message: "YAML syntax: \(problem)\(c)")
        default:
            return ScenarioIssue(file: file, line: nil, column: nil, keyPath: "", message: "YAML: \(e)")
        }
    }
}
