import CicadaCore
import CicadaEngine
import Yams

/// Walks the node tree, collecting issues. One instance per file.
final class Validator {
    let file: String
    let baseDirectory: String
    var issues: [ScenarioIssue] = []
    var engine: EngineConfig?
    var targetsEngine = false
    var sweep: SweepSpec?
    var compare: CompareSpec?
    /// The embedded-engine members of a `split:` block, by member name.
    var splitEngines: [String: EngineConfig] = [:]
    /// Every file the scenario names (prompts, baseline...), in the order met.
    var dataFiles: [ScenarioDataFile] = []
    /// Whether `arrival.trace` was read (tasks' generated bodies then take each arrival's
    /// `max_tokens` and prompt from it).
    var hasTrace = false
    /// Whether `arrival.trace` was given at all (read or not): its prompts come from the trace.
    var traceGiven = false
    /// `prompts.synthetic.prefix`, once read.
    var sharedPrefix: SharedPrefix?
    /// The placeholder target of an embedded-engine scenario until the engine has a port.
    static let embeddedPlaceholder = "http://127.0.0.1:0"
    /// The largest weight of a task, a model in a weighted list or a split target. The pickers
    /// add weights up in `Int`; two weights near `Int.max` overflowed and trapped when the run
    /// began. A million is far past any share a scenario needs and keeps any count of weights
    /// far from the limit.
    static let maxWeight = 1_000_000
    /// Upper bounds on the counts and rates a run, its engine or its prompts are built from. Past
    /// these, values the reader accepted overflowed, trapped or hung once the run began (users
    /// times the descriptors each needs, a queue share, an allocation per engine instance, the
    /// prompt text). Each is far past what one machine runs.
    static let maxUsers = 1_000_000
    static let maxQueue = 100_000_000
    static let maxRate = 10_000_000.0
    static let maxPromptTokens = 1_000_000
    static let maxPrompts = 1_000_000
    static let maxPromptTokensInAll = 100_000_000
    static let maxOutputTokens = 1_000_000
    static let maxNumSeqs = ContinuousSettings.maxNumSeqsLimit
    static let maxBatchedTokens = ContinuousSettings.maxNumBatchedTokensLimit
    static let maxStableWindows = 1_000

    init(file: String, baseDirectory: String) { self.file = file; self.baseDirectory = baseDirectory }

    func fail(_ node: Node?, _ path: String, _ message: String, hint: String? = nil) {
        issues.append(ScenarioIssue(file: file, line: node?.mark?.line, column: node?.mark?.column, keyPath: path, message: message, hint: hint))
    }

    /// The path of a file the scenario names at `key`, resolved against the scenario's folder,
    /// and noted in ``dataFiles`` (so `cicada k8s render` can ship it with the scenario).
    func dataFile(_ written: String, key: String) -> String {
        let full = written.hasPrefix("/") ? written : baseDirectory + "/" + written
        if !dataFiles.contains(where: { $0.resolved == full }) {
            dataFiles.append(ScenarioDataFile(path: written, resolved: full, key: key))
        }
        return full
    }

    /// A throwaway generator for rendering constant templates (json_equals values).
    var dummy = SeededRandom(seed: 0)
}
