import CicadaCore
import CicadaEngine
import CicadaTelemetry
import Foundation
import Testing
@testable import CicadaEngineServer

/// The embedded engine's answers by precision, and its own process memory on /metrics.
@Suite(.serialized) struct EngineNumericsAndMemoryTests {
    @Test func fp16IsBatchInvariantAndInt8PartsMidway() {
        let input = "Name the first three primes.\n"
        for p in [Precision.fp16, .bf16] {
            let a = EngineRuntime.text(for: input, tokens: 24, precision: p, batch: 1, batchSize: 1)
            let b = EngineRuntime.text(for: input, tokens: 24, precision: p, batch: 97, batchSize: 16)
            #expect(a == b && a == EngineRuntime.text(for: input, tokens: 24))
        }
        let a = EngineRuntime.text(for: input, tokens: 24, precision: .int8, batch: 1, batchSize: 1).split(separator: " ")
        let b = EngineRuntime.text(for: input, tokens: 24, precision: .int8, batch: 2, batchSize: 1).split(separator: " ")
        #expect(a.count == 24 && b.count == 24)
        #expect(a.prefix(12) == b.prefix(12) && a != b)
        // The same batch computes the same answer (the model is deterministic given its batch).
        #expect(EngineRuntime.text(for: input, tokens: 24, precision: .int8, batch: 5, batchSize: 3)
                == EngineRuntime.text(for: input, tokens: 24, precision: .int8, batch: 5, batchSize: 3))
    }

    @Test func int8EngineAnswersTheSameRequestDifferently() throws {
        try withEngine(EngineConfig(model: "deepseek-coder-1.3b", precision: .int8, cacheEntries: 0)) { e in
            let spec = ConsistencySpec(cadence: .everyRequests(1), kind: .openAIChat, model: "deepseek-coder-1.3b", prompt: "primes?", maxTokens: 16)
            func answer() throws -> String? {
                let r = try http("POST", e.baseURL + spec.path, body: spec.body, headers: ["Content-Type": "application/json"])
                return spec.answer(fromBody: Array(r.body.utf8))
            }
            let first = try #require(try answer())
            let second = try #require(try answer())
            #expect(first != second)
            #expect(ConsistencyTally.firstDifference(first, second).word >= 8)
        }
        try withEngine(EngineConfig(model: "deepseek-coder-1.3b", precision: .fp16, cacheEntries: 0)) { e in
            let spec = ConsistencySpec(cadence: .everyRequests(1), model: "deepseek-coder-1.3b", prompt: "primes?", maxTokens: 16)
            let bodies = try (0..<3).map { _ in try http("POST", e.baseURL + spec.path, body: spec.body, headers: ["Content-Type": "application/json"]).body }
            let answers = bodies.compactMap { spec.answer(fromBody: Array($0.utf8)) }
            #expect(answers.count == 3 && Set(answers).count == 1)
        }
    }

    @Test func processMemoryFilesParseAndAbsentStaysAbsent() {
        let m = ProcessMemory.parse(statm: "123456 2560 300 10 0 4000 0\n", pageSize: 4096, memoryCurrent: "52428800\n", memoryMax: "104857600\n")
        #expect(m == ProcessMemory(residentBytes: 2560 * 4096, cgroupCurrentBytes: 52_428_800, cgroupMaxBytes: 104_857_600, cgroupVersion: .v2))
        let unlimited = ProcessMemory.parse(statm: nil, pageSize: 4096, memoryCurrent: nil, memoryMax: "max\n")
        #expect(unlimited == ProcessMemory(residentBytes: nil, cgroupCurrentBytes: nil, cgroupMaxBytes: nil))
        #expect(unlimited.exposition.isEmpty)
        // Read through Cicada's own telemetry mapper: RSS and cgroup use against the cgroup limit.
        let gauges = KnownFamilies.memoryGauges(try! PrometheusText.parse(m.exposition))
        #expect(gauges.map(\.gauge) == ["process_resident_memory_bytes", "cicada_engine_cgroup_memory_current_bytes"])
        #expect(gauges.allSatisfy { $0.limitBytes == 104_857_600 && $0.limitGauge == "cicada_engine_cgroup_memory_max_bytes" })
    }

    @Test func metricsCarryTheProcessResidentMemory() throws {
        try withEngine { e in
            let text = try http("GET", e.baseURL + "/metrics").body
            let exposition = try PrometheusText.parse(text)
            let rss = try #require(exposition.family(named: "process_resident_memory_bytes")?.samples.first?.value)
            #expect(rss > 1_000_000, "a running Swift process has more than 1 MB resident")
            // The cgroup figures appear exactly when this machine's files are readable (v2 or v1;
            // CgroupMemoryTests reads both layouts from fixtures).
            let readable = ProcessMemory.read().cgroupCurrentBytes != nil
            #expect((exposition.family(named: "cicada_engine_cgroup_memory_current_bytes") != nil) == readable)
            let hasV2 = FileManager.default.isReadableFile(atPath: "/sys/fs/cgroup/memory.current")
            let hasV1 = FileManager.default.isReadableFile(atPath: "/sys/fs/cgroup/memory/memory.usage_in_bytes")
            // Where either hierarchy's file is at its mount's root, something is read.
            if hasV2 || hasV1 { #expect(readable) }
        }
    }
}
