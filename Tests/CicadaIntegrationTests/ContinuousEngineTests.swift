import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaTelemetry
import Foundation
import Synchronization
import Testing

/// One streamed `/v1/completions` over its own socket, noting when each token chunk arrived.
final class RawStream: @unchecked Sendable {
    private let fd: Int32
    private var closed = false
    let sent = Date()

    init(port: Int, prompt: String, maxTokens: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let body = "{\"prompt\": \"\(prompt)\", \"max_tokens\": \(maxTokens), \"stream\": true}"
        let text = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { Glibc.close(fd); throw POSIXError(.EPIPE) }
    }

    /// Reads until `[DONE]` (or `stopAfter` token chunks): the arrival time of each token chunk.
    func tokenTimes(stopAfter: Int = .max) throws -> (times: [Date], done: Bool) {
        var text = ""
        var times: [Date] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        while !text.contains("data: [DONE]") && times.count < stopAfter {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { break }
            text += String(decoding: buf[0..<n], as: UTF8.self)
            let chunks = text.components(separatedBy: "\"finish_reason\":null").count - 1
            while times.count < chunks { times.append(Date()) }
        }
        return (times, text.contains("data: [DONE]"))
    }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }
    deinit { close() }
}

/// The engine running vLLM-style continuous batching on a modelled A10 (deepseek-llm-7b, fp16):
/// a decode step reads the 13 GB of weights at 420 GB/s, ~31 ms, long enough for every
/// request below to arrive while the others run. Behaviour and lower bounds only: real waits
/// are never shorter than the modelled times they wait out, so no assertion is a timing race.
@Suite(.serialized) struct ContinuousEngineTests {
    static let device = try! DeviceModel(gpu: "A10", model: "deepseek-llm-7b")

    static func config(maxInFlight: Int = 4096, maxQueueSize: Int = 0, maxNumSeqs: Int = 256, predictTokens: Int = 1) -> EngineConfig {
        var batching = BatcherConfig.seed
        batching.maxQueueSize = maxQueueSize
        var c = EngineConfig(gpu: "A10", model: "deepseek-llm-7b", batching: batching, cacheEntries: 0, predictOutputTokens: predictTokens, maxInFlight: maxInFlight)
        c.scheduler = .continuous
        c.continuous.maxNumSeqs = maxNumSeqs
        return c
    }

    static func port(_ e: EngineServer) -> Int { Int(e.baseURL.split(separator: ":").last ?? "") ?? 0 }

    /// The value of an unlabelled sample, or of the first series of a labelled family.
    static func value(_ metrics: String, _ name: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test func concurrentStreamsShareIterationsPacedByTheModelledDevice() throws {
        try withEngine(Self.config()) { e in
            let n = 16, tokens = 16
            let prompt = String(repeating: "abcd", count: 31)  // 124 characters: 31 tokens
            let streams = try (0..<n).map { _ in try RawStream(port: Self.port(e), prompt: prompt, maxTokens: tokens) }
            let results = Mutex<[(times: [Date], done: Bool)]>([])
            DispatchQueue.concurrentPerform(iterations: n) { i in
                let r = (try? streams[i].tokenTimes()) ?? ([], false)
                results.withLock { $0.append(r) }
            }
            let all = results.withLock { $0 }
            #expect(all.count == n && all.allSatisfy { $0.done && $0.times.count == tokens }, "\(all.map { ($0.times.count, $0.done) })")

            // Every answer took at least the modelled time of its own prefill and 15 decode
            // steps at batch 1 (the cheapest possible iterations). Iterations run back to back
            // on the device's clock, so a late wake-up of the loop (at most catchUp) may be
            // made up by the next iteration: the bounds allow one.
            let prefill = Self.device.prefillTime(tokens: 31).seconds
            let step = Self.device.decodeStepTime(batchSize: 1, contextTokens: 32).seconds
            let catchUp = 0.05
            let start = streams.map(\.sent).min()!
            let last = all.compactMap { $0.times.last }.max()!
            #expect(last.timeIntervalSince(start) >= prefill + Double(tokens - 1) * step - catchUp)

            let s = e.stats
            let c = try #require(s.continuous)
            // The engine's own histograms: 16 first tokens and 16 x 15 gaps, none shorter than modelled.
            #expect(c.timeToFirstToken.count == UInt64(n))
            #expect(c.interTokenLatency.count == UInt64(n * (tokens - 1)))
            // The first iteration starts on the first arrival (an idle engine starts at once): no
            // stream sees a token before one prefill's modelled time has passed.
            let firstToken = all.compactMap { $0.times.first }.min()!
            #expect(firstToken.timeIntervalSince(start) >= prefill)
            #expect(Double(c.interTokenLatency.sumNanos) / 1e9 >= Double(n) * (Double(tokens - 1) * step - catchUp))
            // Sharing: several sequences decoded together, in far fewer iterations than tokens.
            #expect(c.decodeBatchPeak > 1)
            #expect(c.iterations < UInt64(n * tokens / 2), "iterations \(c.iterations) for \(n * tokens) tokens")
            #expect(c.generationTokens == UInt64(n * tokens))
            #expect(eventually { e.stats.continuous?.running == 0 && e.stats.continuous?.blocksUsed == 0 })
            #expect(s.requestsByOutcome["success"] == UInt64(n))

            let m = try http("GET", e.baseURL + "/metrics").body
            #expect((Self.value(m, "cicada_engine_decode_batch_size_max") ?? 0) > 1)
            #expect(Self.value(m, "vllm:time_to_first_token_seconds_count") == Double(n))
            #expect(Self.value(m, "vllm:inter_token_latency_seconds_count") == Double(n * (tokens - 1)))
            #expect(Self.value(m, "vllm:num_preemptions_total") == 0)
            #expect(m.contains("# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage. (modelled)\n"))
        }
    }

    @Test func cicadasTelemetryReadsTheEngineAsARealVLLM() throws {
        try withEngine(Self.config()) { e in
            let streams = try (0..<6).map { try RawStream(port: Self.port(e), prompt: "tell me \($0)", maxTokens: 64) }
            #expect(eventually { (e.stats.continuous?.running ?? 0) >= 2 })
            let text = try http("GET", e.baseURL + "/metrics").body
            let exposition = try PrometheusText.parse(text)
            let reading = KnownFamilies.reading(from: exposition, timeNanos: 0)
            #expect(reading.modelled)
            let running = try #require(reading.server.requestsRunning)
            #expect(running >= 1 && running <= 6)
            #expect(reading.server.requestsWaiting != nil)
            let kv = try #require(reading.server.kvCacheUsage)
            #expect(kv > 0 && kv < 1)
            for name in ["vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds"] {
                let family = try #require(exposition.family(named: name))
                #expect(family.type == .histogram)
                #expect(family.help?.hasSuffix("(modelled)") == true)
            }
            // The vLLM families alone, as a real vLLM serves them, are detected as vLLM.
            let vllmOnly = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { $0.contains("vllm:") }.joined(separator: "\n") + "\n"
            let alone = KnownFamilies.reading(from: try PrometheusText.parse(vllmOnly), timeNanos: 0)
            #expect(alone.source == .vllm)
            #expect(alone.server.kvCacheUsage == kv && alone.server.requestsRunning == running)
            for s in streams { s.close() }
            #expect(eventually { e.stats.continuous?.running == 0 && e.stats.continuous?.blocksUsed == 0 })
        }
    }

    @Test func aStreamWhoseClientLeftIsAbortedAndFreesItsBlocks() throws {
        try withEngine(Self.config()) { e in
            // 400 tokens: ~12 s of modelled decoding, cut short after the first tokens.
            let s = try RawStream(port: Self.port(e), prompt: "a long answer", maxTokens: 400)
            let first = try s.tokenTimes(stopAfter: 2)
            #expect(first.times.count >= 2 && !first.done)
            #expect((e.stats.continuous?.blocksUsed ?? 0) > 0)
            s.close()
            #expect(eventually { e.stats.requestsByOutcome["cancelled"] == 1 })
            #expect(eventually { e.stats.continuous?.blocksUsed == 0 && e.stats.continuous?.running == 0 })
            let produced = e.stats.continuous?.generationTokens ?? 0
            #expect(produced < 400, "decoding stopped when the client left (\(produced) tokens)")
            #expect(try http("POST", e.baseURL + "/predict", body: #"{"input": "after"}"#).status == 200)
        }
    }

    @Test func pastMaxInFlightAndTheQueueBoundItAnswers503WithRetryAfter() throws {
        // 16 tokens per /predict: ~0.5 s each; every request of the burst arrives while they run.
        try withEngine(Self.config(maxInFlight: 2, predictTokens: 16)) { e in
            let replies = try EngineOverloadTests.burst(e, 8)
            let statuses = replies.map(\.status)
            let overloaded = replies.filter { $0.status == 503 && $0.headers["retry-after"] == "1" && $0.body.contains("engine overloaded") }.count
            #expect(statuses.filter { $0 == 200 }.count == 2, "statuses: \(statuses)")
            #expect(overloaded == 6, "statuses: \(statuses)")
            #expect(e.stats.inFlightPeak == 2)
        }
        // One sequence at a time and two may wait: one running, two waiting, five refused.
        try withEngine(Self.config(maxQueueSize: 2, maxNumSeqs: 1, predictTokens: 16)) { e in
            let replies = try EngineOverloadTests.burst(e, 8)
            #expect(replies.filter { $0.status == 200 }.count == 3, "statuses: \(replies.map(\.status))")
            #expect(replies.filter { $0.status == 503 && $0.body.contains("Exceeds maximum queue size") }.count == 5)
            #expect(e.stats.queuePeak == 2)
            #expect(eventually { e.stats.inFlight == 0 })
        }
    }

    /// Two predictions with the same long prompt, one after the other: the second finds the
    /// first's prompt blocks in the prefix cache (vLLM's counters say how many tokens); after
    /// `POST /reset_prefix_cache` a third finds none; with prefix caching off, no counters.
    @Test func aRepeatedPromptHitsThePrefixCache() throws {
        let prompt = String(repeating: "the same long system prompt for every request. ", count: 20) // 960 characters, 240 tokens
        let body = "{\"input\": \"\(prompt)\"}"
        // Block arithmetic in the approximation's 4-character tokens.
        var on = Self.config(predictTokens: 2)
        on.tokenizer = .approximate
        try withEngine(on) { e in
            #expect(try http("POST", e.baseURL + "/predict", body: body).status == 200)
            var m = try http("GET", e.baseURL + "/metrics").body
            // The prompt's tokens at the engine's 4 characters a token; nothing cached yet.
            let queried = try #require(Self.value(m, "vllm:prefix_cache_queries_total"))
            #expect(queried > 200 && Self.value(m, "vllm:prefix_cache_hits_total") == 0)
            #expect(try http("POST", e.baseURL + "/predict", body: body).status == 200)
            m = try http("GET", e.baseURL + "/metrics").body
            // Every full 16-token block of the prompt is found; only the partial last block is computed again.
            let hits = try #require(Self.value(m, "vllm:prefix_cache_hits_total"))
            #expect(hits.truncatingRemainder(dividingBy: 16) == 0 && hits > queried - 16 && hits < queried, "\(hits) of \(queried)")
            #expect(Self.value(m, "vllm:prefix_cache_queries_total") == 2 * queried)
            let rate = Format.number(hits * 100 / (2 * queried), digits: 1)
            #expect(e.stats.summaryLines().contains { $0.contains("prefix cache hit rate \(rate)%") }, "\(e.stats.summaryLines())")
            #expect(try http("POST", e.baseURL + "/reset_prefix_cache").status == 200)
            #expect(try http("POST", e.baseURL + "/predict", body: body).status == 200)
            m = try http("GET", e.baseURL + "/metrics").body
            #expect(Self.value(m, "vllm:prefix_cache_hits_total") == hits, "no hit after the reset")
        }
        var off = on
        off.continuous.prefixCaching = false
        try withEngine(off) { (e: EngineServer) throws -> Void in
            let a = try http("POST", e.baseURL + "/predict", body: body), b = try http("POST", e.baseURL + "/predict", body: body)
            #expect(a.status == 200 && b.status == 200)
            let metrics = try http("GET", e.baseURL + "/metrics").body
            #expect(Self.value(metrics, "vllm:prefix_cache_hits_total") == nil)
            let prompts = Self.value(metrics, "vllm:prompt_tokens_total") ?? 0
            #expect(prompts > 400 && prompts.truncatingRemainder(dividingBy: 2) == 0, "both prompts computed whole: \(prompts)")
        }
    }

    @Test func predictAnswersAtItsSequencesFinishWithItsBatch() throws {
        try withEngine(Self.config(predictTokens: 4)) { e in
            let r = try http("POST", e.baseURL + "/predict", body: #"{"input": "hello"}"#)
            #expect(r.status == 200)
            let body = json(r.body)
            #expect((body["output"] as? String)?.split(separator: " ").count == 4)
            #expect((body["batch_size"] as? Int ?? 0) >= 1)
            let compute = try #require(body["compute_ms"] as? Double)
            // Its first-token iteration's start to its finish: at least 3 modelled decode steps.
            #expect(compute >= 3 * Self.device.decodeStepTime(batchSize: 1, contextTokens: 3).seconds * 1000 - 0.001)
            #expect(e.stats.summaryLines().contains { $0.contains("scheduler: continuous (max_num_seqs 256") })
        }
    }

    @Test func aSmallKVCachePreemptsAndEveryStreamStillGetsAllItsTokens() throws {
        // The smallest gpu_memory_utilization that leaves 12 blocks (192 tokens) on the A10:
        // eight streams of 31 + 40 tokens (5 blocks each) cannot all stay resident.
        var config = Self.config()
        config.tokenizer = .approximate     // 31 tokens of "wxyz" at 4 characters a token
        var util = 0.5
        while Self.device.kvCacheBlocks(blockSize: 16, gpuMemoryUtilization: util, maxNumBatchedTokens: 8192, maxNumSeqs: 256) < 12 { util += 0.0005 }
        config.continuous.gpuMemoryUtilization = util
        try withEngine(config) { e in
            #expect(e.stats.continuous?.blocksTotal ?? 0 >= 12 && e.stats.continuous?.blocksTotal ?? 0 < 20)
            let prompt = String(repeating: "wxyz", count: 31)
            let streams = try (0..<8).map { _ in try RawStream(port: Self.port(e), prompt: prompt, maxTokens: 40) }
            let results = Mutex<[(times: [Date], done: Bool)]>([])
            DispatchQueue.concurrentPerform(iterations: streams.count) { i in
                let r = (try? streams[i].tokenTimes()) ?? ([], false)
                results.withLock { $0.append(r) }
            }
            let all = results.withLock { $0 }
            #expect(all.allSatisfy { $0.done && $0.times.count == 40 }, "\(all.map { ($0.times.count, $0.done) })")
            let c = try #require(e.stats.continuous)
            #expect(c.preemptions > 0, "a cache of \(c.blocksTotal) blocks for 8 x 5")
            #expect(c.generationTokens == 8 * 40, "no token lost or repeated across preemptions")
            #expect(c.timeToFirstToken.count == 8)
            let m = try http("GET", e.baseURL + "/metrics").body
            #expect(Self.value(m, "vllm:num_preemptions_total") == Double(c.preemptions))
            #expect(eventually { e.stats.continuous?.blocksUsed == 0 })
        }
    }
}
