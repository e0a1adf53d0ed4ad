import CicadaCore
import Foundation
import Yams

/// Production-like workloads: replayed traces, multi-turn conversations, weighted models,
/// shared prefixes and the hooks sent before load.
extension Validator {
    /// Placeholders the generated request bodies carry where a request's own value goes
    /// (compiled to ``Template/Part/model``, ``Template/Part/messages``, ``Template/Part/maxTokens``).
    static let modelSentinel = "\u{0}cicada:model"
    static let messagesSentinel = "\u{0}cicada:messages"
    static let maxTokensSentinel = "\u{0}cicada:max_tokens:"

    /// `arrival: {trace: FILE, time_scale: 1, block_tokens: 512}`: the trace read and checked, every
    /// bad line reported with the trace file's own line number and key.
    func traceLoad(_ m: [String: (key: Node, value: Node)], _ n: Node, runTime: (key: Node, value: Node)?, maxInFlight: Int, maxQueue: Int?) -> LoadProfile? {
        let p = "arrival"
        traceGiven = true
        for k in ["rate", "stages", "start_rate", "process", "burstiness"] where m[k] != nil {
            fail(m[k]!.key, "\(p).\(k)", "'\(k)' conflicts with 'trace' (a replayed trace brings its own arrival times)")
        }
        guard let t = m["trace"], let rel = string(t.value, "\(p).trace") else { return nil }
        var scale = 1.0
        if let s = m["time_scale"], let v = double(s.value, "\(p).time_scale", positive: true) { scale = v }
        var blockTokens = ArrivalTrace.defaultBlockTokens
        if let b = m["block_tokens"], let v = int(b.value, "\(p).block_tokens", min: 1) {
            if v > ArrivalTrace.maxTokens { fail(b.value, "\(p).block_tokens", "at most \(ArrivalTrace.maxTokens) tokens") } else { blockTokens = v }
        }
        let full = dataFile(rel, key: "\(p).trace")
        guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
            fail(t.value, "\(p).trace", "cannot read trace file '\(full)'"); return nil
        }
        let (entries, errors) = ArrivalTrace.parse(text)
        for e in errors.prefix(50) {
            issues.append(ScenarioIssue(file: full, line: e.line, column: 1, keyPath: "\(p).trace" + (e.key.map { "." + $0 } ?? ""), message: e.message))
        }
        if errors.isEmpty, entries.isEmpty { fail(t.value, "\(p).trace", "trace file '\(full)' holds no requests") }
        guard errors.isEmpty, !entries.isEmpty else { return nil }
        var cap: Duration?
        if let r = runTime, let d = duration(r.value, "run_time") {
            if d <= .zero { fail(r.value, "run_time", "must be longer than 0") } else { cap = d }
        }
        hasTrace = true
        let trace = ArrivalTrace(entries: entries, timeScale: scale, blockTokens: blockTokens)
        return .open(OpenLoad.replay(trace, runTime: cap, maxInFlight: maxInFlight, maxQueue: maxQueue))
    }

    /// A task's `model:` when it is a weighted list: `[{name: a, weight: 3}, b]`.
    func weightedModels(_ n: Node, _ p: String) -> [WeightedModel] {
        guard let items = list(n, p) else { return [] }
        var out: [WeightedModel] = []
        for (i, item) in items.enumerated() {
            let ip = "\(p)[\(i)]"
            if let s = item.scalar?.string { out.append(WeightedModel(name: s, weight: 1)); continue }
            guard let m = mapping(item, ip, allowed: ["name", "weight"]) else { continue }
            guard let nn = m["name"], let name = string(nn.value, "\(ip).name") else { fail(item, "\(ip).name", "each model needs a 'name'"); continue }
            let w = m["weight"].flatMap { int($0.value, "\(ip).weight", min: 1, max: Self.maxWeight) } ?? 1
            out.append(WeightedModel(name: name, weight: w))
        }
        if items.isEmpty { fail(n, p, "give at least one model") }
        var seen = Set<String>()
        for (i, mdl) in out.enumerated() where !seen.insert(mdl.name).inserted { fail(nil, "\(p)[\(i)].name", "model '\(mdl.name)' is listed twice") }
        return out
    }

    /// A task's `conversations:`: an inline list of conversations (each a list of the user's
    /// turns), or a ShareGPT file (`FILE` or `{file: FILE}`) whose human turns are the user's.
    func conversations(_ n: Node, _ p: String) -> [Conversation] {
        var out: [Conversation] = []
        switch n {
        case .sequence(let seq):
            for (i, c) in seq.enumerated() {
                let cp = "\(p)[\(i)]"
                guard let turns = list(c, cp) else { continue }
                let texts = turns.enumerated().compactMap { j, t in string(t, "\(cp)[\(j)]") }
                if texts.isEmpty { fail(c, cp, "a conversation needs at least one user turn"); continue }
                out.append(Conversation(userTurns: texts))
            }
            if seq.isEmpty { fail(n, p, "give at least one conversation") }
            return out
        default:
            var rel: String?
            if case .mapping = n {
                guard let m = mapping(n, p, allowed: ["file", "format"]) else { return [] }
                if let f = m["format"], let fs = string(f.value, "\(p).format"), fs != "sharegpt" {
                    fail(f.value, "\(p).format", "expected 'sharegpt', found '\(fs)'")
                }
                rel = m["file"].flatMap { string($0.value, "\(p).file") }
                if rel == nil { fail(n, "\(p).file", "missing 'file' (a ShareGPT JSON file)") }
            } else { rel = string(n, p) }
            guard let rel else { return [] }
            let full = dataFile(rel, key: p)
            guard let data = FileManager.default.contents(atPath: full) else { fail(n, p, "cannot read conversations file '\(full)'"); return [] }
            guard case .array(let items)? = JSONValue.parse(Array(data)) else {
                fail(n, p, "'\(full)' is not a ShareGPT JSON array ([{\"conversations\": [{\"from\": \"human\", \"value\": ...}, ...]}, ...])"); return []
            }
            // Every human turn, in order; the recorded answers are not used (the server's real
            // answers are sent back instead).
            for item in items {
                guard case .object(let o) = item, case .array(let turns)? = o["conversations"] else { continue }
                var texts: [String] = []
                for turn in turns {
                    if case .object(let t) = turn, case .string(let from)? = t["from"], from == "human" || from == "user",
                       case .string(let v)? = t["value"], !v.isEmpty { texts.append(v) }
                }
                if !texts.isEmpty { out.append(Conversation(userTurns: texts)) }
            }
            if out.isEmpty { fail(n, p, "'\(full)' holds no conversation with a human turn") }
            return out
        }
    }

    /// `prompts.synthetic.prefix: {tokens: 512, count: 8}`.
    func sharedPrefix(_ n: Node, _ p: String, seed: UInt64) -> SharedPrefix? {
        guard let m = mapping(n, p, allowed: ["tokens", "count"]) else { return nil }
        guard let tk = m["tokens"], let tokens = int(tk.value, "\(p).tokens", min: 1) else { fail(n, "\(p).tokens", "missing 'tokens' (the prefix length in tokens)"); return nil }
        let count = m["count"].flatMap { int($0.value, "\(p).count", min: 1) } ?? 1
        // The prefixes are built once and held: 64 MB of text at most.
        guard tokens.multipliedReportingOverflow(by: count).partialValue <= 16_000_000, tokens <= 16_000_000, count <= 16_000_000 else {
            fail(n, p, "tokens x count must be at most 16000000 (the prefixes are held in memory)"); return nil
        }
        return SharedPrefix(tokens: tokens, count: count, seed: seed)
    }

    /// `before_run:` / `before_each_point:`: one request or a list, each `{method, path, json}`.
    func hooks(_ n: Node, _ p: String) -> [HookSpec] {
        let items: [Node]
        if case .sequence(let s) = n { items = Array(s) } else { items = [n] }
        var out: [HookSpec] = []
        for (i, item) in items.enumerated() {
            let ip = n.sequence == nil ? p : "\(p)[\(i)]"
            guard let m = mapping(item, ip, allowed: ["method", "path", "json"]) else { continue }
            guard let pn = m["path"], let path = string(pn.value, "\(ip).path") else { fail(item, "\(ip).path", "missing 'path' (e.g. /reset_prefix_cache)"); continue }
            if !path.hasPrefix("/"), !path.hasPrefix("http://"), !path.hasPrefix("https://") {
                fail(pn.value, "\(ip).path", "a path starts with '/' (or give a full http:// URL), found '\(path)'")
            }
            let method = (m["method"].flatMap { string($0.value, "\(ip).method") } ?? "POST").uppercased()
            if !Self.methods.contains(method) { fail(m["method"]?.value, "\(ip).method", "unknown HTTP method '\(method)'") }
            var body: String?
            if let j = m["json"] {
                var t = Template(segments: [])
                jsonTemplate(j.value, "\(ip).json", into: &t)
                if t.isConstant { body = t.render(context: .init(user: 0, seq: 0, prompts: []), rng: &dummy) } else {
                    fail(j.value, "\(ip).json", "a hook's body cannot use placeholders")
                }
            }
            out.append(HookSpec(method: method, path: path, body: body))
        }
        return out
    }

    /// The template part a sentinel string stands for, if it is one.
    static func sentinelPart(_ s: String) -> Template.Part? {
        if s == modelSentinel { return .model }
        if s == messagesSentinel { return .messages }
        if s.hasPrefix(maxTokensSentinel), let d = Int(s.dropFirst(maxTokensSentinel.count)) { return .maxTokens(d) }
        return nil
    }
}
