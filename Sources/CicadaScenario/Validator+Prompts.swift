import CicadaCore
import Foundation
import Yams

/// Prompts: a file (lines, JSONL, ShareGPT) or synthetic prompts of a chosen length.
extension Validator {
    /// Synthetic prompts of a chosen length distribution (in approximate tokens, ~4 characters
    /// each, the engine's and vLLM's random-dataset convention), deterministic under the seed.
    func syntheticPrompts(_ n: Node) -> [String] {
        let p = "prompts.synthetic"
        guard let m = mapping(n, p, allowed: ["count", "input_tokens", "seed", "prefix"]) else { return [] }
        let count = m["count"].flatMap { int($0.value, "\(p).count", min: 1, max: Self.maxPrompts) } ?? 1000
        var rng = SeededRandom(seed: UInt64(m["seed"].flatMap { int($0.value, "\(p).seed") } ?? 1), stream: 0x5EED)
        if let pf = m["prefix"] { sharedPrefix = self.sharedPrefix(pf.value, "\(p).prefix", seed: UInt64(m["seed"].flatMap { int($0.value, "\(p).seed") } ?? 1)) }
        var draw: (inout SeededRandom) -> Int = { _ in 128 }
        var most = 128  // the longest prompt the draw can give, in tokens
        if let it = m["input_tokens"] {
            if let fixed = it.value.scalar.flatMap({ Int($0.string) }) {
                guard fixed >= 1 else { fail(it.value, "\(p).input_tokens", "must be at least 1"); return [] }
                guard fixed <= Self.maxPromptTokens else { fail(it.value, "\(p).input_tokens", "must be at most \(Self.maxPromptTokens), found \(fixed)"); return [] }
                draw = { _ in fixed }
                most = fixed
            } else if let dm = mapping(it.value, "\(p).input_tokens", allowed: ["fixed", "uniform", "normal"]) {
                if let f = dm["fixed"], let v = int(f.value, "\(p).input_tokens.fixed", min: 1, max: Self.maxPromptTokens) { draw = { _ in v }; most = v }
                if let u = dm["uniform"], let xs = list(u.value, "\(p).input_tokens.uniform") {
                    let v = xs.compactMap { int($0, "\(p).input_tokens.uniform", min: 1, max: Self.maxPromptTokens) }
                    if v.count == 2, v[0] <= v[1] { draw = { r in v[0] + Int(r.next() % UInt64(v[1] - v[0] + 1)) }; most = v[1] } else {
                        fail(u.value, "\(p).input_tokens.uniform", "expected [min, max] with min <= max")
                    }
                }
                if let no = dm["normal"], let nm = mapping(no.value, "\(p).input_tokens.normal", allowed: ["mean", "stddev"]) {
                    let mean = nm["mean"].flatMap { double($0.value, "\(p).input_tokens.normal.mean", positive: true, max: Double(Self.maxPromptTokens)) } ?? 128
                    let sd = nm["stddev"].flatMap { double($0.value, "\(p).input_tokens.normal.stddev", max: Double(Self.maxPromptTokens)) } ?? 0
                    // Clamped before the conversion: a draw far out in the tail stays a length.
                    let cap = Double(Self.maxPromptTokens)
                    draw = { r in Int(min(cap, max(1, (mean + sd * r.normal()).rounded()))) }
                    most = Int(min(cap, mean + 4 * sd))
                }
            }
        }
        // The prompts are made here, in memory: count x length is bounded (about 400 MB of text).
        guard count * most <= Self.maxPromptTokensInAll else {
            fail(n, p, "count (\(count)\(m["count"] == nil ? ", the default" : "")) x input_tokens (up to \(most)) is more than \(Self.maxPromptTokensInAll) tokens of prompt text in all; give fewer or shorter prompts")
            return []
        }
        let words = ["the", "model", "serves", "tokens", "under", "load", "with", "batching", "and", "cache", "latency", "matters"]
        return (0..<count).map { _ in
            let tokens = draw(&rng)
            var s = ""
            while s.utf8.count < tokens * 4 { if !s.isEmpty { s += " " }; s += words[Int(rng.next() % UInt64(words.count))] }
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
        let full = dataFile(rel, key: "prompts")
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
