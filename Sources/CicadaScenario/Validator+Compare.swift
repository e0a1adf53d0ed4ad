import CicadaCore
import CicadaEngine
import Foundation
import Yams

/// The `compare:` block, read into CicadaEngine's `CompareSpec`.
extension Validator {
    static let variantKeys = ["name", "preset", "target", "gpu", "model", "precision"] + presetKeys.filter { $0 != "name" } + continuousKeys

    /// The `compare:` block: `baseline` (optional) and `variants`, each an engine preset (with
    /// optional batching and device changes) or a target URL.
    func compareSpec(_ key: Node, _ n: Node) -> CompareSpec? {
        guard let m = mapping(n, "compare", allowed: ["variants", "baseline"]) else { return nil }
        guard let vs = m["variants"] else { fail(n, "compare.variants", "missing 'variants' (two or more configurations to run side by side)"); return nil }
        guard let items = list(vs.value, "compare.variants") else { return nil }
        let base = engine ?? EngineConfig()
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
            var config = base.batching
            var presetName = base.presetName ?? "seed"
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
                do { spec.precision = try Precision.named(s) } catch { fail(g.value, "\(ip).precision", error.description) }
            }
            let before = config
            batcherFields(vm, ip, into: &config)
            for problem in config.validate() { fail(item, ip, problem) }
            if config != before {
                // Changed batching: a preset of its own, named after the variant.
                presetName = name
                spec.setPreset(name, config)
            }
            spec.batching = config
            spec.presetName = presetName
            schedulerFields(vm, ip, into: &spec)
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
}
