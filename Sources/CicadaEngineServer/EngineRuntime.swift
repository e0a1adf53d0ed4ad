import CicadaCore
import CicadaEngine
import NIOCore
import Synchronization

/// What the engine answers for one request.
enum JobOutcome: Sendable {
    case success(output: String, batchSize: Int, cached: Bool, queueNanos: UInt64, computeNanos: UInt64, inputTokens: Int, outputTokens: Int)
    case failure(status: Int, message: String, retryAfterSeconds: Int?)
}

/// One request queued in the engine.
struct Job: Sendable {
    var inputTokens: Int
    var outputTokens: Int
    var input: String
    var cacheKey: CacheKey?
    /// Called once, on the engine's event loop, with the outcome.
    var done: @Sendable (JobOutcome) -> Void
    /// Streaming only: called on the engine loop as each token is produced (index from 0).
    var token: (@Sendable (Int) -> Void)?
    /// Triton priority level (1 is highest); nil takes the default level.
    var priority: Int? = nil
    /// Queue timeout for this request in µs (may only shorten the configured default).
    var timeoutMicros: UInt64? = nil
    /// Lets the HTTP handler withdraw the request when its client goes away; nil: never withdrawn.
    var ticket: JobTicket? = nil
    /// When the engine admitted it (set by ``EngineRuntime/submit(_:)``), for the duration histogram.
    var receivedNanos: UInt64? = nil
    /// Its key in the level-2 cache (Redis), when the engine has one and the answer may be cached.
    var l2Key: String? = nil
}

/// The engine's handle on one admitted request, so the connection that sent it can withdraw it
/// (``EngineRuntime/cancel(_:)``) when the client closes before the answer. Touched only on the
/// engine's event loop: the handler only holds the reference and hands it back.
final class JobTicket: @unchecked Sendable {
    /// The request's id in the engine once admitted; nil before, or when it was never admitted.
    var id: UInt64?
    /// The client went away before admission (while the level-2 cache was being asked).
    var withdrawn = false
    init() {}
}

/// Counters and gauges of the engine, copied out for `/metrics`, the dashboard and reports.
public struct EngineStats: Sendable {
    public var requestsByOutcome: [String: UInt64] = [:]
    public var queueSize = 0
    public var executing = 0
    public var executions: UInt64 = 0
    public var inferences: UInt64 = 0
    /// Dispatched batch sizes: size -> count.
    public var batchSizes: [Int: UInt64] = [:]
    public var queueNanosTotal: UInt64 = 0
    public var computeNanosTotal: UInt64 = 0
    public var cacheHits: UInt64 = 0
    public var cacheMisses: UInt64 = 0
    public var cacheEvictions: UInt64 = 0
    public var outOfMemory: UInt64 = 0
    /// Tokens of every request executed (or refused for memory), for the typical request size.
    public var inputTokensTotal: UInt64 = 0
    public var outputTokensTotal: UInt64 = 0
    /// Requests held now (admitted, not yet answered: queued, executing or held for ordering).
    public var inFlight = 0
    /// The level-2 cache (Redis), when configured: where it is and what it did.
    public var l2: L2Stats?
    /// The embedding cache (`cache.embeddings`): inputs whose prefill a batch skipped, and those it computed; nil when off.
    public var embeddingHits: UInt64?
    public var embeddingMisses: UInt64?
    /// The most requests held at once so far (never above `maxInFlight`).
    public var inFlightPeak = 0
    /// The bound on held requests (`max_in_flight`).
    public var maxInFlight = 0
    /// The longest the batcher's queue has been so far (never above a non-zero `maxQueueSize`).
    public var queuePeak = 0
    /// Time from the engine taking each request to its answer leaving, by "success" / "failure"
    /// (cache hits and refusals included, at their near-zero cost). Real time: for admitted
    /// requests it is queueing on the real event loop plus the modelled compute time waited out.
    public var durations: [String: DurationBuckets] = [:]
    /// Modelled device memory in use now (weights + KV cache and workspace of running batches).
    public var memoryUsedBytes: UInt64 = 0
    /// The most modelled device memory in use at any moment so far.
    public var memoryPeakBytes: UInt64 = 0
    public var memoryTotalBytes: UInt64 = 0
    /// "modelled: <gpu> / <model> / <precision>".
    public var deviceLabel = ""
    public var batching: BatcherConfig = .seed
    public var presetName: String?
    /// The continuous scheduler's figures; nil when the engine runs the dynamic batcher.
    public var continuous: ContinuousStats?
    /// Average batch size (inferences / executions); nil before the first execution.
    public var averageBatchSize: Double? { executions == 0 ? nil : Double(inferences) / Double(executions) }

    /// Lines for the end-of-run summary; every device figure says it is modelled.
    public func summaryLines() -> [String] {
        let b = batching
        let gib = { (v: UInt64) in Format.number(Double(v) / Double(1 << 30), digits: 2) + " GiB" }
        let lookups = cacheHits + cacheMisses
        let answered = requestsByOutcome.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return [
            "ENGINE (\(deviceLabel))",
            continuous?.summaryLine ?? "  batching: \(presetName ?? "custom") (max \(b.maxBatchSize), preferred \(b.effectivePreferredBatchSizes.map(String.init).joined(separator: ",")), delay \(Format.number(Double(b.maxQueueDelayMicros) / 1000, digits: 1))ms, instances \(b.instanceCount))",
            "  executions \(executions), average batch \(averageBatchSize.map { Format.number($0, digits: 2) } ?? "-"), answered: \(answered.isEmpty ? "-" : answered)",
            "  cache\(l2 == nil ? "" : " L1"): hits \(cacheHits), misses \(cacheMisses), hit rate \(lookups == 0 ? "-" : Format.number(Double(cacheHits) * 100 / Double(lookups), digits: 1) + "%")",
        ] + (l2.map { c in
            let n = c.hits + c.misses
            return ["  cache L2 (redis \(c.endpoint)): hits \(c.hits), misses \(c.misses), hit rate \(n == 0 ? "-" : Format.number(Double(c.hits) * 100 / Double(n), digits: 1) + "%"), errors \(c.errors), writes \(c.writes)"]
        } ?? []) + (embeddingHits.map { h in
            let m = embeddingMisses ?? 0
            return ["  embedding cache: prefill skipped for \(h) of \(h + m) inputs (\(h + m == 0 ? "-" : Format.number(Double(h) * 100 / Double(h + m), digits: 1) + "%"), modelled)"]
        } ?? []) + [
            "  device memory (modelled): peak \(gib(memoryPeakBytes)) of \(gib(memoryTotalBytes)); out-of-memory failures \(outOfMemory)",
        ]
    }
}

/// What the engine's level-2 cache (Redis) did.
public struct L2Stats: Sendable, Equatable {
    /// `host:port/db` of the Redis.
    public var endpoint: String
    public var hits: UInt64 = 0
    public var misses: UInt64 = 0
    /// Lookups and writes that failed (no connection, timeout, error reply); each lookup among them counts as a miss too.
    public var errors: UInt64 = 0
    public var writes: UInt64 = 0
    public var connected = false
    public init(endpoint: String) { self.endpoint = endpoint }
}

/// The engine's state: batcher, cache and device, confined to one event loop.
///
/// All mutation happens on `loop`; the batcher is a pure state machine and this class only
/// carries out its actions: it starts modelled batch executions (waiting out the modelled
/// time with a scheduled task, as a host thread waits on a GPU, burning no CPU), fires the
/// batcher's timer, and answers requests.
final class EngineRuntime: @unchecked Sendable {
    let loop: EventLoop
    private(set) var config: EngineConfig
    private var batcher: DynamicBatcherStateMachine<UInt64>
    var cache: ResultCache<String>?
    /// The level-2 cache on Redis, when configured.
    var l2: RedisL2?
    /// The seed's embedding cache: inputs whose modelled prefill has been computed, by input hash.
    private var embeddings: ResultCache<Bool>?
    let device: DeviceModel
    private var jobs: [UInt64: (job: Job, enqueuedNanos: UInt64)] = [:]
    private var nextID: UInt64 = 0
    private var timer: Scheduled<Void>?
    private var executingBytes: [Int: UInt64] = [:]
    /// `preserve_ordering`: answers held back until every earlier request has its answer.
    private var release = OrderedRelease<(job: Job, outcome: JobOutcome)>()
    var stats = EngineStats()
    /// Admitted requests not yet answered, bounded by `config.maxInFlight`.
    var held: InFlightLimit
    /// A copy of `stats` readable from any thread.
    let published = Mutex(EngineStats())
    /// The continuous scheduler's state when `config.scheduler` is `.continuous` (then the
    /// batcher above stays idle); see EngineRuntime+Continuous.swift.
    var continuous: ContinuousState?

    init(config: EngineConfig, device: DeviceModel, loop: EventLoop) {
        self.config = config
        self.loop = loop
        self.device = device
        self.batcher = DynamicBatcherStateMachine(config: config.batching)
        self.held = InFlightLimit(limit: config.maxInFlight)
        if config.cacheEntries > 0 {
            cache = ResultCache(maxEntries: config.cacheEntries, maxBytes: config.cacheBytes, ttl: config.cacheTTL)
        }
        if config.embeddingCacheEntries > 0 {
            embeddings = ResultCache(maxEntries: config.embeddingCacheEntries, maxBytes: Int.max / 2, ttl: config.cacheTTL)
            stats.embeddingHits = 0
            stats.embeddingMisses = 0
        }
        if let c = config.l2 {
            l2 = RedisL2(config: c, loop: loop)
            l2?.changed = { [weak self] in self?.publish() }
            stats.l2 = L2Stats(endpoint: "\(c.host):\(c.port)/\(c.database)")
        }
        stats.deviceLabel = device.label
        stats.memoryTotalBytes = UInt64(device.gpu.memoryBytes)
        stats.memoryUsedBytes = UInt64(device.memory(for: []).total)
        stats.batching = config.batching
        stats.presetName = config.presets.first { $0.config == config.batching }?.name
        if config.scheduler == .continuous { startContinuous() }
        publish()
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    func publish() {
        stats.memoryPeakBytes = max(stats.memoryPeakBytes, stats.memoryUsedBytes)
        stats.queueSize = batcher.pendingCount
        stats.queuePeak = max(stats.queuePeak, stats.queueSize)
        stats.inFlight = held.current
        stats.inFlightPeak = held.peak
        stats.maxInFlight = held.limit
        stats.executing = executingBytes.count
        if let c = cache { stats.cacheHits = UInt64(c.hits); stats.cacheMisses = UInt64(c.misses); stats.cacheEvictions = UInt64(c.evictions) }
        if let l2 {
            let c = l2.counters
            stats.l2?.hits = c.hits; stats.l2?.misses = c.misses; stats.l2?.errors = c.errors; stats.l2?.writes = c.writes
            stats.l2?.connected = c.connected
        }
        if continuous != nil { publishContinuous() }
        let s = stats
        published.withLock { $0 = s }
    }

    func count(_ outcome: String) { stats.requestsByOutcome[outcome, default: 0] += 1 }

    /// Takes a request. Must be called on `loop`.
    func submit(_ job: Job) {
        loop.preconditionInEventLoop()
        let now = Self.now()
        if let key = job.cacheKey, job.token == nil, let hit = cache?.get(key, nowNanos: now) {
            count("success")
            record(success: true, since: now)
            job.done(.success(output: hit, batchSize: 0, cached: true, queueNanos: 0, computeNanos: 0, inputTokens: job.inputTokens, outputTokens: job.outputTokens))
            publish()
            return
        }
        if let l2, let key = job.l2Key, job.token == nil {
            // A level-1 miss asks Redis first; its answer (or its silence, at the timeout) decides.
            l2.get(key) { [weak self] value in
                guard let self else { return }
                if job.ticket?.withdrawn == true {
                    self.count("cancelled")
                    job.done(.failure(status: 499, message: "client closed the connection", retryAfterSeconds: nil))
                } else if let value {
                    if let k = job.cacheKey { self.cache?.put(k, value, bytes: value.utf8.count + 64, nowNanos: Self.now()) }
                    self.count("success")
                    self.record(success: true, since: now)
                    job.done(.success(output: value, batchSize: 0, cached: true, queueNanos: 0, computeNanos: 0, inputTokens: job.inputTokens, outputTokens: job.outputTokens))
                } else {
                    return self.admit(job, now: Self.now())
                }
                self.publish()
            }
            publish()
            return
        }
        admit(job, now: now)
    }

    /// Queues a request the caches could not answer, within the in-flight limit.
    private func admit(_ job: Job, now: UInt64) {
        guard held.admit() else {
            count("overload")
            record(success: false, since: now)
            job.done(.failure(status: 503, message: "engine overloaded: \(held.current) requests in flight", retryAfterSeconds: 1))
            publish()
            return
        }
        let id = nextID
        nextID += 1
        var job = job
        job.receivedNanos = now
        job.ticket?.id = id
        if continuous != nil {
            submitContinuous(id: id, job: job, now: now)
            publish()
            return
        }
        jobs[id] = (job, now)
        apply(batcher.enqueue(id, priority: job.priority, timeoutMicros: job.timeoutMicros, nowNanos: now))
        publish()
    }

    /// The client of `ticket`'s request went away: a request still waiting in the queue is
    /// withdrawn (never computed) and answered 499 to nobody, which frees its place at once.
    /// One already executing finishes as the modelled GPU would; its answer goes nowhere.
    func cancel(_ ticket: JobTicket) {
        loop.preconditionInEventLoop()
        if ticket.id == nil { ticket.withdrawn = true; return }
        if continuous != nil { return cancelContinuous(ticket) }
        guard let id = ticket.id, let entry = jobs[id], batcher.isPending(id) else { return }
        jobs[id] = nil
        count("cancelled")
        apply(batcher.cancel(id))
        finish(id, entry.job, .failure(status: 499, message: "client closed the connection", retryAfterSeconds: nil))
        publish()
    }

    /// Adds one answer's time to the duration histogram.
    func record(success: Bool, since start: UInt64) {
        let now = Self.now()
        stats.durations[success ? "success" : "failure", default: DurationBuckets()].record(nanos: now > start ? now - start : 0)
    }

    /// Empties the result cache and, on a continuous engine, the prefix cache's unused blocks
    /// (`POST /reset_prefix_cache`); the hit and miss counts stay.
    func resetCache() {
        loop.preconditionInEventLoop()
        cache?.removeAll()
        continuous?.scheduler.resetPrefixCache()
        publish()
    }

    /// Changes the batching configuration live.
    func reconfigure(_ batching: BatcherConfig) {
        loop.preconditionInEventLoop()
        config.batching = batching
        stats.batching = batching
        stats.presetName = config.presets.first { $0.config == batching }?.name
        apply(batcher.reconfigure(batching, nowNanos: Self.now()))
        publish()
    }

    private func apply(_ actions: [DynamicBatcherStateMachine<UInt64>.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let instance, let batch):
                execute(instance: instance, batch: batch)
            case .reject(let id, let why):
                guard let entry = jobs.removeValue(forKey: id) else { continue }
                let queueFull = why == .queueFull
                count(queueFull ? "rejected_queue_full" : "rejected_timeout")
                finish(id, entry.job, .failure(status: queueFull ? 503 : 504, message: why.message, retryAfterSeconds: queueFull ? 1 : nil))
            case .setTimer(let at):
                timer?.cancel()
                timer = loop.scheduleTask(deadline: .uptimeNanoseconds(at)) { [weak self] in
                    guard let self else { return }
                    self.timer = nil
                    self.apply(self.batcher.timerFired(nowNanos: Self.now()))
                    self.publish()
                }
            case .cancelTimer:
                timer?.cancel()
                timer = nil
            }
        }
    }

    /// Answers request `id`, in arrival order when `preserve_ordering` is on (Triton's
    /// semantics: a later request's response waits for every earlier one's).
    func finish(_ id: UInt64, _ job: Job, _ outcome: JobOutcome) {
        // The continuous scheduler answers each request as its sequence finishes (no ordering).
        for answer in release.finish(id, (job, outcome), hold: continuous == nil && config.batching.preserveOrdering) {
            held.release()
            if let start = answer.job.receivedNanos {
                if case .success = answer.outcome { record(success: true, since: start) } else { record(success: false, since: start) }
            }
            answer.job.done(answer.outcome)
        }
    }

    private func execute(instance: Int, batch: [UInt64]) {
        let start = Self.now()
        let entries = batch.compactMap { id in jobs.removeValue(forKey: id).map { (id: id, job: $0.job, enqueuedNanos: $0.enqueuedNanos) } }
        let shapes = entries.map { (inputTokens: $0.job.inputTokens, outputTokens: $0.job.outputTokens) }
        stats.executions += 1
        let batchNumber = stats.executions
        stats.inferences += UInt64(entries.count)
        for s in shapes { stats.inputTokensTotal += UInt64(max(s.inputTokens, 0)); stats.outputTokensTotal += UInt64(max(s.outputTokens, 0)) }
        stats.batchSizes[entries.count, default: 0] += 1
        switch device.check(requests: shapes) {
        case .failure(let oom):
            stats.outOfMemory += UInt64(entries.count)
            for e in entries {
                count("out_of_memory")
                finish(e.id, e.job, .failure(status: 507, message: oom.message, retryAfterSeconds: nil))
            }
            apply(batcher.instanceFree(instance, nowNanos: Self.now()))
        case .success(var duration):
            // The embedding cache: inputs this engine has prefilled before skip their prefill.
            if embeddings != nil {
                var hitTokens = 0
                let now = Self.now()
                for e in entries {
                    let key = CacheKey.request(endpoint: "embedding", model: config.model, input: e.job.input)
                    if embeddings?.get(key, nowNanos: now) != nil {
                        hitTokens += max(e.job.inputTokens, 0)
                        stats.embeddingHits? += 1
                    } else {
                        embeddings?.put(key, true, bytes: 64, nowNanos: now)
                        stats.embeddingMisses? += 1
                    }
                }
                if hitTokens > 0 {
                    let all = shapes.map { max($0.inputTokens, 0) }.reduce(0, +)
                    let saved = device.prefillTime(tokens: all).nanos - device.prefillTime(tokens: all - hitTokens).nanos
                    duration = .nanos(duration.nanos - min(saved, duration.nanos))
                }
            }
            let mem = device.memory(for: shapes)
            executingBytes[instance] = UInt64(mem.total - device.memory(for: []).total)
            stats.memoryUsedBytes = UInt64(device.memory(for: []).total) + executingBytes.values.reduce(0, +)
            stats.memoryPeakBytes = max(stats.memoryPeakBytes, stats.memoryUsedBytes)
            let computeNanos = duration.nanos
            // Streaming requests get their tokens on the device's pace: the first after the
            // batch's prefill and one decode step, then one per decode step.
            let longest = shapes.map(\.outputTokens).max() ?? 0
            if longest > 0, entries.contains(where: { $0.job.token != nil }) {
                let prefill = device.prefillTime(tokens: shapes.map(\.inputTokens).reduce(0, +)).nanos
                let step = longest > 0 ? (computeNanos - min(prefill, computeNanos)) / UInt64(longest) : 0
                for e in entries {
                    guard let token = e.job.token else { continue }
                    for k in 0..<e.job.outputTokens {
                        loop.scheduleTask(deadline: .uptimeNanoseconds(start + prefill + step * UInt64(k + 1))) { token(k) }
                    }
                }
            }
            loop.scheduleTask(deadline: .uptimeNanoseconds(start + computeNanos)) { [weak self] in
                guard let self else { return }
                for e in entries {
                    let output = self.text(for: e.job.input, tokens: e.job.outputTokens,
                                           batch: batchNumber, batchSize: entries.count)
                    if let key = e.job.cacheKey { self.cache?.put(key, output, bytes: output.utf8.count + 64, nowNanos: Self.now()) }
                    if let key = e.job.l2Key { self.l2?.put(key, output) }
                    self.stats.queueNanosTotal += start - e.enqueuedNanos
                    self.stats.computeNanosTotal += computeNanos
                    self.count("success")
                    self.finish(e.id, e.job, .success(output: output, batchSize: entries.count, cached: false, queueNanos: start - e.enqueuedNanos,
                                                      computeNanos: computeNanos, inputTokens: e.job.inputTokens, outputTokens: e.job.outputTokens))
                }
                self.executingBytes[instance] = nil
                self.stats.memoryUsedBytes = UInt64(self.device.memory(for: []).total) + self.executingBytes.values.reduce(0, +)
                self.apply(self.batcher.instanceFree(instance, nowNanos: Self.now()))
                self.publish()
            }
        }
    }

    /// The answer to `input`, `tokens` tokens long in the engine's tokenizer (one vocabulary
    /// word per token, so the text counts back to `tokens`); deterministic, so identical requests
    /// get identical answers.
    func text(for input: String, tokens: Int) -> String {
        Self.text(for: input, tokens: tokens, tokenizer: config.tokenizer)
    }
}
