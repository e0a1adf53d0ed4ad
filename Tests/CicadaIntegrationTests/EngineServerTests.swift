import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaScenario
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

struct HTTPReply { var status: Int; var body: String; var headers: [String: String] }

/// A blocking HTTP call on 127.0.0.1 for tests.
func http(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = [:], timeout: Double = 30) throws -> HTTPReply {
    var req = URLRequest(url: URL(string: url)!)
    req.httpMethod = method
    req.timeoutInterval = timeout
    if let body { req.httpBody = Data(body.utf8); req.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    let done = DispatchSemaphore(value: 0)
    let box = Locked<HTTPReply?>(nil)
    let task = URLSession.shared.dataTask(with: req) { data, response, _ in
        if let r = response as? HTTPURLResponse {
            var h: [String: String] = [:]
            for (k, v) in r.allHeaderFields { h[String(describing: k).lowercased()] = String(describing: v) }
            box.set(HTTPReply(status: r.statusCode, body: String(decoding: data ?? Data(), as: UTF8.self), headers: h))
        }
        done.signal()
    }
    task.resume()
    done.wait()
    guard let reply = box.get() else { throw CancellationError() }
    return reply
}

func json(_ s: String) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] ?? [:] }

func withEngine<T>(_ config: EngineConfig = EngineConfig(), _ body: (EngineServer) throws -> T) throws -> T {
    let server = try EngineServer(config: config)
    try server.start()
    defer { server.stop() }
    return try body(server)
}

@Suite(.serialized) struct EngineServerTests {
    @Test func predictAnswersAndCaches() throws {
        try withEngine { e in
            let first = try http("POST", e.baseURL + "/predict", body: #"{"input": "hello"}"#)
            #expect(first.status == 200)
            let a = json(first.body)
            #expect(a["output"] is String)
            #expect(a["cached"] as? Bool == false)
            #expect(a["batch_size"] as? Int == 1)
            #expect((a["compute_ms"] as? Double ?? 0) > 5)
            let second = json(try http("POST", e.baseURL + "/predict", body: #"{"input": "hello"}"#).body)
            #expect(second["cached"] as? Bool == true)
            #expect(second["output"] as? String == a["output"] as? String)
            #expect(e.stats.cacheHits == 1 && e.stats.cacheMisses == 1)
        }
    }

    @Test func badInputGetsClearErrors() throws {
        var config = EngineConfig()
        config.maxBodyBytes = 1024
        try withEngine(config) { e in
            let malformed = try http("POST", e.baseURL + "/predict", body: "{not json")
            #expect(malformed.status == 400)
            #expect(malformed.body.contains("not a JSON object"))
            let missing = try http("POST", e.baseURL + "/predict", body: #"{"inputs": "x"}"#)
            #expect(missing.status == 400)
            #expect(missing.body.contains("'input'"))
            let big = try http("POST", e.baseURL + "/predict", body: "{\"input\": \"" + String(repeating: "x", count: 4096) + "\"}")
            #expect(big.status == 413)
            #expect(try http("GET", e.baseURL + "/nope").status == 404)
            #expect(try http("GET", e.baseURL + "/predict").status == 405)
            #expect(try http("GET", e.baseURL + "/health").status == 200)
        }
    }

    @Test func outOfMemoryIsA507WithCUDAsMessage() throws {
        try withEngine(EngineConfig(gpu: "A10", model: "deepseek-coder-33b")) { e in
            let r = try http("POST", e.baseURL + "/predict", body: #"{"input": "x"}"#)
            #expect(r.status == 507)
            #expect(r.body.contains("CUDA out of memory"))
            #expect(e.stats.outOfMemory == 1)
        }
    }

    @Test func metricsAreLabelledModelled() throws {
        try withEngine { e in
            _ = try http("POST", e.baseURL + "/predict", body: #"{"input": "m"}"#)
            let m = try http("GET", e.baseURL + "/metrics").body
            #expect(m.contains("# TYPE cicada_engine_batch_size histogram"))
            #expect(m.contains("cicada_engine_requests_total{outcome=\"success\"} 1"))
            #expect(m.contains("cicada_engine_device_memory_total_bytes{gpu=\"A100-80GB\",model=\"deepseek-llm-7b\",precision=\"fp16\",modelled=\"true\"} 85899345920"))
            #expect(m.contains("cicada_engine_cache_misses_total 1"))
        }
    }

    @Test func adminReadsAndChangesBatchingWithToken() throws {
        var config = EngineConfig()
        config.adminToken = "s3cret"
        try withEngine(config) { e in
            #expect(try http("GET", e.baseURL + "/admin/batching").status == 401)
            let auth = ["Authorization": "Bearer s3cret"]
            let before = json(try http("GET", e.baseURL + "/admin/batching", headers: auth).body)
            #expect(before["maxBatchSize"] as? Int == 64)
            let put = try http("PUT", e.baseURL + "/admin/batching", body: #"{"maxBatchSize": 8, "preferredBatchSizes": [4, 8], "maxQueueDelayMicros": 2000}"#, headers: auth)
            #expect(put.status == 200)
            #expect(e.stats.batching.maxBatchSize == 8)
            let bad = try http("PUT", e.baseURL + "/admin/batching", body: #"{"maxBatchSize": 0}"#, headers: auth)
            #expect(bad.status == 400)
            #expect(e.stats.batching.maxBatchSize == 8)
        }
    }

    /// A client that is not on loopback gets the admin API only with the token; without a token
    /// set, never. Needs an address of this machine that is not loopback (skipped without one).
    @Test func adminRefusesNonLoopbackClientsWithoutTheToken() throws {
        guard let ip = firstNonLoopbackIPv4() else { return }
        var open = EngineConfig()
        open.host = ip
        try withEngine(open) { e in
            let r = try http("GET", e.baseURL + "/admin/batching")
            #expect(r.status == 403)
            #expect(r.body.contains("loopback clients only"))
            #expect(try http("POST", e.baseURL + "/predict", body: #"{"input": "x"}"#).status == 200)
        }
        var guarded = EngineConfig()
        guarded.host = ip
        guarded.adminToken = "t0ken"
        try withEngine(guarded) { (e: EngineServer) throws in
            #expect(try http("GET", e.baseURL + "/admin/batching").status == 401)
            #expect(try http("GET", e.baseURL + "/admin/batching", headers: ["Authorization": "Bearer t0ke"]).status == 401)
            #expect(try http("GET", e.baseURL + "/admin/batching", headers: ["Authorization": "Bearer t0ken"]).status == 200)
        }
    }

    @Test func chatStreamsSSEWithUsageAndDone() throws {
        try withEngine { e in
            let r = try http("POST", e.baseURL + "/v1/chat/completions",
                             body: #"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(r.status == 200)
            #expect(r.headers["content-type"] == "text/event-stream")
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.first?.contains("\"role\":\"assistant\"") == true)
            #expect(events.filter { $0.contains("\"content\":") && !$0.contains("\"role\"") }.count == 5)
            #expect(events.contains { $0.contains("\"finish_reason\":\"length\"") })
            #expect(events.contains { $0.contains("\"choices\":[]") && $0.contains("\"completion_tokens\":5") })
            #expect(events.last == "data: [DONE]")
            let plain = json(try http("POST", e.baseURL + "/v1/completions", body: #"{"prompt": "hi", "max_tokens": 3}"#).body)
            #expect((plain["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3)
        }
    }

    @Test func drainingTurnsReadinessOffAndFinishesInFlight() throws {
        let server = try EngineServer(config: EngineConfig(batching: .noBatching))
        try server.start()
        let url = server.baseURL
        let slow = Locked<HTTPReply?>(nil)
        let t = Thread { slow.set(try? http("POST", url + "/v1/completions", body: #"{"prompt": "long", "max_tokens": 150}"#)) }
        t.start()
        var waited = 0
        while server.stats.executing == 0, waited < 200 { usleep(10_000); waited += 1 }
        try #require(server.stats.executing == 1, "the slow request never started executing")
        let drainer = Thread { server.drainAndStop(timeout: .seconds(20)) }
        drainer.start()
        var polls = 0
        while !server.isDraining, polls < 2000 { usleep(1_000); polls += 1 }
        try #require(server.isDraining, "drainAndStop never began")
        // The slow request (150 modelled tokens, about 1.4 s) keeps the server up meanwhile.
        #expect(try http("GET", url + "/health/ready").status == 503)
        var spins = 0
        while slow.get() == nil, spins < 1000 { usleep(10_000); spins += 1 }
        #expect(slow.get()?.status == 200)
    }

    @Test func batchingRaisesThroughputOnTheModelledDevice() throws {
        func run(_ batching: BatcherConfig) throws -> (qps: Double, avgBatch: Double) {
            let server = try EngineServer(config: EngineConfig(batching: batching, cacheEntries: 0))
            try server.start()
            defer { server.stop() }
            var s = try ScenarioReader().parse("""
            target: http://127.0.0.1:1
            users: 64
            spawn_rate: 1000
            run_time: 2s
            tasks: [{name: p, path: /predict, json: {input: "q {{uuid}}"}}]
            """, file: "inline.yaml")
            s.target = server.baseURL
            let r = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1)).run()
            #expect(r.snapshot.total.failures == 0)
            return (r.snapshot.qps ?? 0, server.stats.averageBatchSize ?? 0)
        }
        let single = try run(.noBatching)
        let seed = try run(.seed)
        #expect(abs(single.avgBatch - 1) < 1e-9)
        #expect(seed.avgBatch > 8, "average batch \(seed.avgBatch)")
        #expect(seed.qps > 2.5 * single.qps, "no-batching \(single.qps)/s, seed \(seed.qps)/s")
    }

    @Test(arguments: [false, true])
    func preserveOrderingHoldsLaterAnswersBack(preserve: Bool) throws {
        var b = BatcherConfig.noBatching
        b.instanceCount = 2
        b.preserveOrdering = preserve
        try withEngine(EngineConfig(batching: b, cacheEntries: 0)) { e in
            let url = e.baseURL
            let clock = ContinuousClock()
            let longSent = clock.now
            let longReply = Locked<(Result<HTTPReply, any Error>, ContinuousClock.Instant)?>(nil)
            let shortReply = Locked<(Result<HTTPReply, any Error>, ContinuousClock.Instant)?>(nil)
            let long = Thread {
                let r = Result { try http("POST", url + "/v1/completions", body: #"{"prompt": "a", "max_tokens": 60}"#) }
                longReply.set((r, clock.now))
            }
            long.start()
            var waited = 0
            while e.stats.executing == 0, waited < 400 { usleep(5_000); waited += 1 }
            try #require(e.stats.executing == 1, "the long request never started executing")
            let short = Thread {
                let r = Result { try http("POST", url + "/v1/completions", body: #"{"prompt": "b", "max_tokens": 1}"#) }
                shortReply.set((r, clock.now))
            }
            short.start()
            var spins = 0
            while longReply.get() == nil || shortReply.get() == nil, spins < 3000 { usleep(10_000); spins += 1 }
            let (l, longDone) = try #require(longReply.get())
            let (s, shortDone) = try #require(shortReply.get())
            #expect(try l.get().status == 200)
            #expect(try s.get().status == 200)
            // 60 modelled decode steps take ~0.55 s from the long request's arrival; the one-token
            // answer takes ~15 ms. Held back, the short answer cannot leave before the long one's
            // modelled time has passed (load only delays it further); not held, it comes ~0.5 s
            // before the long one. The release rule itself is tested in virtual time in
            // OrderedReleaseTests.
            if preserve {
                #expect(shortDone - longSent >= .milliseconds(500), "short answer after \(shortDone - longSent)")
            } else {
                #expect(longDone - shortDone > .milliseconds(300), "long answer \(longDone - shortDone) after the short one")
            }
        }
    }

}

/// An IPv4 address of this machine that is not loopback, if it has one.
func firstNonLoopbackIPv4() -> String? {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return nil }
    defer { freeifaddrs(list) }
    var p: UnsafeMutablePointer<ifaddrs>? = first
    while let a = p {
        defer { p = a.pointee.ifa_next }
        guard let sa = a.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else { continue }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(sa, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
        let ip = String(cString: host)
        if !ip.hasPrefix("127.") { return ip }
    }
    return nil
}
