// Micro-benchmarks of the per-request hot paths of the embedded engine and the load generator.
//
//   swift package --package-path bench/micro benchmark
//
// Every benchmark uses an inner loop (`scalingFactor`), so the reported times are per operation
// (per request, per lookup, per record, per render), not per outer iteration. State is built
// before `startMeasurement()`, so only the operation under test is timed. CPU-time metrics are
// left out: on Linux they tick in 10 ms steps, useless at these scales.
import Benchmark
import CicadaCore
import CicadaDashboard
import CicadaEngine

/// Prompts like bench/../scenarios/prompts/sample-prompts.txt, one with characters that need
/// JSON escaping.
private let prompts = [
    "Summarise the causes of the 1929 stock market crash in three sentences.",
    "Write a Python function that returns the n-th Fibonacci number iteratively.",
    "Translate \"the cache is warm, the queue is empty\" into French.",
    "Explain the difference between a process and a thread to a new engineer.",
    "List five tips for writing clear commit messages.",
    "What is the capital of Australia, and why is it not Sydney?",
    "Rewrite this sentence in the passive voice:\n\tThe batcher dispatched the request.",
    "Give three test cases for a function that parses ISO 8601 durations.",
]

/// 32 modelled tokens, as bench/scenarios/engine-qps-*.yaml sends.
private func input(_ i: Int) -> String {
    "Summarise the causes of the 1929 stock market crash in three short sentences for a student. \(i)"
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    // MARK: DynamicBatcherStateMachine

    // One request's cost at queue depth ~1000 with the seed preset: its enqueue, plus 1/64 of the
    // instanceFree that dispatches it in a batch of 64. The instance is kept busy by a first batch
    // of 16, so enqueues only queue; every 64th request frees the instance, which takes the next
    // 64 (the largest preferred size), so the depth stays near 1000. Goal: <= 10 µs per request.
    Benchmark("Batcher seed: enqueue + dispatch, per request, depth 1000") { benchmark in
        var machine = DynamicBatcherStateMachine<Int>(config: .seed)
        var now: UInt64 = 1_000_000_000
        var id = 0
        for _ in 0..<1016 { blackHole(machine.enqueue(id, nowNanos: now)); id += 1 }
        precondition(machine.pendingCount == 1000 && machine.busyInstances == [0])
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            now &+= 3_000_000  // an arrival every 3 ms (~330 requests/s)
            blackHole(machine.enqueue(id, nowNanos: now))
            id += 1
            if i % 64 == 63 { blackHole(machine.instanceFree(0, nowNanos: now)) }
        }
        benchmark.stopMeasurement()
        blackHole(machine.pendingCount)
    }

    // The same with the no-batching preset: every request is its own dispatch.
    Benchmark("Batcher no-batching: enqueue + dispatch, per request, depth 1000") { benchmark in
        var machine = DynamicBatcherStateMachine<Int>(config: .noBatching)
        var now: UInt64 = 1_000_000_000
        var id = 0
        for _ in 0..<1001 { blackHole(machine.enqueue(id, nowNanos: now)); id += 1 }
        precondition(machine.pendingCount == 1000 && machine.busyInstances == [0])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            now &+= 3_000_000
            blackHole(machine.enqueue(id, nowNanos: now))
            id += 1
            blackHole(machine.instanceFree(0, nowNanos: now))
        }
        benchmark.stopMeasurement()
        blackHole(machine.pendingCount)
    }

    // MARK: ResultCache and CacheKey

    // The key of a /predict request: SHA-256 over the canonical encoding of a 128-byte input.
    Benchmark("CacheKey.request, 128-character input") { benchmark in
        let inputs = (0..<1024).map(input)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(CacheKey.request(endpoint: "/predict", model: "deepseek-llm-7b", input: inputs[i & 1023]))
        }
    }

    // A hit in a full cache of 10,000 entries (the scenario default max_entries).
    Benchmark("ResultCache.get, hit, 10k entries") { benchmark in
        let keys = (0..<10_000).map { CacheKey.request(endpoint: "/predict", model: "m", input: input($0)) }
        var cache = ResultCache<String>(maxEntries: 10_000, maxBytes: 1 << 30)
        for k in keys { cache.put(k, "{\"output\":\"ok\"}", bytes: 15, nowNanos: 1) }
        var j = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(cache.get(keys[j], nowNanos: 2))
            j += 7919
            if j >= 10_000 { j -= 10_000 }
        }
        benchmark.stopMeasurement()
        precondition(cache.misses == 0)
    }

    // A miss (key never stored) in the same cache.
    Benchmark("ResultCache.get, miss, 10k entries") { benchmark in
        let keys = (0..<10_000).map { CacheKey.request(endpoint: "/predict", model: "m", input: input($0)) }
        let absent = (0..<1024).map { CacheKey.request(endpoint: "/predict", model: "x", input: input($0)) }
        var cache = ResultCache<String>(maxEntries: 10_000, maxBytes: 1 << 30)
        for k in keys { cache.put(k, "{\"output\":\"ok\"}", bytes: 15, nowNanos: 1) }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(cache.get(absent[i & 1023], nowNanos: 2)) }
        benchmark.stopMeasurement()
        precondition(cache.hits == 0)
    }

    // A put of a new key into a full cache: every put evicts the least recently used entry.
    Benchmark("ResultCache.put, new key, full (evicts), 1k entries") { benchmark in
        let keys = (0..<4096).map { CacheKey.request(endpoint: "/predict", model: "m", input: input($0)) }
        var cache = ResultCache<String>(maxEntries: 1000, maxBytes: 1 << 30)
        for k in keys.prefix(1000) { cache.put(k, "{\"output\":\"ok\"}", bytes: 15, nowNanos: 1) }
        var j = 1000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            cache.put(keys[j], "{\"output\":\"ok\"}", bytes: 15, nowNanos: 2)
            j = (j + 1) & 4095
        }
        benchmark.stopMeasurement()
        blackHole(cache.evictions)
    }

    // MARK: LatencyHistogram (CicadaCore)

    // One latency sample, spread over 100 µs .. ~1 s as a load test records them.
    Benchmark("LatencyHistogram.record(micros:)") { benchmark in
        var rng = SeededRandom(seed: 7)
        let samples = (0..<4096).map { _ in UInt64(100 + rng.next() % 1_000_000) }
        var h = LatencyHistogram()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { h.record(micros: samples[i & 4095]) }
        benchmark.stopMeasurement()
        blackHole(h.count)
    }

    // Merging one worker's histogram (100k samples) into the aggregate: once per worker per
    // report interval. Per merge, so no inner loop.
    Benchmark("LatencyHistogram.merge, 100k samples", configuration: .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds, warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 10_000)
    ) { benchmark in
        var rng = SeededRandom(seed: 11)
        var part = LatencyHistogram()
        for _ in 0..<100_000 { part.record(micros: 100 + rng.next() % 1_000_000) }
        var total = LatencyHistogram()
        total.record(micros: 1000)
        benchmark.startMeasurement()
        total.merge(part)
        benchmark.stopMeasurement()
        blackHole(total.count)
    }

    // MARK: Template (CicadaCore)

    // The body of a /predict task, `json: {input: "{{prompt}} {{uuid}}"}`: a prompt chosen by the
    // request's generator, JSON-escaped, and a v4 UUID, rendered to a new String per request (as
    // LoadWorker does).
    Benchmark("Template.render, JSON body with {{prompt}} and {{uuid}}") { benchmark in
        let template = try! Template(parsing: #"{"input":"{{prompt}} {{uuid}}"}"#, escaping: .jsonString)
        let context = Template.Context(user: 1, seq: 1, prompts: prompts)
        var rng = SeededRandom(seed: 3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(template.render(context: context, rng: &rng)) }
    }

    // MARK: SSE parsing (CicadaCore), as the load worker's write callback does it

    // One OpenAI chat-completions chunk (`data: {...}\n\n`, 180 bytes) fed to the parser, the
    // event classified and timed as LoadWorker's write callback does for every streamed chunk.
    // Per event.
    Benchmark("SSEParser.feed + classify + StreamTiming.record, one 180-byte chat chunk") { benchmark in
        let chunk = Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]}"#.utf8) + [10, 10]
        var parser = SSEParser()
        var timing = StreamTiming(sentNanos: 0)
        var now: UInt64 = 1_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            now &+= 20_000_000
            chunk.withUnsafeBytes { bytes in
                parser.feed(bytes) { event in timing.record(OpenAIStreamChunk.classify(event.data), atNanos: now) }
            }
            if timing.interChunkNanos.count >= 1000 { timing = StreamTiming(sentNanos: now) }  // keep the gap list bounded
        }
        benchmark.stopMeasurement()
        blackHole(timing.outputTokens)
    }

    // MARK: Snapshot merge (CicadaCore)

    // What the aggregator does with one worker's 250 ms report at ~70k req/s: an IntervalStats
    // of two stat names, ~17,500 requests, a few errors, merged into the cumulative stats and
    // the current second's window (Aggregator.ingest). Per report, so no inner loop.
    Benchmark("Aggregator.ingest, one worker's 250 ms interval (17.5k requests, 2 names)", configuration: .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds, warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 10_000)
    ) { benchmark in
        var rng = SeededRandom(seed: 5)
        var delta = IntervalStats(statCount: 2)
        for i in 0..<17_500 {
            let start = UInt64(i) * 14_000
            let o = RequestOutcome(statIndex: i & 1, intendedNanos: start, sentNanos: start, endNanos: start + 200_000 + rng.next() % 5_000_000,
                                   ttfbMicros: 150, status: i % 1000 == 7 ? 503 : 200, failure: i % 1000 == 7 ? .http5xx : nil,
                                   error: i % 1000 == 7 ? "HTTP 503" : nil, bytesIn: 3, bytesOut: 0)
            delta.record(o, method: "GET", name: i & 1 == 0 ? "root" : "health")
            delta.scheduleLag.record(micros: rng.next() % 200)
        }
        let aggregator = Aggregator(names: ["root", "health"], methods: ["GET", "GET"], startNanos: 0)
        var t: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            t &+= 250_000_000
            aggregator.ingest(delta, worker: 0, gauges: WorkerGauges(users: 64, inFlight: 64), atNanos: t)
        }
        benchmark.stopMeasurement()
        blackHole(aggregator.snapshot(atNanos: t).total.requests)
    }

    // MARK: Dashboard frame (CicadaDashboard)

    // One dashboard frame at 200x60 from a 60 s snapshot of a two-task run: the model-to-cells
    // step the live dashboard repeats 10 times a second (terminal output not included). Per frame.
    Benchmark("DashboardRenderer.render, 200x60 frame", configuration: .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .microseconds, warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 10_000)
    ) { benchmark in
        var rng = SeededRandom(seed: 9)
        let aggregator = Aggregator(names: ["root", "health"], methods: ["GET", "POST"], startNanos: 0, windowSeconds: 10)
        for second in 0..<60 {
            var delta = IntervalStats(statCount: 2)
            for i in 0..<1000 {
                let start = UInt64(second) * 1_000_000_000 + UInt64(i) * 1_000_000
                let fail = i % 250 == 3
                let o = RequestOutcome(statIndex: i & 1, intendedNanos: start, sentNanos: start, endNanos: start + 1_000_000 + rng.next() % 50_000_000,
                                       ttfbMicros: 900, status: fail ? 503 : 200, failure: fail ? .http5xx : nil,
                                       error: fail ? "HTTP 503" : nil, bytesIn: 300, bytesOut: 40)
                delta.record(o, method: i & 1 == 0 ? "GET" : "POST", name: i & 1 == 0 ? "root" : "health")
            }
            aggregator.ingest(delta, worker: 0, gauges: WorkerGauges(users: 20, inFlight: 5), atNanos: UInt64(second + 1) * 1_000_000_000)
        }
        let model = DashboardModel(snapshot: aggregator.snapshot(atNanos: 60_000_000_000, targetUsers: 20),
                                   scenarioName: "bench", targetDescription: "http://127.0.0.1:8088", runTime: .seconds(120))
        let renderer = DashboardRenderer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(renderer.render(model, width: 200, height: 60)) }
        benchmark.stopMeasurement()
    }
}
