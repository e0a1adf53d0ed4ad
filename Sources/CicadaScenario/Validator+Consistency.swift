import CicadaCore
import Yams

/// `consistency:`: the opt-in probe that sends one fixed request again and compares answers.
extension Validator {
    static let consistencyKeys = ["every", "interval", "prompt", "temperature", "max_tokens", "kind", "model", "path"]

    /// The probe; `tasks` is the raw `tasks:` list, whose first LLM task gives the default
    /// kind and model.
    func consistencySpec(_ n: Node, tasks: Node?) -> ConsistencySpec? {
        let p = "consistency"
        guard let m = mapping(n, p, allowed: Self.consistencyKeys) else { return nil }
        var cadence: ConsistencySpec.Cadence?
        switch (m["every"], m["interval"]) {
        case (let e?, nil):
            if let k = int(e.value, "\(p).every", min: 1) { cadence = .everyRequests(k) }
        case (nil, let i?):
            if let d = duration(i.value, "\(p).interval") {
                if d <= .zero { fail(i.value, "\(p).interval", "must be longer than 0") } else { cadence = .interval(d) }
            }
        case (_?, let i?):
            fail(i.key, "\(p).interval", "give either 'every' (requests) or 'interval' (a duration), not both")
        case (nil, nil):
            fail(n, p, "needs 'every' (a probe after every N requests, e.g. every: 100) or 'interval' (e.g. interval: 10s)")
        }
        var prompt: String?
        if let v = m["prompt"] {
            prompt = string(v.value, "\(p).prompt")
            if prompt?.isEmpty == true { fail(v.value, "\(p).prompt", "must not be empty"); prompt = nil }
        } else {
            fail(n, "\(p).prompt", "missing required key 'prompt' (the fixed request's text)")
        }
        let temperature = m["temperature"].flatMap { double($0.value, "\(p).temperature") } ?? 0
        let maxTokens = m["max_tokens"].flatMap { int($0.value, "\(p).max_tokens", min: 1) } ?? 64
        // Kind and model: given, else the first task of a kind the probe can speak.
        let firstLLMTask: [String: (key: Node, value: Node)]? = {
            guard let tasks, case .sequence(let items) = tasks else { return nil }
            for item in items {
                guard case .mapping(let tm) = item else { continue }
                let fields = Dictionary(tm.compactMap { k, v in k.scalar.map { ($0.string, (key: k, value: v)) } }, uniquingKeysWith: { a, _ in a })
                if let k = fields["kind"]?.value.scalar?.string, let rk = RequestKind(rawValue: k), ConsistencySpec.kinds.contains(rk) { return fields }
            }
            return nil
        }()
        var kind: RequestKind?
        let kinds = ConsistencySpec.kinds.map(\.rawValue)
        if let k = m["kind"], let ks = string(k.value, "\(p).kind") {
            if let rk = RequestKind(rawValue: ks), ConsistencySpec.kinds.contains(rk) { kind = rk } else {
                fail(k.value, "\(p).kind", "the probe cannot speak '\(ks)'",
                     hint: Suggest.closest(ks, in: kinds).map { "did you mean '\($0)'?" } ?? "one of \(kinds.joined(separator: ", "))")
            }
        } else if let k = firstLLMTask?["kind"]?.value.scalar?.string {
            kind = RequestKind(rawValue: k)
        } else {
            fail(n, "\(p).kind", "no task is of a kind the probe can speak: give 'kind' (\(kinds.joined(separator: ", ")))")
        }
        var model = "default"
        if let v = m["model"] {
            if let s = string(v.value, "\(p).model") { model = s }
        } else if let tm = firstLLMTask?["model"]?.value {
            // A name, or a weighted list's first entry (`[a, b]` or `[{name: a, weight: 3}, ...]`,
            // names the tasks send as written); a templated `model:` is no one model, so the probe
            // sends "default".
            if let s = tm.scalar?.string, !s.contains("{{") { model = s }
            else if case .sequence(let list) = tm, let first = list.first {
                if let s = first.scalar?.string { model = s }
                else if case .mapping(let entry) = first,
                        let name = entry.first(where: { $0.key.scalar?.string == "name" })?.value.scalar?.string { model = name }
            }
        }
        var path: String?
        if let v = m["path"], let s = string(v.value, "\(p).path") {
            if s.hasPrefix("/") { path = s } else { fail(v.value, "\(p).path", "a path starts with '/', found '\(s)'") }
        }
        guard let cadence, let prompt, let kind else { return nil }
        return ConsistencySpec(cadence: cadence, kind: kind, path: path, model: model, prompt: prompt, temperature: temperature, maxTokens: maxTokens)
    }
}
