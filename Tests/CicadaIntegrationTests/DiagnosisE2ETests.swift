import Foundation
import Testing

/// The out-of-memory diagnosis end to end: the embedded engine (a modelled A10 with a 7B model)
/// is driven into OOM by batches of 64 long prompts; the run's diagnosis names a batch size
/// that fits, and the same load with that batch size then runs without one OOM.
@Suite(.serialized) struct DiagnosisE2ETests {
    func scenario(maxBatch: Int, rate: Int, in dir: URL) throws -> URL {
        let file = dir.appendingPathComponent("oom-\(maxBatch).yaml")
        let prompt = String(repeating: "tell me about load testing ", count: 150)   // ~1,000 tokens
        try """
        name: oom-\(maxBatch)
        target: embedded
        engine:
          gpu: A10
          model: deepseek-llm-7b
          batching: trial
          presets:
            - {name: trial, max_batch_size: \(maxBatch), preferred_batch_sizes: [\(maxBatch)], max_queue_delay_us: 300000}
          cache: {enabled: false}
        arrival: {rate: \(rate), max_in_flight: 200}
        run_time: 1500ms
        telemetry: {gpu: none}
        tasks: [{name: c, kind: openai-completions, prompt: "\(prompt)", max_tokens: 4, stream: false}]
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func report(_ path: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }

    @Test func outOfMemoryNamesABatchSizeThatThenRuns() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first.json")
        let r1 = try cicada(["run", try scenario(maxBatch: 64, rate: 120, in: dir).path, "--json", first.path, "--stop-timeout", "30s"], limit: 120)
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stdout.contains("DIAGNOSES"), "\(r1.stdout)")
        let diagnoses = try report(first)["diagnoses"] as? [[String: Any]] ?? []
        let oom = try #require(diagnoses.first { $0["rule"] as? String == "gpu_out_of_memory" }, "\(diagnoses)")
        #expect(oom["severity"] as? String == "critical")
        let action = oom["action"] as? String ?? ""
        let match = try #require(action.firstMatch(of: /max_batch_size 64 -> (\d+) fits in 80% of the modelled device memory/), "\(action)")
        let fit = try #require(Int(String(match.1)))
        #expect(fit >= 1 && fit < 64)

        // The advice, taken: the same prompts with that batch size never run out of memory.
        let second = dir.appendingPathComponent("second.json")
        let r2 = try cicada(["run", try scenario(maxBatch: fit, rate: 6, in: dir).path, "--json", second.path, "--stop-timeout", "60s"], limit: 180)
        #expect(r2.status == 0, "\(r2.stderr)")
        let totals = try report(second)["totals"] as? [String: Any] ?? [:]
        #expect((totals["requests"] as? Int ?? 0) > 0)
        #expect((totals["status_codes"] as? [String: Any])?["507"] == nil, "\(totals)")
        #expect(totals["failures"] as? Int == 0, "\(totals)")
        let again = try report(second)["diagnoses"] as? [[String: Any]] ?? []
        #expect(!again.contains { $0["rule"] as? String == "gpu_out_of_memory" && $0["severity"] as? String == "critical" }, "\(again)")
    }
}
