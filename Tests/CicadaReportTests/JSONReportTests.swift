import CicadaCore
import CicadaReport
import Foundation
import Testing

@Suite struct JSONReportTests {
    func parse(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any])
    }

    func object(_ any: Any?) throws -> [String: Any] { try #require(any as? [String: Any]) }
    func array(_ any: Any?) throws -> [Any] { try #require(any as? [Any]) }
    func isNull(_ any: Any?) -> Bool { any is NSNull }

    @Test func topLevelKeysInOrder() throws {
        let text = JSONReport().render(Fixture.result())
        let keys = ["schema", "scenario", "target", "model", "started_at", "duration_s", "stop_reason", "abort_threshold", "passed",
                    "workers", "transport", "generator_cpu_s", "totals", "latency_ms", "schedule_lag_ms", "dropped", "cut_off", "measurement_window", "requests_out", "tasks", "thresholds",
                    "diagnoses", "consistency", "errors", "timeline", "events", "llm", "telemetry",
                    "breakdown", "split", "confidence", "repetitions"]
        // Top-level keys are indented by exactly two spaces.
        let found = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { String($0.dropFirst(3).prefix { $0 != "\"" }) }
        #expect(found == keys)
        #expect(Set(try parse(text).keys) == Set(keys))
        #expect(text.hasSuffix("}\n"))
    }

    @Test func headerValues() throws {
        let doc = try parse(JSONReport().render(Fixture.result()))
        #expect(doc["schema"] as? String == "cicada.report/v1")
        #expect(doc["scenario"] as? String == "checkout")
        #expect(doc["target"] as? String == "http://127.0.0.1:8080")
        #expect(doc["model"] as? String == "closed: 10 users, wait constant(1s)")
        #expect(doc["started_at"] as? String == "2023-11-14T22:13:20.250Z")
        #expect(doc["duration_s"] as? Double == 60)
        #expect(doc["stop_reason"] as? String == "completed")
        #expect(isNull(doc["abort_threshold"]))
        #expect(doc["passed"] as? Bool == false)
        #expect(doc["workers"] as? Int == 2)
        #expect(doc["generator_cpu_s"] as? Double == 3)
        #expect(doc["dropped"] as? Int == 0)
    }

    @Test func abortedRun() throws {
        let doc = try parse(JSONReport().render(Fixture.result(stopReason: .thresholdAbort("p(99)<100ms"))))
        #expect(doc["stop_reason"] as? String == "threshold_abort")
        #expect(doc["abort_threshold"] as? String == "p(99)<100ms")
        let interrupted = try parse(JSONReport().render(Fixture.emptyResult()))
        #expect(interrupted["stop_reason"] as? String == "interrupted")
    }

    @Test func totals() throws {
        let totals = try object(try parse(JSONReport().render(Fixture.result()))["totals"])
        #expect(totals["requests"] as? Int == 13)
        #expect(totals["failures"] as? Int == 2)
        #expect(totals["error_rate"] as? Double == 0.154)
        #expect(totals["qps"] as? Double == 0.217)
        #expect(totals["bytes_in"] as? Int == 806)
        #expect(totals["bytes_out"] as? Int == 260)
        let kinds = try object(totals["failures_by_kind"])
        #expect(kinds.count == FailureKind.allCases.count)
        #expect(kinds["http_5xx"] as? Int == 2)
        #expect(kinds["timeout"] as? Int == 0)
        let codes = try object(totals["status_codes"])
        #expect(codes["200"] as? Int == 11)
        #expect(codes["503"] as? Int == 2)
    }

    @Test func latencies() throws {
        let doc = try parse(JSONReport().render(Fixture.result()))
        let latency = try object(doc["latency_ms"])
        let corrected = try object(latency["corrected"])
        #expect(corrected.keys.sorted() == ["count", "max", "mean", "min", "p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p99_9", "p99_99"].sorted())
        #expect(corrected["min"] as? Double == 0.5)
        #expect(corrected["max"] as? Double == 123.456)
        #expect(corrected["p99"] as? Double == 123.456)
        #expect(corrected["count"] as? Int == 13)
        let raw = try object(latency["raw"])
        #expect(raw["max"] as? Double == 23.456)
        let ttfb = try object(latency["ttfb"])
        #expect(ttfb["count"] as? Int == 10)
        let lag = try object(doc["schedule_lag_ms"])
        #expect(lag["p50"] as? Double == 0.05)
        #expect(lag["max"] as? Double == 0.9)
    }

    @Test func emptyHistogramIsNullNotZero() throws {
        let doc = try parse(JSONReport().render(Fixture.result()))
        let tasks = try array(doc["tasks"])
        #expect(tasks.count == 2)
        let health = try object(tasks[1])
        #expect(health["name"] as? String == "health")
        #expect(health["method"] as? String == "GET")
        #expect(health["requests"] as? Int == 3)
        #expect(health["qps"] as? Double == 0.05)
        let ttfb = try object(try object(health["latency_ms"])["ttfb"])
        for key in ["min", "mean", "p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p99_9", "p99_99", "max"] {
            #expect(isNull(ttfb[key]), "\(key)")
        }
        #expect(ttfb["count"] as? Int == 0)

        let empty = try parse(JSONReport().render(Fixture.emptyResult()))
        let totals = try object(empty["totals"])
        #expect(isNull(totals["error_rate"]))
        #expect(isNull(totals["qps"]))
        #expect(isNull(try object(empty["schedule_lag_ms"])["p99"]))
        #expect(try array(empty["thresholds"]).isEmpty)
        #expect(try array(empty["timeline"]).isEmpty)
        #expect(empty["started_at"] as? String == "1970-01-01T00:00:00.000Z")
    }

    @Test func thresholds() throws {
        let list = try array(try parse(JSONReport().render(Fixture.result()))["thresholds"])
        #expect(list.count == 4)
        let p99 = try object(list[0])
        #expect(p99["expression"] as? String == "p(99)<100ms")
        #expect(p99["passed"] as? Bool == false)
        #expect(p99["measured"] as? Double == 123.456)
        #expect(p99["measured_text"] as? String == "123.5ms")
        #expect(p99["abort_on_fail"] as? Bool == true)
        #expect(p99["unit"] as? String == "ms")
        let rate = try object(list[1])
        #expect(rate["unit"] as? String == "ratio")
        #expect(rate["measured"] as? Double == 0.154)
        let noData = try object(list[3])
        #expect(isNull(noData["measured"]))
        #expect(noData["measured_text"] as? String == "no data")
    }

    @Test func errorsRelativeToStartWhenKnown() throws {
        let with = try array(try parse(JSONReport(startNanos: Fixture.startNanos).render(Fixture.result()))["errors"])
        #expect(with.count == 2)
        let first = try object(with[0])
        #expect(first["method"] as? String == "POST")
        #expect(first["name"] as? String == "predict")
        #expect(first["message"] as? String == "HTTP 503")
        #expect(first["occurrences"] as? Int == 2)
        #expect(first["first_seen_s"] as? Double == 9.123)
        #expect(first["last_seen_s"] as? Double == 9.623)
        #expect(try object(with[1])["message"] as? String == "bad \"json\", line 1")

        let without = try object(try array(try parse(JSONReport().render(Fixture.result()))["errors"])[0])
        #expect(isNull(without["first_seen_s"]) && isNull(without["last_seen_s"]))
        #expect(without["occurrences"] as? Int == 2)
    }

    @Test func timelineAndEvents() throws {
        let doc = try parse(JSONReport().render(Fixture.result()))
        let timeline = try array(doc["timeline"])
        let p0 = try object(timeline[0])
        #expect(p0["t"] as? Double == 1 && p0["users"] as? Int == 10 && p0["qps"] as? Double == 2.5)
        #expect(p0["failures_per_s"] as? Double == 0 && p0["p50_ms"] as? Double == 1.2 && p0["p95_ms"] as? Double == 4 && p0["p99_ms"] as? Double == 8)
        #expect(isNull(try object(timeline[1])["p99_ms"]))
        let event = try object(try array(doc["events"])[0])
        #expect(event["t"] as? Double == 1.5 && event["kind"] as? String == "users" && event["detail"] as? String == "10 users running")
    }

    @Test func stringsAreEscaped() throws {
        var r = Fixture.result()
        r.scenarioName = "quote \" backslash \\ newline \n tab \t bell \u{7}"
        let doc = try parse(JSONReport().render(r))
        #expect(doc["scenario"] as? String == r.scenarioName)
    }
}
