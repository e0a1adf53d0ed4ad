import Foundation
import Testing

/// The consistency probe end to end against the embedded engine: at fp16 the engine answers a
/// temperature-0 request the same every time and the run stays silent; at int8 its modelled
/// batch-variant kernels change the second half of the answer, and `inconsistent_outputs` fires.
@Suite(.serialized) struct ConsistencyE2ETests {
    func scenario(precision: String, probe: String, in dir: URL) throws -> URL {
        let file = dir.appendingPathComponent("consistency-\(precision).yaml")
        try """
        name: consistency-\(precision)
        target: embedded
        engine:
          gpu: A100-80GB
          model: deepseek-coder-1.3b
          precision: \(precision)
          cache: {enabled: false}
        users: 4
        spawn_rate: 100
        run_time: 3s
        telemetry: {gpu: none}
        consistency: \(probe)
        tasks: [{name: chat, kind: openai-chat, model: deepseek-coder-1.3b, prompt: "hello {{random_int 1 1000}}", max_tokens: 8, stream: false}]
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func report(_ path: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }

    @Test func fp16AnswersTheSameAndStaysSilent() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("fp16.json")
        let probe = "{every: 5, prompt: \"Name the first three primes.\", max_tokens: 24}"
        let r = try cicada(["run", try scenario(precision: "fp16", probe: probe, in: dir).path, "--json", out.path], limit: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("CONSISTENCY (a probe every 5 requests, temperature 0"), "\(r.stdout)")
        let doc = try report(out)
        let c = try #require(doc["consistency"] as? [String: Any], "\(doc.keys)")
        #expect((c["answered"] as? Int ?? 0) >= 2, "\(c)")
        #expect(c["differing"] as? Int == 0 && c["failed"] as? Int == 0, "\(c)")
        // The reference is the answer, cut to 120 characters (24 words of filler are longer).
        #expect((c["reference"] as? String ?? "").hasSuffix("…") && (c["reference"] as? String ?? "").count == 121, "\(c)")
        let diagnoses = doc["diagnoses"] as? [[String: Any]] ?? []
        #expect(!diagnoses.contains { $0["rule"] as? String == "inconsistent_outputs" }, "\(diagnoses)")
        // Probes are counted apart: the run's only task is the load's.
        #expect((doc["tasks"] as? [[String: Any]] ?? []).map { $0["name"] as? String } == ["chat"])
    }

    @Test func int8AnswersDifferAndTheRuleFires() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("int8.json")
        let probe = "{interval: 200ms, prompt: \"Name the first three primes.\", max_tokens: 24}"
        let r = try cicada(["run", try scenario(precision: "int8", probe: probe, in: dir).path, "--json", out.path], limit: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("inconsistent_outputs") || r.stdout.contains("answered the same temperature-0 request differently"), "\(r.stdout)")
        let doc = try report(out)
        let c = try #require(doc["consistency"] as? [String: Any])
        let answered = c["answered"] as? Int ?? 0
        let differing = c["differing"] as? Int ?? 0
        #expect(answered >= 3 && differing >= 1, "\(c)")
        let sample = try #require((c["samples"] as? [[String: Any]])?.first, "\(c)")
        // The first half (12 of 24 words) is the input's; they part at word 12 or later.
        #expect((sample["word"] as? Int ?? 0) >= 12, "\(sample)")
        let diagnoses = doc["diagnoses"] as? [[String: Any]] ?? []
        let d = try #require(diagnoses.first { $0["rule"] as? String == "inconsistent_outputs" }, "\(diagnoses)")
        let evidence = (d["evidence"] as? [String] ?? []).joined(separator: " | ")
        #expect(evidence.contains("\(differing) of \(answered - 1) probe answers differed from the first"), "\(evidence)")
        #expect(evidence.contains("first differing position: character"), "\(evidence)")
        #expect((d["action"] as? String ?? "").contains("compare FP16 against INT8"))
    }
}
