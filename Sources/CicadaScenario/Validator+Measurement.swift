import CicadaCore
import Foundation
import Yams

/// `warmup:` and `cooldown:`: the parts of the run left out of every figure.
extension Validator {
    /// Reads `warmup:` (a duration, or `{requests: N}`) and `cooldown:` (a duration) and checks
    /// that they leave something of the run to measure.
    func measurementWindow(_ top: [String: (key: Node, value: Node)], load: LoadProfile?) -> MeasurementWindow {
        var window = MeasurementWindow()
        if let w = top["warmup"] {
            if case .mapping = w.value {
                if let m = mapping(w.value, "warmup", allowed: ["requests"]) {
                    if let r = m["requests"], let n = int(r.value, "warmup.requests", min: 1) { window.warmup = .requests(n) }
                    else if m["requests"] == nil { fail(w.value, "warmup", "expected {requests: N}") }
                }
            } else if let d = duration(w.value, "warmup") {
                if d > .zero { window.warmup = .duration(d) } else { fail(w.value, "warmup", "must be longer than 0") }
            }
        }
        if let c = top["cooldown"] {
            if case .mapping = c.value {
                fail(c.value, "cooldown", "expected a duration such as 30s: the last N requests of a run are not known until it ends",
                     hint: "give the cool-down as a time, e.g. 'cooldown: 30s'")
            } else if let d = duration(c.value, "cooldown") {
                if d > .zero { window.cooldown = d } else { fail(c.value, "cooldown", "must be longer than 0") }
            }
        }
        if let load, let why = window.problem(duration: load.duration) {
            fail((top["cooldown"] ?? top["warmup"])?.value, window.cooldown != nil ? "cooldown" : "warmup", why)
            return MeasurementWindow()
        }
        return window
    }
}

/// `tokenizer: tokenizer.json`: the model's tokenizer, for streams that report no usage.
extension Validator {
    func tokenizer(_ node: Node) -> BPETokenizer? {
        guard let path = string(node, "tokenizer") else { return nil }
        let full = dataFile(path, key: "tokenizer")
        guard let data = FileManager.default.contents(atPath: full) else {
            fail(node, "tokenizer", "cannot read \(full)", hint: "a Hugging Face tokenizer.json, e.g. from the model's repository")
            return nil
        }
        do { return try BPETokenizer(json: Array(data)) } catch {
            fail(node, "tokenizer", "\(full): \(error.description)")
            return nil
        }
    }
}
