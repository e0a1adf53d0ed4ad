import CicadaCore
import Yams

/// Tasks (requests, bodies, checks) and thresholds.
extension Validator {
    static let taskKeys = ["name", "weight", "method", "path", "headers", "json", "body", "checks", "kind", "model", "prompt", "max_tokens", "stream", "conversations"]
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
            fail(m[key]!.key, "\(p).\(key)", "'\(key)' needs a request kind (kind: openai-chat, openai-completions, anthropic-messages, kserve-v2 or predict)")
        }
        var models: [WeightedModel] = []
        if let mn = m["model"], case .sequence = mn.value {
            if !kind.isOpenAI { fail(mn.key, "\(p).model", "a weighted model list needs kind: openai-chat or openai-completions") }
            else if m["json"] != nil || m["body"] != nil { fail(mn.key, "\(p).model", "a weighted model list goes in the generated body; drop 'json'/'body'") }
            models = weightedModels(mn.value, "\(p).model")
        }
        var conversations: [Conversation] = []
        if let cn = m["conversations"] {
            if kind != .openAIChat { fail(cn.key, "\(p).conversations", "conversations need kind: openai-chat") }
            else if m["json"] != nil || m["body"] != nil { fail(cn.key, "\(p).conversations", "conversations go in the generated body; drop 'json'/'body'") }
            else if m["prompt"] != nil { fail(m["prompt"]!.key, "\(p).prompt", "'prompt' conflicts with 'conversations' (the turns are the prompts)") }
            conversations = self.conversations(cn.value, "\(p).conversations")
        }
        var synthesized: Node?
        if kind != .http, m["json"] == nil, m["body"] == nil {
            synthesized = requestBody(kind: kind, m, p, weighted: !models.isEmpty, chat: m["conversations"] != nil)
        }
        var defaultPath: String?
        switch kind {
        case .predict: defaultPath = "/predict"
        case .openAIChat: defaultPath = "/v1/chat/completions"
        case .openAICompletions: defaultPath = "/v1/completions"
        case .anthropicMessages: defaultPath = "/v1/messages"
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
        let weight = m["weight"].flatMap { int($0.value, "\(p).weight", min: 0, max: Self.maxWeight) } ?? 1
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
        if kind == .anthropicMessages, !headers.contains(where: { $0.name.lowercased() == "anthropic-version" }) {
            // Anthropic's API requires the header; servers that do not need it ignore it.
            headers.append(("anthropic-version", .literal(Self.anthropicVersion)))
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
        var spec = TaskSpec(name: name, weight: weight, method: method, path: path, headers: headers, body: body, checks: checks, kind: kind)
        spec.models = models
        spec.conversations = conversations
        return spec
    }

    /// The `anthropic-version` header an `anthropic-messages` task sends unless it names one.
    static let anthropicVersion = "2023-06-01"

    /// The JSON body a request kind sends when the task gives none: the seed's
    /// `{"input": prompt}`, an OpenAI request with `stream_options.include_usage` so the
    /// server reports exact token counts, or an Anthropic Messages request (whose `max_tokens`
    /// is required; its stream always reports usage).
    func requestBody(kind: RequestKind, _ m: [String: (key: Node, value: Node)], _ p: String, weighted: Bool = false, chat: Bool = false) -> Node {
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
        var pairs: [(Node, Node)] = [(Node("model"), weighted ? Node(Self.modelSentinel) : m["model"]?.value ?? Node("default"))]
        var stream = true
        if let st = m["stream"], let b = bool(st.value, "\(p).stream") { stream = b }
        var maxTokens = m["max_tokens"]?.value ?? plain("128", .int)
        // A replayed trace's output_length is each request's max_tokens (the task's is the default).
        if hasTrace, let d = Int(maxTokens.scalar?.string ?? "") { maxTokens = Node(Self.maxTokensSentinel + String(d)) }
        if kind == .anthropicMessages {
            pairs.append((Node("max_tokens"), maxTokens))
            pairs.append((Node("messages"), .sequence(.init([.mapping(.init([(Node("role"), Node("user")), (Node("content"), prompt)]))]))))
            pairs.append((Node("stream"), plain(stream ? "true" : "false", .bool)))
            return .mapping(.init(pairs))
        }
        if kind == .openAIChat, chat {
            pairs.append((Node("messages"), Node(Self.messagesSentinel)))
        } else if kind == .openAIChat {
            pairs.append((Node("messages"), .sequence(.init([.mapping(.init([(Node("role"), Node("user")), (Node("content"), prompt)]))]))))
        } else {
            pairs.append((Node("prompt"), prompt))
        }
        pairs.append((Node("max_tokens"), maxTokens))
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
            if let part = Self.sentinelPart(s.string) {
                t.append(part == .model ? Template(segments: [.init(.literal("\"")), .init(.model, .jsonString), .init(.literal("\""))]) : Template(segments: [.init(part)]))
                return
            }
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
}
