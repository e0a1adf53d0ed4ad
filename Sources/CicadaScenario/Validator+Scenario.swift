import CicadaCore
import CicadaEngine
import Foundation
import Yams

/// The top level of a scenario file.
extension Validator {
    static let topKeys = ["name", "description", "target", "seed", "headers", "auth", "timeouts", "http2", "insecure", "transport",
                          "prompts", "users", "spawn_rate", "run_time", "wait_time", "stages", "honor_retry_after", "flow", "on_start",
                          "arrival", "tasks", "thresholds", "engine", "goodput", "telemetry", "sweep", "compare", "diagnoses", "baseline",
                          "before_run", "before_each_point", "warmup", "cooldown", "tokenizer", "consistency", "split"]

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
        } else if top["split"] == nil {
            fail(root, "target", "missing required key 'target' (the base URL, e.g. http://127.0.0.1:8000)")
        }
        if let e = top["engine"] { engine = engineConfig(e.value) } else if targetsEngine { engine = EngineConfig() }
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
        var transport = TransportChoice.auto
        if let t = top["transport"], let s = string(t.value, "transport") {
            if let c = TransportChoice(rawValue: s) { transport = c } else { fail(t.value, "transport", "expected 'curl', 'fast' or 'auto', found '\(s)'") }
        }
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
        for (i, t) in onStart.enumerated() where !t.conversations.isEmpty || !t.models.isEmpty {
            fail(nil, "on_start[\(i)].\(t.conversations.isEmpty ? "model" : "conversations")", "on_start steps run once; conversations and weighted model lists belong in tasks")
        }
        for (i, t) in tasks.enumerated() where !t.conversations.isEmpty {
            if case .open? = load { fail(nil, "tasks[\(i)].conversations", "conversations need users (the closed model); an open-model (arrival) scenario has none") }
        }
        if usesPrompt, prompts.isEmpty, top["prompts"] == nil, !traceGiven {
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
            for (i, item) in items.enumerated() {
                let p = "thresholds[\(i)]"
                if case .mapping(let mm) = item, mm.keys.contains(where: { $0.string == "preset" }) {
                    guard let m = mapping(item, p, allowed: ["preset"]), let name = m["preset"].flatMap({ string($0.value, "\(p).preset") }) else { continue }
                    guard let set = ThresholdSpec.presets[name] else {
                        let known = ThresholdSpec.presets.keys.sorted()
                        fail(m["preset"]!.value, "\(p).preset", "unknown threshold preset '\(name)'",
                             hint: Suggest.closest(name, in: known).map { "did you mean '\($0)'?" } ?? "one of \(known.joined(separator: ", "))")
                        continue
                    }
                    thresholds += set.map { ThresholdSpec($0) }
                } else if let th = threshold(item, p, taskNames: tasks.map(\.name)) { thresholds.append(th) }
            }
        }
        if let sw = top["sweep"] {
            if hasTrace { fail(sw.key, "sweep", "a sweep cannot replay a trace (arrival.trace): its levels would replace the trace's arrivals") }
            sweep = sweepSpec(sw.key, sw.value, load: load)
        }
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
        var split: SplitSpec?
        if let s = top["split"] {
            split = splitSpec(s.key, s.value, others: top)
            // The baseline member's target stands for the run's (hooks, telemetry, the header).
            if let split { target = split.members[split.baselineIndex].target }
        }
        guard let load, !target.isEmpty else { return nil }
        var built = Scenario(name: name, target: target, headers: headers, bearerTokenEnv: bearerEnv, timeouts: timeouts, http2: http2,
                        insecure: insecure, load: load, onStart: onStart, tasks: tasks, flow: flow, thresholds: thresholds,
                        seed: seed, prompts: prompts, goodput: goodput)
        built.telemetry = telemetry
        built.transport = transport
        built.split = split
        if let d = top["diagnoses"] { built.diagnosisLimits = diagnosisLimits(d.value) }
        if let b = top["baseline"] { built.baseline = baselineSpec(b.value) }
        built.sharedPrefix = sharedPrefix
        if let h = top["before_run"] { built.beforeRun = hooks(h.value, "before_run") }
        if let h = top["before_each_point"] { built.beforeEachPoint = hooks(h.value, "before_each_point") }
        built.measurement = measurementWindow(top, load: load)
        if let t = top["tokenizer"] { built.tokenizer = tokenizer(t.value) }
        if let c = top["consistency"] { built.consistency = consistencySpec(c.value, tasks: top["tasks"]?.value) }
        return built
    }
}
