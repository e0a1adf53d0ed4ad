import CicadaCore
import CicadaEngine
import Yams

/// The `engine:` block, read into CicadaEngine's `EngineConfig`.
extension Validator {
    static let engineKeys = ["gpu", "model", "precision", "batching", "presets", "cache", "predict_output_tokens", "max_in_flight"] + continuousKeys
    static let presetKeys = ["name", "max_batch_size", "preferred_batch_sizes", "max_queue_delay_us", "max_queue_size",
                             "default_timeout_us", "timeout_action", "allow_timeout_override", "priority_levels",
                             "default_priority_level", "preserve_ordering", "instance_count"]

    /// The `engine:` block (or an engine file's top level, with `p` empty) as the engine's
    /// configuration, every name checked against CicadaEngine's profiles and presets; the keys
    /// given change `base` (a split target's `engine:` overrides the top-level block).
    func engineConfig(_ n: Node, path p: String = "engine", base: EngineConfig = EngineConfig()) -> EngineConfig? {
        guard let m = mapping(n, p, allowed: Self.engineKeys) else { return nil }
        var config = base
        if let g = m["gpu"], let s = string(g.value, "\(p).gpu") {
            do { config.gpu = try GPUProfile.named(s).name } catch { fail(g.value, "\(p).gpu", error.description) }
        }
        if let g = m["model"], let s = string(g.value, "\(p).model") {
            do { config.model = try ModelProfile.named(s).name } catch { fail(g.value, "\(p).model", error.description) }
        }
        if let g = m["precision"], let s = string(g.value, "\(p).precision") {
            do { config.precision = try Precision.named(s) } catch { fail(g.value, "\(p).precision", error.description) }
        }
        if let ps = m["presets"], let items = list(ps.value, "\(p).presets") {
            for (i, item) in items.enumerated() {
                let ip = "\(p).presets[\(i)]"
                guard let pm = mapping(item, ip, allowed: Self.presetKeys) else { continue }
                guard let nameNode = pm["name"], let name = string(nameNode.value, "\(ip).name") else { fail(item, ip, "a preset needs a 'name'"); continue }
                var c = BatcherConfig.preset(named: name) ?? BatcherConfig()
                batcherFields(pm, ip, into: &c)
                for problem in c.validate() { fail(item, ip, problem) }
                config.setPreset(name, c)
            }
        }
        // The start preset is looked up after the file's presets, which may redefine it.
        var start = base.presetName ?? "seed"
        if let b = m["batching"], let s = string(b.value, "\(p).batching") {
            if config.preset(named: s) != nil { start = s } else {
                let names = config.presets.map(\.name)
                fail(b.value, "\(p).batching", "unknown batching preset '\(s)'", hint: Suggest.closest(s, in: names).map { "did you mean '\($0)'?" } ?? "presets: \(names.joined(separator: ", "))")
            }
        }
        config.selectPreset(start)
        var cacheEnabled = true
        if let c = m["cache"], let cm = mapping(c.value, "\(p).cache", allowed: ["enabled", "ttl", "max_entries", "l2", "embeddings"]) {
            if let v = cm["enabled"], let x = bool(v.value, "\(p).cache.enabled") { cacheEnabled = x }
            if let v = cm["ttl"], let x = duration(v.value, "\(p).cache.ttl") { config.cacheTTL = x }
            if let v = cm["max_entries"], let x = int(v.value, "\(p).cache.max_entries", min: 1) { config.cacheEntries = x }
            if let v = cm["l2"] { config.l2 = redisL2(v.value, "\(p).cache.l2") }
            if let v = cm["embeddings"], let x = int(v.value, "\(p).cache.embeddings", min: 0) { config.embeddingCacheEntries = x }
        }
        if !cacheEnabled { config.cacheEntries = 0 }
        if let v = m["predict_output_tokens"], let x = int(v.value, "\(p).predict_output_tokens", min: 1, max: Self.maxOutputTokens) { config.predictOutputTokens = x }
        if let v = m["max_in_flight"], let x = int(v.value, "\(p).max_in_flight", min: 1) { config.maxInFlight = x }
        schedulerFields(m, p, into: &config)
        return config
    }

    /// `cache.l2: {redis: redis://host:port/db, ttl: 1h, prefix: "ds_cache:", timeout: 50ms}`.
    func redisL2(_ n: Node, _ p: String) -> RedisL2Config? {
        guard let m = mapping(n, p, allowed: ["redis", "ttl", "prefix", "timeout"]) else { return nil }
        guard let u = m["redis"] else { fail(n, "\(p).redis", "missing 'redis': a URL such as redis://127.0.0.1:6379/0"); return nil }
        guard let url = string(u.value, "\(p).redis") else { return nil }
        let (parsed, problem) = RedisL2Config.parse(url: url)
        if parsed == nil { fail(u.value, "\(p).redis", problem ?? "not a redis:// URL") }
        var c = parsed ?? RedisL2Config()
        if let v = m["ttl"], let x = duration(v.value, "\(p).ttl") {
            if x < .seconds(1) { fail(v.value, "\(p).ttl", "must be at least 1s (Redis SETEX counts whole seconds)") } else { c.ttl = x }
        }
        if let v = m["prefix"], let x = string(v.value, "\(p).prefix") { c.prefix = x }
        if let v = m["timeout"], let x = duration(v.value, "\(p).timeout") {
            if x <= .zero { fail(v.value, "\(p).timeout", "must be more than 0") } else { c.timeout = x }
        }
        return parsed == nil ? nil : c
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
}
