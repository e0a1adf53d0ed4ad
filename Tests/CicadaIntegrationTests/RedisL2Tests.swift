import CicadaEngine
import CicadaEngineServer
import CicadaScenario
import Foundation
import Testing

/// A `redis-server` of the test's own on a free 127.0.0.1 port, no persistence, stopped by its pid.
final class TestRedis {
    let pid: pid_t
    let port: Int
    let dir: URL

    init() throws {
        port = try freePort()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-redis-\(getpid())-\(port)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard let p = spawnProcess(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", dir.path, "--protected-mode", "yes", "--enable-debug-command", "local"]) else { throw CocoaError(.executableLoad) }
        pid = p
        let deadline = Date().addingTimeInterval(10)
        while cli("PING") != "PONG" {
            guard Date() < deadline else { stop(); throw CocoaError(.executableLoad) }
            usleep(50_000)
        }
    }

    /// `redis-cli -p PORT args...`'s output, trimmed.
    func cli(_ args: String...) -> String {
        let out = dir.appendingPathComponent("cli-\(UInt64.random(in: 0...UInt64.max)).out")
        defer { try? FileManager.default.removeItem(at: out) }
        guard let p = spawnProcess(["redis-cli", "-h", "127.0.0.1", "-p", String(port)] + args, stdoutPath: out.path) else { return "" }
        var status: Int32 = 0
        waitpid(p, &status, 0)
        return (try? String(contentsOf: out, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(at: dir)
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }
}

/// The engine's two-level cache on a real Redis (Debian's `redis-server`, installed by .ci/run):
/// the seed's key format and TTL read back with `redis-cli`, two engines sharing level 2, and a
/// Redis that dies or stalls never failing a request.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") || ProcessInfo.processInfo.environment["CI"] == "true",
                             "needs redis-server (scripts/setup-debian.sh installs it)"))
struct RedisL2Tests {
    static func engine(_ redis: TestRedis, ttl: Duration = .seconds(120), timeout: Duration = .milliseconds(50), l1: Bool = true) -> EngineConfig {
        var c = EngineConfig()
        c.cacheEntries = l1 ? 10_000 : 0
        var l2 = RedisL2Config.parse(url: redis.url).config!
        l2.ttl = ttl
        l2.timeout = timeout
        c.l2 = l2
        return c
    }

    /// Polls until `condition` holds (level-2 writes are sent after the answer), at most 5 s.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while !condition() { if Date() > deadline { return false }; usleep(20_000) }
        return true
    }

    @Test func predictAnswersAreStoredUnderTheSeedsKeyWithTheTTL() throws {
        let redis = try TestRedis()
        defer { redis.stop() }
        try withEngine(Self.engine(redis)) { e in
            let first = json(try http("POST", e.baseURL + "/predict", body: #"{"input": "hello redis"}"#).body)
            #expect(first["cached"] as? Bool == false)
            let output = try #require(first["output"] as? String)
            // Python: "ds_cache:" + hashlib.md5(b"hello redis").hexdigest()
            let key = "ds_cache:" + MD5.hex("hello redis")
            #expect(Self.eventually { redis.cli("GET", key) == output })
            let ttl = Int(redis.cli("TTL", key)) ?? -99
            #expect((100...120).contains(ttl), "TTL \(ttl)")
            #expect(e.stats.l2?.writes == 1)
            #expect(e.stats.l2?.misses == 1 && e.stats.l2?.hits == 0)
            let metrics = try http("GET", e.baseURL + "/metrics").body
            #expect(metrics.contains("cicada_engine_cache_l2_writes_total 1"))
            #expect(metrics.contains("cicada_engine_cache_l2_up 1"))
        }
    }

    @Test func aMissInOneEngineIsAHitInAnother() throws {
        let redis = try TestRedis()
        defer { redis.stop() }
        let body = #"{"input": "shared between engines"}"#
        var output: String?
        try withEngine(Self.engine(redis)) { a in
            output = json(try http("POST", a.baseURL + "/predict", body: body).body)["output"] as? String
            #expect(Self.eventually { a.stats.l2?.writes == 1 })
        }
        try withEngine(Self.engine(redis)) { b in
            let second = json(try http("POST", b.baseURL + "/predict", body: body).body)
            #expect(second["cached"] as? Bool == true)
            #expect(second["output"] as? String == output)
            #expect(b.stats.l2?.hits == 1)
            #expect(b.stats.cacheMisses == 1 && b.stats.cacheHits == 0)
            // The level-2 hit filled level 1: the third answer never asks Redis.
            let third = json(try http("POST", b.baseURL + "/predict", body: body).body)
            #expect(third["cached"] as? Bool == true)
            #expect(b.stats.cacheHits == 1)
            #expect(b.stats.l2?.hits == 1 && b.stats.l2?.misses == 0)
            #expect(b.stats.executions == 0)
            #expect(b.stats.summaryLines().contains { $0.contains("cache L2 (redis 127.0.0.1:\(redis.port)/0): hits 1, misses 0, hit rate 100.0%") })
        }
    }

    @Test func aRedisKilledMidRunFailsNoRequest() throws {
        let redis = try TestRedis()
        var stopped = false
        defer { if !stopped { redis.stop() } }
        try withEngine(Self.engine(redis, l1: false)) { e in
            var statuses: [Int] = []
            for i in 0..<10 { statuses.append(try http("POST", e.baseURL + "/predict", body: #"{"input": "before \#(i)"}"#).status) }
            #expect(Self.eventually { e.stats.l2?.writes == 10 })
            redis.stop()
            stopped = true
            for i in 0..<10 { statuses.append(try http("POST", e.baseURL + "/predict", body: #"{"input": "after \#(i)"}"#).status) }
            #expect(statuses == Array(repeating: 200, count: 20))
            let l2 = try #require(e.stats.l2)
            #expect(l2.errors >= 10, "every lookup after the kill fails and is counted: \(l2)")
            #expect(l2.hits == 0 && l2.misses == 20)
            #expect(!l2.connected)
            #expect(e.stats.requestsByOutcome["success"] == 20)
        }
    }

    @Test func aStalledRedisIsAMissAtTheTimeout() throws {
        let redis = try TestRedis()
        defer { redis.stop() }
        try withEngine(Self.engine(redis, timeout: .milliseconds(50), l1: false)) { e in
            _ = try http("POST", e.baseURL + "/predict", body: #"{"input": "warm"}"#) // connects
            // Redis stops answering for 2 s (DEBUG SLEEP blocks its only thread).
            let sleeper = spawnProcess(["redis-cli", "-h", "127.0.0.1", "-p", String(redis.port), "DEBUG", "SLEEP", "2"])
            usleep(200_000)
            let before = e.stats.l2?.errors ?? 0
            let reply = try http("POST", e.baseURL + "/predict", body: #"{"input": "during the stall"}"#)
            #expect(reply.status == 200)
            #expect(json(reply.body)["cached"] as? Bool == false)
            #expect((e.stats.l2?.errors ?? 0) > before)
            if let sleeper { var s: Int32 = 0; waitpid(sleeper, &s, 0) }
            // After the stall, the late replies are read and dropped in order: the next lookup is a real hit.
            #expect(Self.eventually { e.stats.l2?.writes ?? 0 >= 2 })
            let again = json(try http("POST", e.baseURL + "/predict", body: #"{"input": "during the stall"}"#).body)
            #expect(again["cached"] as? Bool == true)
        }
    }

    @Test func theScenarioBlockIsReadAndCheckedWithPositions() throws {
        let ok = try ScenarioReader().parseDocument("""
        target: embedded
        engine:
          cache: {embeddings: 5000, l2: {redis: "redis://127.0.0.1:6390/1", ttl: 10m, prefix: "ds_cache:", timeout: 20ms}}
        tasks: [{path: /predict, method: POST, body: '{"input": "x"}'}]
        """, file: "s.yaml")
        let l2 = try #require(ok.engine?.l2)
        #expect(l2.port == 6390 && l2.database == 1 && l2.ttl == .seconds(600) && l2.timeout == .milliseconds(20))
        #expect(ok.engine?.embeddingCacheEntries == 5000)
        do {
            _ = try ScenarioReader().parseDocument("""
            target: embedded
            engine:
              cache: {l2: {redis: "http://x", ttl: 0s}}
            tasks: [{path: /predict, method: POST, body: '{"input": "x"}'}]
            """, file: "s.yaml")
            Issue.record("a bad l2 block was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("s.yaml:3") && text.contains("engine.cache.l2.redis") && text.contains("not a redis:// URL"), "\(text)")
            #expect(text.contains("engine.cache.l2.ttl"), "\(text)")
        }
    }
}

/// The seed's embedding cache (`cache.embeddings`): an input the engine has prefilled before
/// skips its modelled prefill in a later batch; counted on `/metrics` and in the summary.
@Suite(.serialized) struct EmbeddingCacheTests {
    @Test func aSeenInputSkipsItsModelledPrefill() throws {
        var c = EngineConfig()
        c.cacheEntries = 0          // no result cache: every request is computed
        c.embeddingCacheEntries = 100
        let input = String(repeating: "a long prompt that takes a while to prefill ", count: 40)
        let body = "{\"input\": \"\(input)\"}"
        try withEngine(c) { e in
            let first = json(try http("POST", e.baseURL + "/predict", body: body).body)
            let second = json(try http("POST", e.baseURL + "/predict", body: body).body)
            let a = try #require(first["compute_ms"] as? Double), b = try #require(second["compute_ms"] as? Double)
            let device = try DeviceModel(gpu: c.gpu, model: c.model, precision: c.precision.rawValue)
            let tokens = c.tokenizer.count(input)   // the engine counts with its tokenizer (cicada-tiny)
            let saved = (device.prefillTime(tokens: tokens).seconds - device.prefillTime(tokens: 0).seconds) * 1000
            #expect(saved > 0.5, "a prompt long enough for the prefill to matter")
            #expect(abs((a - b) - saved) < 0.01, "the second batch is shorter by exactly the input's prefill: \(a) - \(b) vs \(saved)")
            #expect(e.stats.embeddingHits == 1 && e.stats.embeddingMisses == 1)
            #expect(try http("GET", e.baseURL + "/metrics").body.contains("cicada_engine_embedding_cache_hits_total 1"))
            #expect(e.stats.summaryLines().contains { $0.contains("embedding cache: prefill skipped for 1 of 2 inputs (50.0%, modelled)") })
        }
        c.embeddingCacheEntries = 0
        try withEngine(c) { e in
            let a = json(try http("POST", e.baseURL + "/predict", body: body).body)["compute_ms"] as? Double
            let b = json(try http("POST", e.baseURL + "/predict", body: body).body)["compute_ms"] as? Double
            #expect(a != nil && a == b, "off: both computed whole")
            #expect(e.stats.embeddingHits == nil)
            #expect(!(try http("GET", e.baseURL + "/metrics").body.contains("embedding_cache")))
        }
    }
}
