import CicadaCore
import CicadaEngine
import Foundation
import Yams

/// The `sweep:` block, read into CicadaEngine's `SweepSpec`.
extension Validator {
    static let sweepKeys = ["presets", "grid", "targets", "rates", "concurrency", "warmup", "measure", "stable", "slo"]

    /// The `sweep:` block: configurations (`presets`, a `grid` over a base preset, named
    /// `targets`) by load levels (`rates` or `concurrency`), with the point's time limit,
    /// stability rule and objectives.
    func sweepSpec(_ key: Node, _ n: Node, load: LoadProfile?) -> SweepSpec? {
        guard let sm = mapping(n, "sweep", allowed: Self.sweepKeys) else { return nil }
        let engineConfig = engine ?? EngineConfig()
        let presetNames = engineConfig.presets.map(\.name)
        var spec = SweepSpec(configurations: [], levels: [])
        func add(_ c: SweepSpec.Configuration, _ node: Node, _ path: String) {
            if spec.configurations.contains(where: { $0.name == c.name }) { fail(node, path, "duplicate configuration '\(c.name)'") } else { spec.configurations.append(c) }
        }
        // A continuous engine sweeps its own knobs (Validator+SweepContinuous), not batcher presets.
        let continuous = engineConfig.scheduler == .continuous
        if continuous { continuousSweep(sm, engine: engineConfig) { add($0, $1, $2) } }
        if let ps = sm["presets"], !continuous, let items = list(ps.value, "sweep.presets") {
            for (i, item) in items.enumerated() {
                guard let name = string(item, "sweep.presets[\(i)]") else { continue }
                if let c = engineConfig.presets.first(where: { $0.name == name })?.config { add(.init(name: name, kind: .engine(c)), item, "sweep.presets[\(i)]") } else {
                    fail(item, "sweep.presets[\(i)]", "unknown batching preset '\(name)'", hint: Suggest.closest(name, in: presetNames).map { "did you mean '\($0)'?" } ?? "presets: \(presetNames.joined(separator: ", "))")
                }
            }
        }
        if let g = sm["grid"], !continuous, let gm = mapping(g.value, "sweep.grid", allowed: ["base", "max_batch_size", "max_queue_delay_us", "instance_count"]) {
            var baseName = engineConfig.presetName ?? "seed"
            if let b = gm["base"], let bs = string(b.value, "sweep.grid.base") {
                if presetNames.contains(bs) { baseName = bs } else {
                    fail(b.value, "sweep.grid.base", "unknown batching preset '\(bs)'", hint: Suggest.closest(bs, in: presetNames).map { "did you mean '\($0)'?" } ?? "presets: \(presetNames.joined(separator: ", "))")
                }
            }
            let base = engineConfig.presets.first { $0.name == baseName }?.config ?? .seed
            func ints(_ k: String, min: Int, max: Int) -> [Int?] {
                guard let v = gm[k] else { return [nil] }
                guard let items = list(v.value, "sweep.grid.\(k)") else { return [nil] }
                let xs = items.enumerated().compactMap { int($1, "sweep.grid.\(k)[\($0)]", min: min, max: max) }
                if xs.isEmpty { fail(v.value, "sweep.grid.\(k)", "give at least one value") }
                return xs.isEmpty ? [nil] : xs
            }
            let sizes = ints("max_batch_size", min: 1, max: BatcherConfig.maxBatchSizeLimit), delays = ints("max_queue_delay_us", min: 0, max: .max)
            let instances = ints("instance_count", min: 1, max: BatcherConfig.maxInstanceCount)
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
        if !continuous && sm["presets"] == nil && sm["grid"] == nil && sm["targets"] == nil {
            fail(n, "sweep.presets", "missing 'presets' (batching presets to compare), 'grid' or 'targets'")
        }
        switch (sm["rates"], sm["concurrency"]) {
        case (let r?, nil):
            if let items = list(r.value, "sweep.rates") { spec.levels = items.enumerated().compactMap { double($1, "sweep.rates[\($0)]", positive: true, max: Self.maxRate) }.sorted() }
            if case .closed? = load { fail(key, "sweep", "a sweep over arrival rates needs an 'arrival:' block (open model)") }
        case (nil, let c?):
            spec.axis = .concurrency
            if let items = list(c.value, "sweep.concurrency") { spec.levels = items.enumerated().compactMap { int($1, "sweep.concurrency[\($0)]", min: 1, max: Self.maxUsers) }.map(Double.init).sorted() }
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
                if let v = stm["windows"], let x = int(v.value, "sweep.stable.windows", min: 2, max: Self.maxStableWindows) { rule.windows = x }
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
}
