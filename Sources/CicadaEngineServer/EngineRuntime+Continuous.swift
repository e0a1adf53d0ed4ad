import CicadaCore
import CicadaEngine
import NIOCore

/// The continuous scheduler's figures, copied out for `/metrics` (vLLM's names), the summary
/// and the dashboard. Device and latency figures are modelled: the engine waits out modelled
/// iteration times on a real clock.
public struct ContinuousStats: Sendable {
    /// vLLM's `time_to_first_token_seconds` bucket bounds, nanoseconds.
    public static let ttftBoundsNanos: [UInt64] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                                                   7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0].map { UInt64($0 * 1e9) }
    /// vLLM's `inter_token_latency_seconds` bucket bounds, nanoseconds.
    public static let itlBoundsNanos: [UInt64] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
                                                  7.5, 10.0, 20.0, 40.0, 80.0].map { UInt64($0 * 1e9) }

    /// The settings in force (limits may have changed live).
    public var settings = ContinuousSettings()
    /// Sequences admitted and not finished (`vllm:num_requests_running`).
    public var running = 0
    /// Requests waiting for admission (`vllm:num_requests_waiting`).
    public var waiting = 0
    /// KV blocks on the modelled device, and those held now.
    public var blocksTotal = 0
    public var blocksUsed = 0
    /// Sequences preempted for KV blocks so far (`vllm:num_preemptions_total`).
    public var preemptions: UInt64 = 0
    /// Iterations run so far.
    public var iterations: UInt64 = 0
    /// Prompt tokens computed (recomputation after preemption included) and tokens generated.
    public var promptTokens: UInt64 = 0
    public var generationTokens: UInt64 = 0
    /// The most sequences one iteration decoded so far.
    public var decodeBatchPeak = 0
    /// Prefix caching: prompt tokens looked up and those found computed
    /// (`vllm:prefix_cache_queries_total`, `vllm:prefix_cache_hits_total`), and blocks cached now.
    public var prefixQueryTokens: UInt64 = 0
    public var prefixHitTokens: UInt64 = 0
    public var prefixCachedBlocks = 0
    /// Hit tokens over looked-up tokens, nil before any lookup.
    public var prefixHitRate: Double? { prefixQueryTokens == 0 ? nil : Double(prefixHitTokens) / Double(prefixQueryTokens) }
    /// Time from the engine taking a request to its first token, and between a request's
    /// consecutive tokens (real time waiting out modelled iterations).
    public var timeToFirstToken = DurationBuckets(boundsNanos: ContinuousStats.ttftBoundsNanos)
    public var interTokenLatency = DurationBuckets(boundsNanos: ContinuousStats.itlBoundsNanos)

    /// KV blocks in use as a fraction, 0...1 (`vllm:kv_cache_usage_perc`); nil with no blocks.
    public var kvCacheUsage: Double? { blocksTotal == 0 ? nil : Double(blocksUsed) / Double(blocksTotal) }

    /// The summary's scheduler line.
    public var summaryLine: String {
        let s = settings
        let kv = "\(blocksTotal) KV blocks of \(s.blockSize) tokens (\(Format.number(s.gpuMemoryUtilization * 100, digits: 0))% of memory)"
        return "  scheduler: continuous (max_num_seqs \(s.maxNumSeqs), max_num_batched_tokens \(s.maxNumBatchedTokens), \(kv), chunked prefill \(s.chunkedPrefill ? "on" : "off"), prefix caching \(s.prefixCaching ? "on" : "off")), iterations \(iterations), preemptions \(preemptions)\(s.prefixCaching ? ", prefix cache hit rate " + (prefixHitRate.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-") : "")"
    }
}

/// One request in the continuous scheduler.
struct ContinuousEntry {
    var job: Job
    var enqueuedNanos: UInt64
    /// Start of the iteration that produced its first token.
    var firstIterationNanos: UInt64?
    /// Tokens handed to it so far.
    var delivered = 0
    var lastTokenNanos: UInt64?
}

/// The continuous scheduler and the requests it holds, confined to the engine's loop.
final class ContinuousState {
    var scheduler: ContinuousScheduler
    var entries: [UInt64: ContinuousEntry] = [:]
    /// Whether an iteration's modelled time is being waited out now.
    var iterating = false
    /// When the last iteration ends on the modelled device (its scheduled deadline).
    var deviceFreeNanos: UInt64 = 0
    var stats = ContinuousStats()
    /// Weights + workspace + the whole KV pool: allocated at start, as vLLM does.
    let memoryBytes: UInt64

    init(settings: ContinuousSettings, device: DeviceModel) {
        let config = settings.schedulerConfig(on: device)
        scheduler = ContinuousScheduler(config: config)
        stats.settings = settings
        stats.blocksTotal = config.totalBlocks
        memoryBytes = UInt64(device.model.totalParameters * device.precision.bytesPerValue
            + device.continuousWorkspaceBytes(maxNumBatchedTokens: settings.maxNumBatchedTokens, maxNumSeqs: settings.maxNumSeqs)
            + config.totalBlocks * config.blockSize * device.kvCacheBytesPerToken)
    }
}

/// The continuous path: vLLM-style iterations on the engine's event loop.
///
/// While any request is waiting or running, one iteration follows another: the pure
/// ``ContinuousScheduler`` decides what the iteration computes, the device model times it
/// (``DeviceModel/iterationTime(prefillTokens:decodeSequences:decodeContextTokens:)``), a
/// scheduled task waits that time out (no CPU burnt), and at its end every token it produced
/// is handed to its request: a stream writes it at once, a whole answer goes when its
/// sequence finishes. An idle engine starts an iteration as soon as a request arrives.
extension EngineRuntime {
    func startContinuous() {
        let state = ContinuousState(settings: config.continuous, device: device)
        continuous = state
        stats.memoryUsedBytes = state.memoryBytes
    }

    func publishContinuous() {
        guard let c = continuous else { return }
        c.stats.running = c.scheduler.runningCount
        c.stats.waiting = c.scheduler.waitingCount
        c.stats.blocksUsed = c.scheduler.usedBlocks
        c.stats.preemptions = UInt64(c.scheduler.preemptions)
        c.stats.prefixQueryTokens = UInt64(c.scheduler.prefixQueryTokens)
        c.stats.prefixHitTokens = UInt64(c.scheduler.prefixHitTokens)
        c.stats.prefixCachedBlocks = c.scheduler.cachedBlocks
        c.stats.settings.maxNumSeqs = c.scheduler.config.maxNumSeqs
        c.stats.settings.maxNumBatchedTokens = c.scheduler.config.maxNumBatchedTokens
        stats.continuous = c.stats
        stats.queueSize = c.scheduler.waitingCount
        stats.queuePeak = max(stats.queuePeak, stats.queueSize)
        stats.executing = c.iterating ? 1 : 0
    }

    /// Takes an admitted request (held and numbered by ``submit(_:)``).
    func submitContinuous(id: UInt64, job: Job, now: UInt64) {
        guard let c = continuous else { return }
        let s = c.scheduler.config
        func refuse(_ outcome: String, _ status: Int, _ message: String, retry: Int? = nil) {
            count(outcome)
            finish(id, job, .failure(status: status, message: message, retryAfterSeconds: retry))
        }
        if config.batching.maxQueueSize > 0, c.scheduler.waitingCount >= config.batching.maxQueueSize {
            return refuse("rejected_queue_full", 503, BatcherRejection.queueFull.message, retry: 1)
        }
        if !s.chunkedPrefill, job.inputTokens > s.maxNumBatchedTokens {
            return refuse("rejected_too_long", 400, "the prompt has \(job.inputTokens) tokens, more than max_num_batched_tokens (\(s.maxNumBatchedTokens)) without chunked prefill")
        }
        let hashes = c.scheduler.config.prefixCaching ? PrefixBlocks.hashes(job.input, blockSize: c.scheduler.config.blockSize) : []
        guard c.scheduler.add(id: id, promptTokens: job.inputTokens, maxOutputTokens: job.outputTokens, prefixHashes: hashes) else {
            let tokens = max(job.inputTokens, 1) + max(job.outputTokens, 1)
            return refuse("rejected_too_long", 400, "the prompt and max_tokens need \(tokens) tokens of KV cache; the modelled cache holds \(s.totalBlocks * s.blockSize)")
        }
        c.entries[id] = ContinuousEntry(job: job, enqueuedNanos: now)
        runIteration()
    }

    /// The client went away: its request is aborted whether waiting or running (as vLLM
    /// aborts a request whose connection closed), freeing its KV blocks at once.
    func cancelContinuous(_ ticket: JobTicket) {
        guard let c = continuous, let id = ticket.id, let entry = c.entries.removeValue(forKey: id) else { return }
        c.scheduler.abort(id: id)
        count("cancelled")
        finish(id, entry.job, .failure(status: 499, message: "client closed the connection", retryAfterSeconds: nil))
        publish()
    }

    /// Changes `max_num_seqs` and `max_num_batched_tokens` live.
    func reconfigureContinuous(maxNumSeqs: Int, maxNumBatchedTokens: Int) {
        loop.preconditionInEventLoop()
        guard let c = continuous else { return }
        c.scheduler.reconfigure(maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens)
        runIteration()
        publish()
    }

    /// How late an event-loop wake-up may be and still not count as device time.
    static let catchUpNanos: UInt64 = 50_000_000

    /// Starts the next iteration unless one is running or there is nothing to do.
    ///
    /// `backToBack`: called as the previous iteration ends. Then the new one starts on the
    /// modelled device's clock, at the previous one's scheduled end, not when the event loop got
    /// round to it: a busy host (other work on the loop, a loaded machine) would otherwise add
    /// its lateness to every iteration, which the dynamic path, whose token deadlines all count
    /// from the batch's start, does not suffer. A gap longer than ``catchUpNanos`` is taken as
    /// real idle time. An iteration started by an arrival at an idle engine starts now.
    func runIteration(backToBack: Bool = false) {
        guard let c = continuous, !c.iterating, c.scheduler.waitingCount + c.scheduler.runningCount > 0 else { return }
        let now = Self.now()
        let start = backToBack && now >= c.deviceFreeNanos && now - c.deviceFreeNanos <= Self.catchUpNanos ? c.deviceFreeNanos : now
        let it = c.scheduler.step()
        if it.isEmpty {
            // Nothing could be scheduled (only possible without chunked prefill, for a
            // recompute longer than the token budget): fail the head request rather than spin.
            if let id = c.scheduler.nextWaitingID, let entry = c.entries.removeValue(forKey: id) {
                c.scheduler.abort(id: id)
                count("rejected_too_long")
                finish(id, entry.job, .failure(status: 507, message: "the sequence no longer fits one iteration's max_num_batched_tokens", retryAfterSeconds: nil))
            }
            loop.execute { [weak self] in self?.runIteration(backToBack: true); self?.publish() }
            return
        }
        let sequences = it.decodeSequences + it.prefillSequences
        stats.executions += 1
        stats.inferences += UInt64(sequences)
        stats.batchSizes[sequences, default: 0] += 1
        c.stats.iterations += 1
        c.stats.promptTokens += UInt64(it.prefillTokens)
        c.stats.decodeBatchPeak = max(c.stats.decodeBatchPeak, it.decodeSequences)
        let time = device.iterationTime(prefillTokens: it.prefillTokens, decodeSequences: it.decodeSequences, decodeContextTokens: it.decodeContextTokens)
        c.iterating = true
        c.deviceFreeNanos = start + time.nanos
        loop.scheduleTask(deadline: .uptimeNanoseconds(start + time.nanos)) { [weak self] in
            self?.deliver(it, start: start, sequences: sequences)
        }
    }

    /// The end of an iteration: its tokens go to their requests, finished ones are answered.
    private func deliver(_ it: ContinuousScheduler.Iteration, start: UInt64, sequences: Int) {
        guard let c = continuous else { return }
        let now = Self.now()
        for id in it.tokens {
            guard var e = c.entries[id] else { continue }  // aborted while the iteration ran
            if e.delivered == 0 {
                c.stats.timeToFirstToken.record(nanos: now > e.enqueuedNanos ? now - e.enqueuedNanos : 0)
                e.firstIterationNanos = start
            } else if let last = e.lastTokenNanos {
                c.stats.interTokenLatency.record(nanos: now > last ? now - last : 0)
            }
            e.job.token?(e.delivered)
            e.delivered += 1
            e.lastTokenNanos = now
            c.stats.generationTokens += 1
            c.entries[id] = e
        }
        for id in it.finished {
            guard let e = c.entries.removeValue(forKey: id) else { continue }
            let job = e.job
            let output = text(for: job.input, tokens: job.outputTokens, batch: c.stats.iterations, batchSize: it.tokens.count)
            if let key = job.cacheKey { cache?.put(key, output, bytes: output.utf8.count + 64, nowNanos: now) }
            if let key = job.l2Key { l2?.put(key, output) }
            let begun = e.firstIterationNanos ?? start
            let queue = begun > e.enqueuedNanos ? begun - e.enqueuedNanos : 0
            let compute = now > begun ? now - begun : 0
            stats.queueNanosTotal += queue
            stats.computeNanosTotal += compute
            stats.inputTokensTotal += UInt64(max(job.inputTokens, 0))
            stats.outputTokensTotal += UInt64(max(job.outputTokens, 0))
            count("success")
            finish(id, job, .success(output: output, batchSize: sequences, cached: false, queueNanos: queue, computeNanos: compute,
                                     inputTokens: job.inputTokens, outputTokens: job.outputTokens))
        }
        c.iterating = false
        runIteration(backToBack: true)
        publish()
    }
}
