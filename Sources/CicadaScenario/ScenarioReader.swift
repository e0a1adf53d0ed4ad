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
        return ScenarioDocument(scenario: scenario!, engine: v.engine, targetsEngine: v.targetsEngine, sweep: v.sweep, compare: v.compare)
    }

    /// Reads an engine configuration file: a YAML mapping with the keys of a scenario's
    /// `engine:` block (for `cicada serve --config`).
    public func readEngine(path: String) throws(ScenarioErrors) -> EngineSpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "cannot read file")])
        }
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else { return EngineSpec() }
            root = n
        } catch let e as YamlError {
            throw ScenarioErrors([Self.issue(from: e, file: path)])
        } catch {
            throw ScenarioErrors([ScenarioIssue(file: path, line: nil, column: nil, keyPath: "", message: "\(error)")])
        }
        let v = Validator(file: path, baseDirectory: ".")
        let spec = v.engineSpec(root, path: "")
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

/// Walks the node tree, collecting issues. One instance per file.
final class Validator {
    let file: String
    let baseDirectory: String
    var issues: [ScenarioIssue] = []
    var engine: EngineSpec?
    var targetsEngine = false
    var sweep: SweepSpec?
    var compare: CompareSpec?
    /// The placeholder target of an embedded-engine scenario until the engine has a port.
    static let embeddedPlaceholder = "http://127.0.0.1:0"

    init(file: String, baseDirectory: String) { self.file = file; self.baseDirectory = baseDirectory }

    // MARK: Issue helpers

    func fail(_ node: Node?, _ path: String, _ message: String, hint: String? = nil) {
        issues.append(ScenarioIssue(file: file, line: node?.mark?.line, column: node?.mark?.column, keyPath: path, message: message, hint: hint))
    }

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

    func int(_ n: Node, _ path: String, min: Int = 0) -> Int? {
        guard let s = n.scalar?.string, let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            fail(n, path, "expected a whole number, found \(n.scalar.map { "'\($0.string)'" } ?? kind(n))"); return nil
        }
        guard v >= min else { fail(n, path, "must be at least \(min), found \(v)"); return nil }
        return v
    }

    func double(_ n: Node, _ path: String, positive: Bool = false) -> Double? {
        guard let s = n.scalar?.string, let v = Double(s), v.isFinite else {
            fail(n, path, "expected a number, found \(n.scalar.map { "'\($0.string)'" } ?? kind(n))"); return nil
        }
        if positive, v <= 0 { fail(n, path, "must be greater than 0, found \(s)"); return nil }
        if v < 0 { fail(n, path, "must not be negative, found \(s)"); return nil }
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

    // MARK: Scenario

    static let topKeys = ["name", "description", "target", "seed", "headers", "auth", "timeouts", "http2", "insecure",
                          "prompts", "users", "spawn_rate", "run_time", "wait_time", "stages", "flow", "on_start",
                          "arrival", "tasks", "thresholds", "engine", "goodput", "telemetry", "sweep", "compare"]

    func scenario(_ root: Node, defaultName: String) -> Scenario? {
        guard let top = mapping(root, "", allowed: Self.topKeys) else { return nil }
        let name = top["name"].flatMap { string($0.value, "name") } ?? defaultName
        var target = ""
        if let t = top["target"] {
            if let s = string(t.value, "target") {
                if s == "embedded" {
                    targetsEngine = true
                    target = Self.embeddedPlaceholder
                } else if let u = URL(string: s), let scheme = u.scheme, ["http", "https"].contains(scheme.lowercased()), u.host != nil {
                    target = s
                } else {
                    fail(t.value, "target", "'\(s)' is not an http:// or https:// URL")
                }
            }
        } else {
            fail(root, "target", "missing required key 'target' (the base URL, e.g. http://127.0.0.1:8000)")
        }
        if let e = top["engine"] { engine = engineSpec(e.value) } else if targetsEngine { engine = EngineSpec() }
        let seed = top["seed"].flatMap { int($0.value, "seed") }.map { UInt64($0) } ?? 1
        var headers: [(name: String, value: String)] = []
        if let h = top["headers"], case .mapping(let m) = h.value {
            for (k, v) in m { if let ks = k.scalar?.string, let vs = string(v, "headers.\(ks)") { headers.append((ks, vs)) } }
        } else if let h = top["headers"] { fail(h.value, "headers", "expected a mapping of header names to values") }
        var bearerEnv: String?
        if let a = top["auth"], let m = mapping(a.value, "auth", allowed: ["bearer_env"]) {
            if let e = m["bearer_env"] { bearerEnv = string(e.value, "auth.bearer_env") }
            if let e = bearerEnv, e.hasPrefix("ey") || e.count > 64 || e.contains(" ") {
                fail(m["bearer_env"]!.value, "auth.bearer_env", "this looks like a token, not an environment variable name", hint: "put the token in an environment variable and name the variable here")
            }
        }
        var timeouts = Timeouts()
        if let t = top["timeouts"], let m = mapping(t.value, "timeouts", allowed: ["connect", "request"]) {
            if let c = m["connect"], let d = duration(c.value, "timeouts.connect") { timeouts.connect = d }
            if let r = m["request"], let d = duration(r.value, "timeouts.request") { timeouts.request = d }
        }
        let http2 = top["http2"].flatMap { bool($0.value, "http2") } ?? false
        let insecure = top["insecure"].flatMap { bool($0.value, "insecure") } ?? false
        var prompts: [String] = []
        if let p = top["prompts"] { prompts = promptFile(p.value) }
        let flow: TaskFlow
        if let f = top["flow"], let s = string(f.value, "flow") {
            if let fl = TaskFlow(rawValue: s) { flow = fl } else { fail(f.value, "flow", "expected 'weighted' or 'sequential', found '\(s)'"); flow = .weighted }
        } else { flow = .weighted }

        let load = loadProfile(top, root: root)

        var tasks: [TaskSpec] = []
        if let t = top["tasks"], let items = list(t.value, "tasks") {
            for (i, item) in items.enumerated() { if let spec = task(item, "tasks[\(i)]") { tasks.append(spec) } }
            if items.isEmpty { fail(t.value, "tasks", "at least one task is needed") }
        } else if top["tasks"] == nil {
            fail(root, "tasks", "missing required key 'tasks' (the requests each user sends)")
        }
        var onStart: [TaskSpec] = []
        if let t = top["on_start"], let items = list(t.value, "on_start") {
            for (i, item) in items.enumerated() { if let spec = task(item, "on_start[\(i)]") { onStart.append(spec) } }
            if case .open? = load { fail(t.key, "on_start", "on_start runs once per user; an open-model (arrival) scenario has no users") }
        }
        if flow == .sequential, case .open? = load, let f = top["flow"] { fail(f.key, "flow", "sequential flows need users; an open-model (arrival) scenario has none") }
        var seen = Set<String>()
        for (i, t) in tasks.enumerated() where !seen.insert(t.name).inserted {
            fail(nil, "tasks[\(i)].name", "duplicate task name '\(t.name)'; statistics are grouped by name")
        }
        let usesPrompt = (tasks + onStart).contains { t in t.path.usesPrompt || (t.body?.usesPrompt ?? false) || t.headers.contains { $0.value.usesPrompt } }
        if usesPrompt, prompts.isEmpty, top["prompts"] == nil {
            fail(root, "prompts", "a task uses {{prompt}} but the scenario names no prompts file", hint: "add 'prompts: prompts.txt'")
        }

        var goodput: GoodputSLO?
        if let g = top["goodput"], let gm = mapping(g.value, "goodput", allowed: ["ttft", "tpot", "e2el"]) {
            var slo = GoodputSLO()
            func ms(_ key: String) -> Duration? {
                guard let v = gm[key] else { return nil }
                guard let sv = v.value.scalar?.string, let d = DurationText.parse(sv, defaultUnit: .milliseconds) else {
                    fail(v.value, "goodput.\(key)", "expected a duration such as 200ms (a bare number is ms)"); return nil
                }
                return d
            }
            slo.ttft = ms("ttft"); slo.tpot = ms("tpot"); slo.e2el = ms("e2el")
            if slo == GoodputSLO() { fail(g.value, "goodput", "give at least one of ttft, tpot, e2el") } else { goodput = slo }
        }
        var thresholds: [ThresholdSpec] = []
        if let t = top["thresholds"], let items = list(t.value, "thresholds") {
            for (i, item) in items.enumerated() { if let th = threshold(item, "thresholds[\(i)]", taskNames: tasks.map(\.name)) { thresholds.append(th) } }
        }
        if let sw = top["sweep"] { sweep = sweepSpec(sw.key, sw.value, load: load) }
        if let c = top["compare"] { compare = compareSpec(c.key, c.value) }
        var telemetry = TelemetrySpec()
        if let t = top["telemetry"], let tm = mapping(t.value, "telemetry", allowed: ["gpu", "prometheus", "scrape_target", "interval", "stale_after"]) {
            if let g = tm["gpu"], let gs = string(g.value, "telemetry.gpu") {
                let modes = ["auto", "none"]
                if modes.contains(gs) { telemetry.gpu = gs } else {
                    fail(g.value, "telemetry.gpu", "expected one of \(modes.joined(separator: ", ")), found '\(gs)'", hint: Suggest.closest(gs, in: modes).map { "did you mean '\($0)'?" })
                }
            }
            if let pr = tm["prometheus"] {
                let nodes: [Node]
                if case .sequence(let sq) = pr.value { nodes = Array(sq) } else { nodes = [pr.value] }
                for (i, u) in nodes.enumerated() {
                    guard let us = string(u, "telemetry.prometheus[\(i)]") else { continue }
                    if us.hasPrefix("http://") || us.hasPrefix("https://") { telemetry.prometheus.append(us) } else {
                        fail(u, "telemetry.prometheus[\(i)]", "'\(us)' is not an http:// URL (e.g. http://127.0.0.1:9400/metrics)")
                    }
                }
            }
            if let v = tm["scrape_target"], let b = bool(v.value, "telemetry.scrape_target") { telemetry.scrapeTarget = b }
            if let v = tm["interval"], let d = duration(v.value, "telemetry.interval") {
                if d < .milliseconds(100) { fail(v.value, "telemetry.interval", "must be at least 100ms") } else { telemetry.interval = d }
            }
            if let v = tm["stale_after"], let d = duration(v.value, "telemetry.stale_after") { telemetry.staleAfter = d }
        }
        guard let load, !target.isEmpty else { return nil }
        var built = Scenario(name: name, target: target, headers: headers, bearerTokenEnv: bearerEnv, timeouts: timeouts, http2: http2,
                        insecure: insecure, load: load, onStart: onStart, tasks: tasks, flow: flow, thresholds: thresholds,
                        seed: seed, prompts: prompts, goodput: goodput)
        built.telemetry = telemetry
        return built
    }

    // MARK: Load

    func loadProfile(_ top: [String: (key: Node, value: Node)], root: Node) -> LoadProfile? {
        if let a = top["arrival"] {
            for k in ["users", "spawn_rate", "wait_time", "stages"] where top[k] != nil {
                fail(top[k]!.key, k, "'\(k)' belongs to the closed (users) model, but 'arrival' selects the open model", hint: "use one or the other")
            }
            return openLoad(a.value, runTime: top["run_time"])
        }
        var waitTime = WaitTime.none
        if let w = top["wait_time"] { waitTime = self.waitTime(w.value) ?? .none }
        if let s = top["stages"] {
            for k in ["users", "spawn_rate", "run_time"] where top[k] != nil {
                fail(top[k]!.key, k, "'\(k)' conflicts with 'stages' (each stage sets its own duration, users and spawn rate)")
            }
            guard let items = list(s.value, "stages") else { return nil }
            var stages: [UserStage] = []
            for (i, item) in items.enumerated() {
                let p = "stages[\(i)]"
                guard let m = mapping(item, p, allowed: ["duration", "users", "spawn_rate"]) else { continue }
                guard let d = m["duration"], let u = m["users"] else { fail(item, p, "each stage needs 'duration' and 'users'"); continue }
                guard let dur = duration(d.value, "\(p).duration"), let users = int(u.value, "\(p).users") else { continue }
                let rate = m["spawn_rate"].flatMap { double($0.value, "\(p).spawn_rate", positive: true) } ?? Double(max(users, 1))
                stages.append(UserStage(duration: dur, users: users, spawnRate: rate))
            }
            if items.isEmpty { fail(s.value, "stages", "at least one stage is needed") }
            return .closed(ClosedLoad(stages: stages, waitTime: waitTime))
        }
        let users = top["users"].flatMap { int($0.value, "users", min: 1) } ?? 1
        let rate = top["spawn_rate"].flatMap { double($0.value, "spawn_rate", positive: true) } ?? 1
        var runTime = Duration.seconds(Int64.max / 4_000_000_000)
        if let r = top["run_time"], let d = duration(r.value, "run_time") {
            if d <= .zero { fail(r.value, "run_time", "must be longer than 0") }
            runTime = d
        }
        return .closed(ClosedLoad(stages: [UserStage(duration: runTime, users: users, spawnRate: rate)], waitTime: waitTime))
    }

    func waitTime(_ n: Node) -> WaitTime? {
        let path = "wait_time"
        guard let s = n.scalar?.string else { fail(n, path, "expected e.g. between(0.5, 2), constant(1), constant_pacing(1), constant_throughput(2) or poisson(2)"); return nil }
        let text = s.replacingOccurrences(of: " ", with: "")
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            fail(n, path, "expected a function such as between(0.5, 2); found '\(s)'"); return nil
        }
        let fn = String(text[..<open])
        let args = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",").map { Double($0) }
        guard args.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else { fail(n, path, "arguments must be non-negative numbers of seconds (or per-second rates)"); return nil }
        let a = args.map { $0! }
        let known = ["constant", "between", "constant_pacing", "constant_throughput", "poisson"]
        switch (fn, a.count) {
        case ("constant", 1): return .constant(.fromSeconds(a[0]))
        case ("between", 2):
            guard a[0] <= a[1] else { fail(n, path, "between(min, max) needs min <= max"); return nil }
            return .between(.fromSeconds(a[0]), .fromSeconds(a[1]))
        case ("constant_pacing", 1): return .constantPacing(.fromSeconds(a[0]))
        case ("constant_throughput", 1), ("poisson", 1):
            guard a[0] > 0 else { fail(n, path, "\(fn) needs a rate greater than 0"); return nil }
            return fn == "poisson" ? .poisson(a[0]) : .constantThroughput(a[0])
        default:
            if known.contains(fn) { fail(n, path, "wrong number of arguments to \(fn)") } else {
                fail(n, path, "unknown wait time '\(fn)'", hint: Suggest.closest(fn, in: known).map { "did you mean '\($0)'?" } ?? "use one of \(known.joined(separator: ", "))")
            }
            return nil
        }
    }

    func openLoad(_ n: Node, runTime: (key: Node, value: Node)?) -> LoadProfile? {
        let p = "arrival"
        guard let m = mapping(n, p, allowed: ["rate", "process", "burstiness", "start_rate", "stages", "max_in_flight", "max_queue"]) else { return nil }
        var process = ArrivalProcess.constant
        let burst = m["burstiness"].flatMap { double($0.value, "\(p).burstiness", positive: true) }
        if let pr = m["process"], let s = string(pr.value, "\(p).process") {
            switch s {
            case "constant": process = .constant
            case "poisson": process = .gamma(burstiness: 1)
            case "gamma": process = .gamma(burstiness: burst ?? 1)
            default: fail(pr.value, "\(p).process", "expected constant, poisson or gamma, found '\(s)'")
            }
        }
        if burst != nil, case .constant = process { fail(m["burstiness"]!.key, "\(p).burstiness", "burstiness applies to process: gamma") }
        let maxInFlight = m["max_in_flight"].flatMap { int($0.value, "\(p).max_in_flight", min: 1) } ?? 1000
        let maxQueue = m["max_queue"].flatMap { int($0.value, "\(p).max_queue", min: 0) }
        if let s = m["stages"] {
            if m["rate"] != nil { fail(m["rate"]!.key, "\(p).rate", "'rate' conflicts with 'stages' (give 'start_rate' and each stage's target rate)") }
            if let r = runTime { fail(r.key, "run_time", "'run_time' conflicts with arrival stages (the stages' durations add up to the run time)") }
            guard let items = list(s.value, "\(p).stages") else { return nil }
            var stages: [RateStage] = []
            for (i, item) in items.enumerated() {
                let sp = "\(p).stages[\(i)]"
                guard let sm = mapping(item, sp, allowed: ["duration", "rate", "ramp"]) else { continue }
                guard let d = sm["duration"], let r = sm["rate"] else { fail(item, sp, "each stage needs 'duration' and 'rate'"); continue }
                var ramp = RateStage.Ramp.linear
                if let rn = sm["ramp"], let rs = string(rn.value, "\(sp).ramp") {
                    if let v = RateStage.Ramp(rawValue: rs) { ramp = v } else { fail(rn.value, "\(sp).ramp", "expected linear or exponential, found '\(rs)'") }
                }
                if let dur = duration(d.value, "\(sp).duration"), let rate = double(r.value, "\(sp).rate") { stages.append(RateStage(duration: dur, rate: rate, ramp: ramp)) }
            }
            if items.isEmpty { fail(s.value, "\(p).stages", "at least one stage is needed") }
            let start = m["start_rate"].flatMap { double($0.value, "\(p).start_rate") } ?? 0
            return .open(OpenLoad(startRate: start, stages: stages, process: process, maxInFlight: maxInFlight, maxQueue: maxQueue))
        }
        guard let r = m["rate"] else { fail(n, p, "missing 'rate' (arrivals per second) or 'stages'"); return nil }
        guard let rate = double(r.value, "\(p).rate", positive: true) else { return nil }
        guard let rt = runTime else { fail(n, "run_time", "an open-model scenario with a constant rate needs 'run_time'"); return nil }
        guard let d = duration(rt.value, "run_time") else { return nil }
        return .open(OpenLoad.constant(rate: rate, duration: d, process: process, maxInFlight: maxInFlight, maxQueue: maxQueue))
    }

    // MARK: Tasks

    static let taskKeys = ["name", "weight", "method", "path", "headers", "json", "body", "checks", "kind", "model", "prompt", "max_tokens", "stream"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    func task(_ n: Node, _ p: String) -> TaskSpec? {
        guard let m = mapping(n, p, allowed: Self.taskKeys) else { return nil }
        var kind = RequestKind.http
        if let k = m["kind"], let ks = string(k.value, "\(p).kind") {
            if let rk = RequestKind(rawValue: ks) { kind = rk } else {
                let names = RequestKind.allCases.map(\.rawValue)
                fail(k.value, "\(p).kind", "unknown request kind '\(ks)'", hint: Suggest.closest(ks, in: names).map { "did you mean '\($0)'?" } ?? "kinds: \(names.joined(separator: ", "))")
            }
        }
        for key in ["model", "prompt", "max_tokens", "stream"] where m[key] != nil && kind == .http {
            fail(m[key]!.key, "\(p).\(key)", "'\(key)' needs a request kind (kind: openai-chat, openai-completions, kserve-v2 or predict)")
        }
        var synthesized: Node?
        if kind != .http, m["json"] == nil, m["body"] == nil {
            synthesized = requestBody(kind: kind, m, p)
        }
        var defaultPath: String?
        switch kind {
        case .predict: defaultPath = "/predict"
        case .openAIChat: defaultPath = "/v1/chat/completions"
        case .openAICompletions: defaultPath = "/v1/completions"
        case .kserveV2: defaultPath = "/v2/models/\(m["model"]?.value.scalar?.string ?? "model")/infer"
        case .http: defaultPath = nil
        }
        let method = (m["method"].flatMap { string($0.value, "\(p).method") } ?? (m["json"] != nil || m["body"] != nil || synthesized != nil ? "POST" : "GET")).uppercased()
        if !Self.methods.contains(method) { fail(m["method"]?.value, "\(p).method", "unknown HTTP method '\(method)'", hint: Suggest.closest(method, in: Self.methods).map { "did you mean '\($0)'?" }) }
        let pathNode: Node
        if let given = m["path"] { pathNode = given.value } else if let d = defaultPath { pathNode = Node(d) } else {
            fail(n, "\(p).path", "missing required key 'path' (e.g. /predict)"); return nil
        }
        guard let pathText = string(pathNode, "\(p).path") else { return nil }
        if !pathText.hasPrefix("/") { fail(pathNode, "\(p).path", "a path starts with '/', found '\(pathText)'") }
        let name = m["name"].flatMap { string($0.value, "\(p).name") } ?? "\(method) \(pathText)"
        let weight = m["weight"].flatMap { int($0.value, "\(p).weight", min: 0) } ?? 1
        let path = template(pathText, pathNode, "\(p).path", .none)
        var headers: [(name: String, value: Template)] = []
        if let h = m["headers"] {
            if case .mapping(let hm) = h.value {
                for (k, v) in hm {
                    guard let ks = k.scalar?.string, let vs = string(v, "\(p).headers.\(ks)") else { continue }
                    if let t = template(vs, v, "\(p).headers.\(ks)", .none) { headers.append((ks, t)) }
                }
            } else { fail(h.value, "\(p).headers", "expected a mapping of header names to values") }
        }
        var body: Template?
        if m["json"] != nil, m["body"] != nil { fail(m["body"]!.key, "\(p).body", "give either 'json' or 'body', not both") }
        if let j = m["json"]?.value ?? synthesized {
            var t = Template(segments: [])
            jsonTemplate(j, "\(p).json", into: &t)
            body = t
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", .literal("application/json"))) }
        } else if let b = m["body"], let s = string(b.value, "\(p).body") {
            body = template(s, b.value, "\(p).body", .none)
        }
        var checks: [Check] = []
        if let c = m["checks"] { checks = self.checks(c.value, "\(p).checks") }
        guard let path else { return nil }
        return TaskSpec(name: name, weight: weight, method: method, path: path, headers: headers, body: body, checks: checks, kind: kind)
    }

    /// The JSON body a request kind sends when the task gives none: the seed's
    /// `{"input": prompt}`, or an OpenAI request with `stream_options.include_usage` so the
    /// server reports exact token counts.
    func requestBody(kind: RequestKind, _ m: [String: (key: Node, value: Node)], _ p: String) -> Node {
        func plain(_ v: String, _ tag: Tag.Name) -> Node { .scalar(.init(v, Tag(tag), .plain)) }
        let prompt = m["prompt"]?.value ?? Node("{{prompt}}")
        if kind == .predict { return .mapping(.init([(Node("input"), prompt)])) }
        if kind == .kserveV2 {
            // KServe v2 inference request: one BYTES tensor of shape [1] holding the prompt.
            let tensor: Node = .mapping(.init([
                (Node("name"), Node("text_input")), (Node("shape"), .sequence(.init([plain("1", .int)]))),
                (Node("datatype"), Node("BYTES")), (Node("data"), .sequence(.init([prompt]))),
            ]))
            return .mapping(.init([(Node("inputs"), .sequence(.init([tensor])))]))
        }
        var pairs: [(Node, Node)] = [(Node("model"), m["model"]?.value ?? Node("default"))]
        if kind == .openAIChat {
            pairs.append((Node("messages"), .sequence(.init([.mapping(.init([(Node("role"), Node("user")), (Node("content"), prompt)]))]))))
        } else {
            pairs.append((Node("prompt"), prompt))
        }
        pairs.append((Node("max_tokens"), m["max_tokens"]?.value ?? plain("128", .int)))
        var stream = true
        if let st = m["stream"], let b = bool(st.value, "\(p).stream") { stream = b }
        pairs.append((Node("stream"), plain(stream ? "true" : "false", .bool)))
        if stream {
            pairs.append((Node("stream_options"), .mapping(.init([(Node("include_usage"), plain("true", .bool))]))))
        }
        return .mapping(.init(pairs))
    }

    func template(_ text: String, _ node: Node, _ path: String, _ escaping: Template.Escaping) -> Template? {
        do { return try Template(parsing: text, escaping: escaping) } catch { fail(node, path, error.message); return nil }
    }

    /// Compiles a YAML value into JSON text with templated strings escaped for JSON.
    ///
    /// Plain YAML numbers, booleans and null become JSON literals; every other scalar is a JSON
    /// string. A string that is exactly one `{{random_int}}`, `{{seq}}` or `{{user}}`
    /// placeholder renders as a bare JSON number, so `max_tokens: "{{random_int 16 256}}"`
    /// sends a number.
    func jsonTemplate(_ n: Node, _ path: String, into t: inout Template) {
        switch n {
        case .scalar(let s):
            if s.style == .plain {
                let v = s.string
                if v == "null" || v == "~" { t.append(.literal("null")); return }
                if ["true", "false"].contains(v) { t.append(.literal(v)); return }
                if Double(v) != nil, v.first.map({ $0.isNumber || $0 == "-" }) == true { t.append(.literal(v)); return }
            }
            guard let parsed = template(s.string, n, path, .jsonString) else { return }
            if parsed.segments.count == 1, [.seq, .user].contains(parsed.segments[0].part) || {
                switch parsed.segments[0].part { case .randomInt, .randomNormal: return true; default: return false }
            }() {
                t.append(parsed)
                return
            }
            t.append(.literal("\""))
            var escaped = Template(segments: [])
            for seg in parsed.segments {
                if case .literal(let l) = seg.part {
                    var e = ""; JSONText.appendEscaped(l, to: &e); escaped.append(.literal(e))
                } else { escaped.append(Template(segments: [seg])) }
            }
            t.append(escaped)
            t.append(.literal("\""))
        case .mapping(let m):
            t.append(.literal("{"))
            var first = true
            for (k, v) in m {
                guard let ks = k.scalar?.string else { fail(k, path, "JSON object keys must be text"); continue }
                if !first { t.append(.literal(",")) }
                first = false
                t.append(.literal(JSONText.quoted(ks) + ":"))
                jsonTemplate(v, "\(path).\(ks)", into: &t)
            }
            t.append(.literal("}"))
        case .sequence(let s):
            t.append(.literal("["))
            for (i, v) in s.enumerated() {
                if i > 0 { t.append(.literal(",")) }
                jsonTemplate(v, "\(path)[\(i)]", into: &t)
            }
            t.append(.literal("]"))
        case .alias:
            fail(n, path, "YAML aliases are not supported in a JSON body")
        }
    }

    func checks(_ n: Node, _ p: String) -> [Check] {
        guard let m = mapping(n, p, allowed: ["status", "json_exists", "json_equals", "contains"]) else { return [] }
        var out: [Check] = []
        if let s = m["status"] {
            var codes = Set<Int>()
            let nodes: [Node]
            if case .sequence(let seq) = s.value { nodes = Array(seq) } else { nodes = [s.value] }
            for c in nodes {
                if let v = int(c, "\(p).status", min: 100) {
                    if v > 599 { fail(c, "\(p).status", "\(v) is not an HTTP status code") } else { codes.insert(v) }
                }
            }
            if !codes.isEmpty { out.append(.status(codes)) }
        }
        if let e = m["json_exists"] {
            let nodes: [Node]
            if case .sequence(let seq) = e.value { nodes = Array(seq) } else { nodes = [e.value] }
            for x in nodes {
                guard let s = string(x, "\(p).json_exists") else { continue }
                if let jp = JSONPath(s) { out.append(.jsonExists(jp)) } else { fail(x, "\(p).json_exists", "'\(s)' is not a JSON path (e.g. $.output or choices[0].text)") }
            }
        }
        if let e = m["json_equals"], case .mapping(let em) = e.value {
            for (k, v) in em {
                guard let ks = k.scalar?.string else { continue }
                guard let jp = JSONPath(ks) else { fail(k, "\(p).json_equals", "'\(ks)' is not a JSON path"); continue }
                var t = Template(segments: [])
                jsonTemplate(v, "\(p).json_equals.\(ks)", into: &t)
                guard t.isConstant, let value = JSONValue.parse(Array(t.render(context: .init(user: 0, seq: 0, prompts: []), rng: &dummy).utf8)) else {
                    fail(v, "\(p).json_equals.\(ks)", "expected a constant JSON value"); continue
                }
                out.append(.jsonEquals(jp, value))
            }
        } else if let e = m["json_equals"] { fail(e.value, "\(p).json_equals", "expected a mapping of JSON paths to expected values") }
        if let c = m["contains"], let s = string(c.value, "\(p).contains") { out.append(.contains(s)) }
        return out
    }
    var dummy = SeededRandom(seed: 0)

    // MARK: Thresholds

    func threshold(_ n: Node, _ p: String, taskNames: [String]) -> ThresholdSpec? {
        var spec: ThresholdSpec
        var exprNode = n
        switch n {
        case .scalar(let s):
            spec = ThresholdSpec(s.string)
        case .mapping:
            guard let m = mapping(n, p, allowed: ["threshold", "abort_on_fail", "delay_abort_eval"]) else { return nil }
            guard let t = m["threshold"], let s = string(t.value, "\(p).threshold") else { fail(n, p, "missing 'threshold' (the expression)"); return nil }
            exprNode = t.value
            spec = ThresholdSpec(s)
            if let a = m["abort_on_fail"], let b = bool(a.value, "\(p).abort_on_fail") { spec.abortOnFail = b }
            if let d = m["delay_abort_eval"], let dd = duration(d.value, "\(p).delay_abort_eval") { spec.delayAbortEval = dd }
        default:
            fail(n, p, "expected an expression such as \"p(99)<100ms\" or a mapping with 'threshold'"); return nil
        }
        do {
            let t = try Threshold(spec)
            if let task = t.task, !taskNames.contains(task) {
                fail(exprNode, p, "threshold names task '\(task)', which the scenario does not have", hint: Suggest.closest(task, in: taskNames).map { "did you mean '\($0)'?" })
                return nil
            }
        } catch { fail(exprNode, p, error.message); return nil }
        return spec
    }

    // MARK: Engine

    static let engineKeys = ["gpu", "model", "precision", "batching", "presets", "cache", "predict_output_tokens"]
    static let presetKeys = ["name", "max_batch_size", "preferred_batch_sizes", "max_queue_delay_us", "max_queue_size",
                             "default_timeout_us", "timeout_action", "allow_timeout_override", "priority_levels",
                             "default_priority_level", "preserve_ordering", "instance_count"]

    func engineSpec(_ n: Node, path p: String = "engine") -> EngineSpec? {
        guard let m = mapping(n, p, allowed: Self.engineKeys) else { return nil }
        var spec = EngineSpec()
        if let g = m["gpu"], let s = string(g.value, "\(p).gpu") {
            do { spec.gpu = try GPUProfile.named(s).name } catch { fail(g.value, "\(p).gpu", error.description) }
        }
        if let g = m["model"], let s = string(g.value, "\(p).model") {
            do { spec.model = try ModelProfile.named(s).name } catch { fail(g.value, "\(p).model", error.description) }
        }
        if let g = m["precision"], let s = string(g.value, "\(p).precision") {
            do { spec.precision = try Precision.named(s).rawValue } catch { fail(g.value, "\(p).precision", error.description) }
        }
        if let ps = m["presets"], let items = list(ps.value, "\(p).presets") {
            for (i, item) in items.enumerated() {
                let ip = "\(p).presets[\(i)]"
                guard let pm = mapping(item, ip, allowed: Self.presetKeys) else { continue }
                guard let nameNode = pm["name"], let name = string(nameNode.value, "\(ip).name") else { fail(item, ip, "a preset needs a 'name'"); continue }
                var c = BatcherConfig.preset(named: name) ?? BatcherConfig()
                batcherFields(pm, ip, into: &c)
                for problem in c.validate() { fail(item, ip, problem) }
                if let k = spec.presets.firstIndex(where: { $0.name == name }) { spec.presets[k].config = c } else { spec.presets.append((name, c)) }
            }
        }
        if let b = m["batching"], let s = string(b.value, "\(p).batching") {
            if spec.presets.contains(where: { $0.name == s }) { spec.startPreset = s } else {
                let names = spec.presets.map(\.name)
                fail(b.value, "\(p).batching", "unknown batching preset '\(s)'", hint: Suggest.closest(s, in: names).map { "did you mean '\($0)'?" } ?? "presets: \(names.joined(separator: ", "))")
            }
        }
        if let c = m["cache"], let cm = mapping(c.value, "\(p).cache", allowed: ["enabled", "ttl", "max_entries"]) {
            if let v = cm["enabled"], let x = bool(v.value, "\(p).cache.enabled") { spec.cacheEnabled = x }
            if let v = cm["ttl"], let x = duration(v.value, "\(p).cache.ttl") { spec.cacheTTL = x }
            if let v = cm["max_entries"], let x = int(v.value, "\(p).cache.max_entries", min: 1) { spec.cacheEntries = x }
        }
        if let v = m["predict_output_tokens"], let x = int(v.value, "\(p).predict_output_tokens", min: 1) { spec.predictOutputTokens = x }
        return spec
    }


    /// Applies a preset's batching keys (all of ``presetKeys`` but `name`) from `pm` to `c`.
    func batcherFields(_ pm: [String: (key: Node, value: Node)], _ ip: String, into c: inout BatcherConfig) {
        if let v = pm["max_batch_size"], let x = int(v.value, "\(ip).max_batch_size", min: 1) { c.maxBatchSize = x }
        if let v = pm["preferred_batch_sizes"], let xs = list(v.value, "\(ip).preferred_batch_sizes") {
            c.preferredBatchSizes = xs.compactMap { int($0, "\(ip).preferred_batch_sizes", min: 1) }
        }
        if let v = pm["max_queue_delay_us"], let x = int(v.value, "\(ip).max_queue_delay_us") { c.maxQueueDelayMicros = UInt64(x) }
        if let v = pm["max_queue_size"], let x = int(v.value, "\(ip).max_queue_size") { c.maxQueueSize = x }
        if let v = pm["default_timeout_us"], let x = int(v.value, "\(ip).default_timeout_us") { c.defaultTimeoutMicros = UInt64(x) }
        if let v = pm["timeout_action"], let x = string(v.value, "\(ip).timeout_action") {
            if let a = BatcherConfig.TimeoutAction(rawValue: x.lowercased()) { c.timeoutAction = a } else {
                fail(v.value, "\(ip).timeout_action", "expected REJECT or DELAY, found '\(x)'")
            }
        }
        if let v = pm["allow_timeout_override"], let x = bool(v.value, "\(ip).allow_timeout_override") { c.allowTimeoutOverride = x }
        if let v = pm["priority_levels"], let x = int(v.value, "\(ip).priority_levels") { c.priorityLevels = x }
        if let v = pm["default_priority_level"], let x = int(v.value, "\(ip).default_priority_level") { c.defaultPriorityLevel = x }
        if let v = pm["preserve_ordering"], let x = bool(v.value, "\(ip).preserve_ordering") { c.preserveOrdering = x }
        if let v = pm["instance_count"], let x = int(v.value, "\(ip).instance_count", min: 1) { c.instanceCount = x }
    }


    // MARK: Sweep

    static let sweepKeys = ["presets", "grid", "targets", "rates", "concurrency", "warmup", "measure", "stable", "slo"]

    /// The `sweep:` block: configurations (`presets`, a `grid` over a base preset, named
    /// `targets`) by load levels (`rates` or `concurrency`), with the point's time limit,
    /// stability rule and objectives.
    func sweepSpec(_ key: Node, _ n: Node, load: LoadProfile?) -> SweepSpec? {
        guard let sm = mapping(n, "sweep", allowed: Self.sweepKeys) else { return nil }
        let engineSpec = engine ?? EngineSpec()
        let presetNames = engineSpec.presets.map(\.name)
        var spec = SweepSpec(configurations: [], levels: [])
        func add(_ c: SweepSpec.Configuration, _ node: Node, _ path: String) {
            if spec.configurations.contains(where: { $0.name == c.name }) { fail(node, path, "duplicate configuration '\(c.name)'") } else { spec.configurations.append(c) }
        }
        if let ps = sm["presets"], let items = list(ps.value, "sweep.presets") {
            for (i, item) in items.enumerated() {
                guard let name = string(item, "sweep.presets[\(i)]") else { continue }
                if let c = engineSpec.presets.first(where: { $0.name == name })?.config { add(.init(name: name, kind: .engine(c)), item, "sweep.presets[\(i)]") } else {
                    fail(item, "sweep.presets[\(i)]", "unknown batching preset '\(name)'", hint: Suggest.closest(name, in: presetNames).map { "did you mean '\($0)'?" } ?? "presets: \(presetNames.joined(separator: ", "))")
                }
            }
        }
        if let g = sm["grid"], let gm = mapping(g.value, "sweep.grid", allowed: ["base", "max_batch_size", "max_queue_delay_us", "instance_count"]) {
            var baseName = engineSpec.startPreset
            if let b = gm["base"], let bs = string(b.value, "sweep.grid.base") {
                if presetNames.contains(bs) { baseName = bs } else {
                    fail(b.value, "sweep.grid.base", "unknown batching preset '\(bs)'", hint: Suggest.closest(bs, in: presetNames).map { "did you mean '\($0)'?" } ?? "presets: \(presetNames.joined(separator: ", "))")
                }
            }
            let base = engineSpec.presets.first { $0.name == baseName }?.config ?? .seed
            func ints(_ k: String, min: Int) -> [Int?] {
                guard let v = gm[k] else { return [nil] }
                guard let items = list(v.value, "sweep.grid.\(k)") else { return [nil] }
                let xs = items.enumerated().compactMap { int($1, "sweep.grid.\(k)[\($0)]", min: min) }
                if xs.isEmpty { fail(v.value, "sweep.grid.\(k)", "give at least one value") }
                return xs.isEmpty ? [nil] : xs
            }
            let sizes = ints("max_batch_size", min: 1), delays = ints("max_queue_delay_us", min: 0), instances = ints("instance_count", min: 1)
            if sizes == [nil] && delays == [nil] && instances == [nil] {
                fail(g.value, "sweep.grid", "give at least one of max_batch_size, max_queue_delay_us, instance_count (lists of values)")
            }
            for size in sizes {
                for delay in delays {
                    for inst in instances {
                        var c = base
                        if let size {
                            c.maxBatchSize = size
                            // Preferred sizes above the new maximum cannot be formed: keep the rest.
                            c.preferredBatchSizes = c.preferredBatchSizes.filter { $0 <= size }
                        }
                        if let delay { c.maxQueueDelayMicros = UInt64(delay) }
                        if let inst { c.instanceCount = inst }
                        let name = SweepSpec.gridName(base: baseName, maxBatchSize: size, delayMicros: delay.map(UInt64.init), instances: inst)
                        let problems = c.validate()
                        if problems.isEmpty { add(.init(name: name, kind: .engine(c)), g.value, "sweep.grid") } else {
                            for p in problems { fail(g.value, "sweep.grid", "\(name): \(p)") }
                        }
                    }
                }
            }
        }
        if let ts = sm["targets"], let items = list(ts.value, "sweep.targets") {
            for (i, item) in items.enumerated() {
                let ip = "sweep.targets[\(i)]"
                guard let tm = mapping(item, ip, allowed: ["name", "url"]) else { continue }
                guard let nn = tm["name"], let name = string(nn.value, "\(ip).name") else { fail(item, ip, "a target needs a 'name'"); continue }
                guard let un = tm["url"], let url = string(un.value, "\(ip).url") else { fail(item, ip, "a target needs a 'url'"); continue }
                guard let u = URL(string: url), let scheme = u.scheme, ["http", "https"].contains(scheme.lowercased()), u.host != nil else {
                    fail(un.value, "\(ip).url", "'\(url)' is not an http:// or https:// URL"); continue
                }
                add(.init(name: name, kind: .target(url)), nn.value, "\(ip).name")
            }
        }
        if sm["presets"] == nil && sm["grid"] == nil && sm["targets"] == nil {
            fail(n, "sweep.presets", "missing 'presets' (batching presets to compare), 'grid' or 'targets'")
        }
        switch (sm["rates"], sm["concurrency"]) {
        case (let r?, nil):
            if let items = list(r.value, "sweep.rates") { spec.levels = items.enumerated().compactMap { double($1, "sweep.rates[\($0)]", positive: true) }.sorted() }
            if case .closed? = load { fail(key, "sweep", "a sweep over arrival rates needs an 'arrival:' block (open model)") }
        case (nil, let c?):
            spec.axis = .concurrency
            if let items = list(c.value, "sweep.concurrency") { spec.levels = items.enumerated().compactMap { int($1, "sweep.concurrency[\($0)]", min: 1) }.map(Double.init).sorted() }
            if case .open? = load { fail(key, "sweep", "a sweep over concurrency needs users (closed model), not an 'arrival:' block") }
        case (_?, let c?):
            fail(c.key, "sweep.concurrency", "give 'rates' (open model) or 'concurrency' (closed model), not both")
        case (nil, nil):
            fail(n, "sweep.rates", "missing 'rates' (arrival rates per second) or 'concurrency' (user counts)")
        }
        if let w = sm["warmup"], let d = duration(w.value, "sweep.warmup") { spec.warmup = d }
        if let m = sm["measure"], let d = duration(m.value, "sweep.measure") { spec.measure = d }
        if let st = sm["stable"] {
            if let b = st.value.scalar?.string, ["false", "no", "off"].contains(b.lowercased()) { spec.stability = nil } else if let stm = mapping(st.value, "sweep.stable", allowed: ["windows", "window", "tolerance"]) {
                var rule = SweepSpec.Stability()
                if let v = stm["windows"], let x = int(v.value, "sweep.stable.windows", min: 2) { rule.windows = x }
                if let v = stm["window"], let d = duration(v.value, "sweep.stable.window") {
                    if d < .seconds(1) || d.seconds != d.seconds.rounded() { fail(v.value, "sweep.stable.window", "must be a whole number of seconds (1s or more)") } else { rule.window = d }
                }
                if let v = stm["tolerance"], let t = fraction(v.value, "sweep.stable.tolerance") { rule.tolerance = t }
                spec.stability = rule
            }
        }
        if let slo = sm["slo"], let om = mapping(slo.value, "sweep.slo", allowed: ["p99", "error_rate"]) {
            if let p = om["p99"], let ps = p.value.scalar?.string, let d = DurationText.parse(ps, defaultUnit: .milliseconds) { spec.p99 = d }
            else if let p = om["p99"] { fail(p.value, "sweep.slo.p99", "expected a duration such as 100ms") }
            if let e = om["error_rate"], let v = fraction(e.value, "sweep.slo.error_rate") { spec.maxErrorRate = v }
        }
        return spec
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

    // MARK: Compare

    static let variantKeys = ["name", "preset", "target", "gpu", "model", "precision"] + presetKeys.filter { $0 != "name" }

    /// The `compare:` block: `baseline` (optional) and `variants`, each an engine preset (with
    /// optional batching and device changes) or a target URL.
    func compareSpec(_ key: Node, _ n: Node) -> CompareSpec? {
        guard let m = mapping(n, "compare", allowed: ["variants", "baseline"]) else { return nil }
        guard let vs = m["variants"] else { fail(n, "compare.variants", "missing 'variants' (two or more configurations to run side by side)"); return nil }
        guard let items = list(vs.value, "compare.variants") else { return nil }
        let base = engine ?? EngineSpec()
        var variants: [CompareSpec.Variant] = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let ip = "compare.variants[\(i)]"
            guard let vm = mapping(item, ip, allowed: Self.variantKeys) else { continue }
            guard let nameNode = vm["name"], let name = string(nameNode.value, "\(ip).name") else { fail(item, ip, "a variant needs a 'name'"); continue }
            guard names.insert(name).inserted else { fail(nameNode.value, "\(ip).name", "duplicate variant name '\(name)'"); continue }
            let engineKeys = Self.variantKeys.filter { $0 != "name" && $0 != "target" && vm[$0] != nil }
            if let t = vm["target"] {
                if let k = engineKeys.first {
                    fail(vm[k]!.key, "\(ip).\(k)", "a variant is either a target URL or an engine configuration; '\(k)' does not apply with 'target'")
                    continue
                }
                guard let url = string(t.value, "\(ip).target") else { continue }
                if url == "embedded" {
                    fail(t.value, "\(ip).target", "name the engine's batching with 'preset:' instead of 'target: embedded'"); continue
                }
                guard let u = URL(string: url), let scheme = u.scheme, ["http", "https"].contains(scheme.lowercased()), u.host != nil else {
                    fail(t.value, "\(ip).target", "'\(url)' is not an http:// or https:// URL"); continue
                }
                variants.append(.init(name: name, kind: .target(url), line: item.mark?.line))
                continue
            }
            var spec = base
            var config = base.startBatching
            var presetName = base.startPreset
            if let p = vm["preset"], let ps = string(p.value, "\(ip).preset") {
                if let c = spec.presets.first(where: { $0.name == ps })?.config { config = c; presetName = ps } else {
                    let names = spec.presets.map(\.name)
                    fail(p.value, "\(ip).preset", "unknown batching preset '\(ps)'", hint: Suggest.closest(ps, in: names).map { "did you mean '\($0)'?" } ?? "presets: \(names.joined(separator: ", "))")
                    continue
                }
            }
            if let g = vm["gpu"], let s = string(g.value, "\(ip).gpu") {
                do { spec.gpu = try GPUProfile.named(s).name } catch { fail(g.value, "\(ip).gpu", error.description) }
            }
            if let g = vm["model"], let s = string(g.value, "\(ip).model") {
                do { spec.model = try ModelProfile.named(s).name } catch { fail(g.value, "\(ip).model", error.description) }
            }
            if let g = vm["precision"], let s = string(g.value, "\(ip).precision") {
                do { spec.precision = try Precision.named(s).rawValue } catch { fail(g.value, "\(ip).precision", error.description) }
            }
            let before = config
            batcherFields(vm, ip, into: &config)
            for problem in config.validate() { fail(item, ip, problem) }
            if config != before {
                // Changed batching: a preset of its own, named after the variant.
                presetName = name
                if let k = spec.presets.firstIndex(where: { $0.name == name }) { spec.presets[k].config = config } else { spec.presets.append((name, config)) }
            }
            spec.startPreset = presetName
            variants.append(.init(name: name, kind: .engine(spec), line: item.mark?.line))
        }
        if items.count < 2 { fail(vs.value, "compare.variants", "give at least two variants to compare (found \(items.count))") }
        var baseline: String?
        if let b = m["baseline"], let bs = string(b.value, "compare.baseline") {
            let names = variants.map(\.name)
            if names.contains(bs) { baseline = bs } else {
                fail(b.value, "compare.baseline", "'\(bs)' is not one of the variants", hint: Suggest.closest(bs, in: names).map { "did you mean '\($0)'?" } ?? "variants: \(names.joined(separator: ", "))")
            }
        }
        return CompareSpec(variants: variants, baseline: baseline)
    }

    // MARK: Prompts

    /// Synthetic prompts of a chosen length distribution (in approximate tokens, ~4 characters
    /// each, the engine's and vLLM's random-dataset convention), deterministic under the seed.
    func syntheticPrompts(_ n: Node) -> [String] {
        let p = "prompts.synthetic"
        guard let m = mapping(n, p, allowed: ["count", "input_tokens", "seed"]) else { return [] }
        let count = m["count"].flatMap { int($0.value, "\(p).count", min: 1) } ?? 1000
        var rng = SeededRandom(seed: UInt64(m["seed"].flatMap { int($0.value, "\(p).seed") } ?? 1), stream: 0x5EED)
        var draw: (inout SeededRandom) -> Int = { _ in 128 }
        if let it = m["input_tokens"] {
            if let fixed = it.value.scalar.flatMap({ Int($0.string) }) {
                guard fixed >= 1 else { fail(it.value, "\(p).input_tokens", "must be at least 1"); return [] }
                draw = { _ in fixed }
            } else if let dm = mapping(it.value, "\(p).input_tokens", allowed: ["fixed", "uniform", "normal"]) {
                if let f = dm["fixed"], let v = int(f.value, "\(p).input_tokens.fixed", min: 1) { draw = { _ in v } }
                if let u = dm["uniform"], let xs = list(u.value, "\(p).input_tokens.uniform") {
                    let v = xs.compactMap { int($0, "\(p).input_tokens.uniform", min: 1) }
                    if v.count == 2, v[0] <= v[1] { draw = { r in v[0] + Int(r.next() % UInt64(v[1] - v[0] + 1)) } } else {
                        fail(u.value, "\(p).input_tokens.uniform", "expected [min, max] with min <= max")
                    }
                }
                if let no = dm["normal"], let nm = mapping(no.value, "\(p).input_tokens.normal", allowed: ["mean", "stddev"]) {
                    let mean = nm["mean"].flatMap { double($0.value, "\(p).input_tokens.normal.mean", positive: true) } ?? 128
                    let sd = nm["stddev"].flatMap { double($0.value, "\(p).input_tokens.normal.stddev") } ?? 0
                    draw = { r in max(1, Int((mean + sd * r.normal()).rounded())) }
                }
            }
        }
        let words = ["the", "model", "serves", "tokens", "under", "load", "with", "batching", "and", "cache", "latency", "matters"]
        return (0..<count).map { _ in
            let tokens = draw(&rng)
            var s = ""
            while s.count < tokens * 4 { if !s.isEmpty { s += " " }; s += words[Int(rng.next() % UInt64(words.count))] }
            return String(s.prefix(tokens * 4))
        }
    }

    func promptFile(_ n: Node) -> [String] {
        var pathText: String?
        var format: String?
        var field = "prompt"
        if case .mapping = n {
            guard let m = mapping(n, "prompts", allowed: ["file", "format", "field", "synthetic"]) else { return [] }
            if let syn = m["synthetic"] {
                if m["file"] != nil { fail(syn.key, "prompts.synthetic", "give either 'file' or 'synthetic'") }
                return syntheticPrompts(syn.value)
            }
            pathText = m["file"].flatMap { string($0.value, "prompts.file") }
            format = m["format"].flatMap { string($0.value, "prompts.format") }
            if let f = m["field"].flatMap({ string($0.value, "prompts.field") }) { field = f }
            if pathText == nil { fail(n, "prompts.file", "missing 'file'") }
        } else {
            pathText = string(n, "prompts")
        }
        guard let rel = pathText else { return [] }
        let full = rel.hasPrefix("/") ? rel : baseDirectory + "/" + rel
        guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
            fail(n, "prompts", "cannot read prompts file '\(full)'"); return []
        }
        let fmt = format ?? (rel.hasSuffix(".jsonl") ? "jsonl" : rel.hasSuffix(".json") ? "sharegpt" : "lines")
        var out: [String] = []
        switch fmt {
        case "lines":
            out = text.split(separator: "\n", omittingEmptySubsequences: true).map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case "jsonl":
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let v = JSONValue.parse(Array(line.utf8)) else {
                    issues.append(ScenarioIssue(file: full, line: i + 1, column: 1, keyPath: "prompts", message: "line is not valid JSON")); continue
                }
                if case .string(let s)? = JSONPath(field)?.lookup(v) { out.append(s) } else {
                    issues.append(ScenarioIssue(file: full, line: i + 1, column: 1, keyPath: "prompts", message: "no text field '\(field)' on this line"))
                }
            }
        case "sharegpt":
            // ShareGPT: [{"conversations": [{"from": "human", "value": "..."}, ...]}, ...]; the first
            // human turn of each conversation is the prompt (vLLM's sharegpt dataset does the same).
            guard case .array(let items)? = JSONValue.parse(Array(text.utf8)) else {
                fail(n, "prompts", "'\(full)' is not a ShareGPT JSON array"); return []
            }
            for item in items {
                guard case .object(let o) = item, case .array(let turns)? = o["conversations"] else { continue }
                for turn in turns {
                    if case .object(let t) = turn, case .string(let from)? = t["from"], from == "human" || from == "user",
                       case .string(let v)? = t["value"], !v.isEmpty {
                        out.append(v); break
                    }
                }
            }
        default:
            fail(n, "prompts.format", "expected 'lines', 'jsonl' or 'sharegpt', found '\(fmt)'")
        }
        if out.isEmpty, issues.isEmpty { fail(n, "prompts", "prompts file '\(full)' holds no prompts") }
        return out
    }
}
