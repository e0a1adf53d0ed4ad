import Testing
@testable import CicadaCore

@Suite struct ThresholdParsingTests {
    @Test func k6Grammar() throws {
        let t = try Threshold(ThresholdSpec("p(99)<100ms"))
        #expect(t.metric == .latency && t.aggregate == .percentile(99) && t.op == .lt && t.bound == 100 && t.task == nil)
        let bare = try Threshold(ThresholdSpec("avg<=200"))
        #expect(bare.aggregate == .avg && bare.op == .le && bare.bound == 200)
        let secs = try Threshold(ThresholdSpec("max < 1.5s"))
        #expect(secs.bound == 1500)
        let k6 = try Threshold(ThresholdSpec("http_req_duration.p(95)<200"))
        #expect(k6.metric == .latency && k6.aggregate == .percentile(95))
        let failed = try Threshold(ThresholdSpec("http_req_failed.rate<0.01"))
        #expect(failed.metric == .errorRate && failed.bound == 0.01)
    }

    @Test func cicadaExtensions() throws {
        let q = try Threshold(ThresholdSpec("qps>=500"))
        #expect(q.metric == .qps && q.op == .ge && q.bound == 500)
        let e = try Threshold(ThresholdSpec("error_rate<1%"))
        #expect(e.metric == .errorRate && e.bound == 0.01)
        let task = try Threshold(ThresholdSpec("predict: p(95)<80ms"))
        #expect(task.task == "predict" && task.bound == 80)
        let w = try Threshold(ThresholdSpec("p(99)<100ms over 30s"))
        #expect(w.windowSeconds == 30)
        let ttfb = try Threshold(ThresholdSpec("ttfb.med<5ms"))
        #expect(ttfb.metric == .ttfb && ttfb.aggregate == .med)
    }

    @Test(arguments: [
        ("p(99)", "no comparison"),
        ("p(101)<1", "unknown aggregate"),
        ("p99<100ms", "did you mean"),
        ("latncy.p(99)<1", "did you mean 'latency'"),
        ("error_rate<5", "did you mean 5%"),
        ("p(99)<fast", "not a duration"),
        ("p(99)<100ms over soon", "window"),
    ])
    func errorsSayWhy(expr: String, fragment: String) {
        do {
            _ = try Threshold(ThresholdSpec(expr))
            Issue.record("\(expr) parsed")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }
}

@Suite struct ThresholdEvaluationTests {
    func snapshot(latenciesMillis: [Double], failures: Int = 0, seconds: Double = 10) -> Snapshot {
        var s = RequestStats()
        for (i, ms) in latenciesMillis.enumerated() {
            s.record(RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: UInt64(ms * 1e6), ttfbMicros: nil,
                                    status: i < failures ? 500 : 200, failure: i < failures ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0))
        }
        return Snapshot(elapsed: .fromSeconds(seconds), names: ["predict"], methods: ["POST"], perStat: [s], total: s,
                        windows: [10: WindowStats(span: .seconds(10), perStat: [s], total: s)], defaultWindowSeconds: 10,
                        errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: .init(),
                        targetUsers: nil, targetRate: nil, measuredSeconds: seconds)
    }

    @Test func passesAndFailsOnMeasuredValues() throws {
        let snap = snapshot(latenciesMillis: Array(repeating: 10, count: 99) + [250], failures: 1)
        #expect(try Threshold(ThresholdSpec("p(50)<20ms")).evaluate(snap).passed)
        #expect(!(try Threshold(ThresholdSpec("p(99.5)<100ms")).evaluate(snap).passed))
        #expect(try Threshold(ThresholdSpec("max>=250")).evaluate(snap).passed)
        #expect(try Threshold(ThresholdSpec("qps>=10")).evaluate(snap).passed)
        #expect(!(try Threshold(ThresholdSpec("qps>10")).evaluate(snap).passed))
        #expect(try Threshold(ThresholdSpec("error_rate<=1%")).evaluate(snap).passed)
        #expect(!(try Threshold(ThresholdSpec("error_rate<1%")).evaluate(snap).passed))
        #expect(try Threshold(ThresholdSpec("predict: count==100")).evaluate(snap).passed)
        #expect(try Threshold(ThresholdSpec("p(99)<300ms over 10s")).evaluate(snap).passed)
    }

    @Test func noDataFailsAndSaysSo() throws {
        let snap = snapshot(latenciesMillis: [])
        let r = try Threshold(ThresholdSpec("p(99)<100ms")).evaluate(snap)
        #expect(!r.passed)
        #expect(r.measuredText == "no data")
        let unknownTask = try Threshold(ThresholdSpec("other: p(99)<100ms")).evaluate(snapshot(latenciesMillis: [1]))
        #expect(!unknownTask.passed)
        let unkeptWindow = try Threshold(ThresholdSpec("p(99)<100ms over 60s")).evaluate(snapshot(latenciesMillis: [1]))
        #expect(!unkeptWindow.passed)
    }
}
