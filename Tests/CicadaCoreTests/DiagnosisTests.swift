import CicadaCore
import Testing

/// Every rule fires on facts that call for it and stays silent on a healthy run.
@Suite struct DiagnosisTests {
    let rules = DiagnosisRules()
    static let gib: UInt64 = 1 << 30

    /// A run of `n` requests: `sentMillis` after their intended start, taking `tookMillis`.
    func snapshot(n: Int = 200, tookMillis: (Int) -> Double = { _ in 10 }, lateMillis: (Int) -> Double = { _ in 0 },
                  errors: [(String, UInt64, at: Double)] = [], telemetry: TelemetrySummary? = nil,
                  lagMillis: Double = 0, cutOff: UInt64 = 0, dropped: UInt64 = 0) -> Snapshot {
        var s = RequestStats()
        for i in 0..<n {
            let sent = UInt64(lateMillis(i) * 1e6)
            s.record(RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: sent, endNanos: sent + UInt64(tookMillis(i) * 1e6), ttfbMicros: nil,
                                    status: 200, failure: nil, error: nil, bytesIn: 0, bytesOut: 0))
        }
        var table = ErrorTable()
        for (message, count, at) in errors {
            for _ in 0..<count { table.record(ErrorKey(method: "POST", name: "predict", message: message), atNanos: UInt64(at * 1e9)) }
        }
        var lag = LatencyHistogram()
        for _ in 0..<100 { lag.record(micros: UInt64(lagMillis * 1000)) }
        var snap = Snapshot(elapsed: .seconds(60), names: ["predict"], methods: ["POST"], perStat: [s], total: s,
                            windows: [:], defaultWindowSeconds: 10, errors: table, scheduleLag: lag, dropped: dropped, gauges: .init(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: 60)
        snap.cutOff = cutOff
        snap.telemetry = telemetry
        return snap
    }

    func gpus(_ fractions: [Double], source: String = "nvml", modelled: Bool = false) -> TelemetrySummary {
        var t = TelemetrySummary()
        t.gpus = fractions.enumerated().map { i, f in
            .init(source: source, modelled: modelled, name: "GPU\(i)", usedBytes: UInt64(f * 80) * Self.gib, totalBytes: 80 * Self.gib, ageSeconds: 0.5, stale: false)
        }
        t.gpuMemoryPeakFraction = fractions.max()
        t.gpuMemoryPeakWhere = "GPU0"
        t.gpuMemoryPeakModelled = modelled
        t.sources = [.init(name: source, modelled: modelled, lastReadSeconds: 0.5, stale: false, error: nil, reads: 60, failures: 0)]
        return t
    }

    func rulesFired(_ facts: DiagnosisFacts) -> [String] { rules.evaluate(facts).map(\.rule) }

    @Test func aHealthyRunHasNoDiagnoses() {
        let facts = DiagnosisFacts(snapshot: snapshot(telemetry: gpus([0.6, 0.62])), generatorCPUFraction: 0.3, startNanos: 0)
        #expect(rules.evaluate(facts).isEmpty)
    }

    @Test func outOfMemoryAnswersSayWhichBatchSizeFits() throws {
        let snap = snapshot(errors: [("HTTP 507", 12, at: 5)], telemetry: gpus([0.97], source: "engine", modelled: true))
        let batch = BatchMemoryFacts(maxBatchSize: 64, largestFitting: 24, inputTokens: 900, outputTokens: 256)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: snap, batchMemory: batch, startNanos: 0)).first)
        #expect(d.rule == "gpu_out_of_memory" && d.severity == .critical)
        #expect(d.evidence.contains("12 answers said out of memory: \"HTTP 507\""))
        #expect(d.evidence.contains("GPU memory peaked at 97% (modelled) on GPU0"))
        #expect(d.action.contains("max_batch_size 64 -> 24 fits in 80% of the modelled device memory"))
        #expect(d.action.contains("engine.batching.max_batch_size"))
        // CUDA's own words from another server count too; without engine facts, the knobs of the usual servers.
        let other = snapshot(errors: [("check failed: CUDA out of memory. Tried to allocate 2.00 GiB", 3, at: 1)])
        let e = try #require(rules.evaluate(DiagnosisFacts(snapshot: other)).first)
        #expect(e.rule == "gpu_out_of_memory" && e.action.contains("--max-num-seqs"))
    }

    @Test func memoryNearTheEdgeWarnsBeforeAnyOOM() throws {
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: snapshot(telemetry: gpus([0.93])))).first)
        #expect(d.rule == "gpu_out_of_memory" && d.severity == .warning && d.symptom == "GPU memory is near its limit")
        var limits = DiagnosisLimits()
        limits.gpuMemoryFraction = 0.95
        #expect(DiagnosisRules(limits: limits).evaluate(DiagnosisFacts(snapshot: snapshot(telemetry: gpus([0.93])))).isEmpty)
    }

    @Test func failuresAfterMemoryPressureSayTheProcessWasKilled() throws {
        var t = gpus([0.5])
        t.series = [.init(t: 10, source: "dcgm", gpu: "GPU0", usedBytes: 40 * Self.gib, totalBytes: 80 * Self.gib, kvCacheUsage: nil, requestsWaiting: nil),
                    .init(t: 20, source: "dcgm", gpu: "GPU0", usedBytes: 78 * Self.gib, totalBytes: 80 * Self.gib, kvCacheUsage: nil, requestsWaiting: nil)]
        let after = snapshot(errors: [("Couldn't connect to server", 30, at: 22), ("HTTP 503", 5, at: 25)], telemetry: t)
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: after, startNanos: 0)).first { $0.rule == "killed_after_memory_pressure" })
        #expect(d.evidence == ["GPU memory at 98% at 20s (dcgm, GPU0)", "then 35 refused/reset connections or 503s, the first at 22s"])
        // The same failures before the pressure are not this rule's.
        let before = snapshot(errors: [("Couldn't connect to server", 30, at: 5)], telemetry: t)
        #expect(!rulesFired(DiagnosisFacts(snapshot: before, startNanos: 0)).contains("killed_after_memory_pressure"))
    }

    @Test func latencySwingsWithUnevenGPUs() throws {
        let swinging = snapshot(tookMillis: { $0 % 20 == 0 ? 200 : 10 }, telemetry: gpus([0.85, 0.45]))
        let d = try #require(rules.evaluate(DiagnosisFacts(snapshot: swinging)).first { $0.rule == "uneven_gpus" })
        #expect(d.evidence[1] == "GPU memory 85% on GPU0 vs 45% on GPU1 (nvml)")
        #expect(d.action.contains("MIG"))
        // Even GPUs, or steady latency: silent.
        #expect(!rulesFired(DiagnosisFacts(snapshot: snapshot(tookMillis: { $0 % 20 == 0 ? 200 : 10 }, telemetry: gpus([0.8, 0.75])))).contains("uneven_gpus"))
        #expect(!rulesFired(DiagnosisFacts(snapshot: snapshot(telemetry: gpus([0.85, 0.45])))).contains("uneven_gpus"))
    }

    @Test func theMeasurementsOwnValidity() {
        // Requests sent 80 ms after their slot: corrected p99 90 ms vs raw 10 ms.
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(lateMillis: { _ in 80 }))) == ["coordinated_omission"])
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(lagMillis: 15))) == ["generator_behind"])
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(), generatorCPUFraction: 0.95)) == ["generator_cpu"])
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(cutOff: 7))) == ["requests_cut_off"])
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(dropped: 40))) == ["arrivals_dropped"])
        var t = TelemetrySummary()
        t.sources = [.init(name: "http://127.0.0.1:9400/metrics", modelled: false, lastReadSeconds: nil, stale: false, error: "connection refused", reads: 0, failures: 30)]
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(telemetry: t))) == ["telemetry_missing"])
        // No GPU on this machine is not a problem to report.
        t.sources = [.init(name: "local GPUs", modelled: false, lastReadSeconds: nil, stale: false, error: "nvidia-smi not found", reads: 0, failures: 30)]
        #expect(rulesFired(DiagnosisFacts(snapshot: snapshot(telemetry: t))).isEmpty)
    }

    @Test func criticalFirstAndRulesCanBeTurnedOff() {
        let snap = snapshot(errors: [("HTTP 507", 1, at: 1)], lagMillis: 15, cutOff: 2)
        #expect(rulesFired(DiagnosisFacts(snapshot: snap)) == ["gpu_out_of_memory", "generator_behind", "requests_cut_off"])
        var limits = DiagnosisLimits()
        limits.off = ["generator_behind"]
        #expect(DiagnosisRules(limits: limits).evaluate(DiagnosisFacts(snapshot: snap)).map(\.rule) == ["gpu_out_of_memory", "requests_cut_off"])
    }

    @Test func theLiveLogKeepsFirstFiringTimesNewestFirst() {
        var log = DiagnosisLog()
        let a = Diagnosis(rule: "a", severity: .warning, symptom: "", cause: "", evidence: [], action: "")
        let b = Diagnosis(rule: "b", severity: .critical, symptom: "", cause: "", evidence: [], action: "")
        #expect(log.update([a], atSeconds: 3).map(\.firedAtSeconds) == [3])
        let both = log.update([b, a], atSeconds: 9)
        #expect(both.map(\.rule) == ["b", "a"])
        #expect(both.map(\.firedAtSeconds) == [9, 3])
        #expect(log.update([a], atSeconds: 12).first?.firedAtSeconds == 3, "a rule keeps the time it first fired")
    }
}
