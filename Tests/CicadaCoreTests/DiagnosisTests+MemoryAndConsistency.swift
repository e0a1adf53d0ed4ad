import CicadaCore
import Testing

/// `killed_after_memory_pressure` with process and container gauges, and `inconsistent_outputs`.
extension DiagnosisTests {
    /// Telemetry with no GPU at all: only process or container memory.
    func memory(_ points: [TelemetrySummary.MemoryPoint]) -> TelemetrySummary {
        var t = TelemetrySummary()
        t.memorySeries = points
        t.sources = [.init(name: "prometheus", modelled: false, lastReadSeconds: 0.5, stale: false, error: nil, reads: 60, failures: 0)]
        return t
    }

    @Test func containerWorkingSetNearItsLimitThenRefusedConnections() throws {
        let t = memory([
            .init(t: 5, source: "prometheus", gauge: "container_memory_working_set_bytes", limitGauge: "container_spec_memory_limit_bytes",
                  what: "container vllm", usedBytes: 2 * Self.gib, limitBytes: 4 * Self.gib),
            .init(t: 15, source: "prometheus", gauge: "container_memory_working_set_bytes", limitGauge: "container_spec_memory_limit_bytes",
                  what: "container vllm", usedBytes: 3_865_470_567, limitBytes: 4 * Self.gib),
        ])
        let after = snapshot(errors: [("Connection refused", 12, at: 17), ("HTTP 503", 3, at: 18)], telemetry: t)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: after, startNanos: 0)).first { $0.rule == "killed_after_memory_pressure" })
        #expect(d.severity == .critical)
        #expect(d.evidence == ["container_memory_working_set_bytes at 90% of container_spec_memory_limit_bytes (3.60 GiB of 4.00 GiB) at 15s (prometheus, container vllm)",
                               "then 15 refused/reset connections or 503s, the first at 17s"])
        // Failures that began before the pressure reading are not this rule's.
        let before = snapshot(errors: [("Connection refused", 12, at: 10)], telemetry: t)
        #expect(!rulesFired(DiagnosisFacts(snapshot: before, startNanos: 0)).contains("killed_after_memory_pressure"))
    }

    @Test func processResidentMemoryAgainstACgroupLimit() throws {
        let t = memory([
            .init(t: 8, source: "engine", gauge: "process_resident_memory_bytes", limitGauge: "cicada_engine_cgroup_memory_max_bytes",
                  what: nil, usedBytes: 950 << 20, limitBytes: 1 << 30),
        ])
        let snap = snapshot(errors: [("Connection reset by peer", 4, at: 9)], telemetry: t)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: snap, startNanos: 0)).first { $0.rule == "killed_after_memory_pressure" })
        #expect(d.evidence.first == "process_resident_memory_bytes at 93% of cicada_engine_cgroup_memory_max_bytes (0.93 GiB of 1.00 GiB) at 8s (engine)")
        // The limit is configurable: at 95% the same reading is not pressure.
        var limits = DiagnosisLimits()
        limits.memoryFraction = 0.95
        #expect(!DiagnosisRules(limits: limits).evaluate(DiagnosisFacts(snapshot: snap, startNanos: 0)).map(\.rule).contains("killed_after_memory_pressure"))
    }

    @Test func memoryWithoutALimitOrBelowItStaysSilent() {
        let noLimit = memory([.init(t: 1, source: "prometheus", gauge: "process_resident_memory_bytes", limitGauge: nil, what: nil,
                                    usedBytes: 60 * Self.gib, limitBytes: nil)])
        let low = memory([.init(t: 1, source: "prometheus", gauge: "container_memory_working_set_bytes", limitGauge: "container_spec_memory_limit_bytes",
                                what: nil, usedBytes: 1 * Self.gib, limitBytes: 4 * Self.gib)])
        for t in [noLimit, low] {
            let snap = snapshot(errors: [("Connection refused", 5, at: 3)], telemetry: t)
            #expect(!rulesFired(DiagnosisFacts(snapshot: snap, startNanos: 0)).contains("killed_after_memory_pressure"))
        }
    }

    @Test func theEarlierOfGPUAndProcessPressureIsNamed() throws {
        var t = memory([.init(t: 4, source: "prometheus", gauge: "process_resident_memory_bytes", limitGauge: "container_spec_memory_limit_bytes",
                              what: nil, usedBytes: 31 * Self.gib, limitBytes: 32 * Self.gib)])
        t.series = [.init(t: 12, source: "dcgm", gpu: "GPU0", usedBytes: 79 * Self.gib, totalBytes: 80 * Self.gib, kvCacheUsage: nil, requestsWaiting: nil)]
        let snap = snapshot(errors: [("HTTP 503", 7, at: 6)], telemetry: t)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: snap, startNanos: 0)).first { $0.rule == "killed_after_memory_pressure" })
        #expect(d.evidence.first?.hasPrefix("process_resident_memory_bytes at 97%") == true)
    }

    // MARK: inconsistent_outputs

    func consistency(_ answers: [String]) -> ConsistencySummary {
        var tally = ConsistencyTally(spec: ConsistencySpec(cadence: .everyRequests(100), prompt: "Name three primes."))
        for (i, a) in answers.enumerated() { tally.record(answer: a, atSeconds: Double(i)) }
        return tally.summary
    }

    @Test func differingAnswersFireWithCountAndPosition() throws {
        let c = consistency(["two three five", "two three five", "two three seven", "two three five"])
        #expect(c.answered == 4 && c.compared == 3 && c.differing == 1)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: snapshot(), consistency: c)).first { $0.rule == "inconsistent_outputs" })
        #expect(d.evidence[0] == "1 of 3 probe answers differed from the first (same request, temperature 0, openai-chat /v1/chat/completions)")
        #expect(d.evidence[1] == "first differing position: character 10 (word 2): expected \"two three five\", got \"two three seven\"")
        #expect(d.action.contains("compare FP16 against INT8"))
    }

    @Test func identicalAnswersOrNoProbeStaySilent() {
        let same = consistency(Array(repeating: "the same answer", count: 6))
        #expect(!rulesFired(DiagnosisFacts(snapshot: snapshot(), consistency: same)).contains("inconsistent_outputs"))
        #expect(!rulesFired(DiagnosisFacts(snapshot: snapshot())).contains("inconsistent_outputs"))
        // One answer is nothing to compare.
        #expect(!rulesFired(DiagnosisFacts(snapshot: snapshot(), consistency: consistency(["alone"]))).contains("inconsistent_outputs"))
    }

    @Test func theShareThatMayDifferIsConfigurable() {
        let c = consistency(["a b", "a b", "a c", "a b", "a b", "a b"])  // 1 of 5 = 20%
        var limits = DiagnosisLimits()
        limits.inconsistentFraction = 0.25
        #expect(!DiagnosisRules(limits: limits).evaluate(DiagnosisFacts(snapshot: snapshot(), consistency: c)).map(\.rule).contains("inconsistent_outputs"))
        limits.inconsistentFraction = 0.1
        #expect(DiagnosisRules(limits: limits).evaluate(DiagnosisFacts(snapshot: snapshot(), consistency: c)).map(\.rule).contains("inconsistent_outputs"))
    }
}

/// The probe's tally and request: pure.
@Suite struct ConsistencyTallyTests {
    @Test(arguments: [("abc", "abc", 3, 0), ("one two", "one too", 5, 1), ("one two", "one", 3, 0), ("a b c", "a b d", 4, 2), ("", "x", 0, 0)])
    func firstDifference(a: String, b: String, position: Int, word: Int) {
        let d = ConsistencyTally.firstDifference(a, b)
        #expect(d.position == position && d.word == word)
    }

    @Test func samplesAreBoundedAndTruncated() {
        var tally = ConsistencyTally(spec: ConsistencySpec(cadence: .interval(.seconds(5)), prompt: "p"))
        let long = String(repeating: "word ", count: 100)
        tally.record(answer: long + "end", atSeconds: 0)
        for i in 0..<10 { tally.record(answer: long + "other \(i)", atSeconds: Double(i + 1)) }
        tally.recordFailure("HTTP 500")
        let s = tally.summary
        #expect(s.differing == 10 && s.failed == 1 && s.lastFailure == "HTTP 500")
        #expect(s.samples.count == ConsistencyTally.sampleLimit)
        #expect(s.samples[0].position == 500 && s.samples[0].word == 100)
        #expect(s.samples[0].expected.hasPrefix("…") && s.samples[0].got.hasSuffix("other 0"))
        #expect((s.reference?.count ?? 0) <= ConsistencyTally.excerptLength + 1)
    }

    @Test func bodiesAndAnswersPerKind() {
        let chat = ConsistencySpec(cadence: .everyRequests(10), kind: .openAIChat, model: "m", prompt: "say \"hi\"", maxTokens: 8)
        #expect(chat.body == #"{"model":"m","max_tokens":8,"temperature":0,"stream":false,"messages":[{"role":"user","content":"say \"hi\""}]}"#)
        #expect(chat.path == "/v1/chat/completions")
        #expect(chat.answer(fromBody: Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hello"}}]}"#.utf8)) == "hello")
        let completions = ConsistencySpec(cadence: .everyRequests(10), kind: .openAICompletions, prompt: "p", temperature: 0.5)
        #expect(completions.body.contains(#""temperature":0.5"#) && completions.body.contains(#""prompt":"p""#))
        #expect(completions.answer(fromBody: Array(#"{"choices":[{"text":"t"}]}"#.utf8)) == "t")
        let anthropic = ConsistencySpec(cadence: .everyRequests(10), kind: .anthropicMessages, prompt: "p")
        #expect(anthropic.path == "/v1/messages" && anthropic.headers.contains { $0.name == "anthropic-version" })
        #expect(anthropic.answer(fromBody: Array(#"{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}"#.utf8)) == "ab")
        #expect(chat.answer(fromBody: Array("not json".utf8)) == nil)
        #expect(chat.answer(fromBody: Array(#"{"error":{"message":"x"}}"#.utf8)) == nil)
    }
}
