import Foundation
import Testing

@testable import CicadaTelemetry

@Suite("PrometheusText: the real captures")
struct PrometheusCaptureTests {
    @Test("every capture parses, with its header as comments", arguments: Fixture.allPrometheus)
    func everyCaptureParses(name: String) throws {
        let exposition = try PrometheusText.parse(Fixture.text(name))
        #expect(!exposition.families.isEmpty)
        // Headers are comments: no family is named after header words.
        #expect(exposition.family(named: "SOURCE") == nil)
        #expect(exposition.familyNames.allSatisfy { !$0.isEmpty })
    }

    @Test("family and sample counts per capture", arguments: [
        ("dcgm.prom", 3, 3), ("dcgm_server_test.prom", 1, 1), ("dcgm_synth_current.prom", 25, 50),
        ("sglang.prom", 12, 91), ("tgi_synth.prom", 9, 56), ("triton.prom", 15, 6),
        ("triton_docs_summary.prom", 3, 9), ("vllm.prom", 4, 14), ("vllm_v0_legacy.prom", 14, 29), ("cadvisor_written.prom", 3, 9),
    ])
    func counts(name: String, families: Int, samples: Int) throws {
        let exposition = try PrometheusText.parse(Fixture.text(name))
        #expect(exposition.families.count == families)
        #expect(exposition.sampleCount == samples)
    }

    @Test("dcgm.prom: HELP/TYPE before samples, a space after the comma, the blank sentinel kept as data")
    func dcgmReadme() throws {
        let exposition = try PrometheusText.parse(Fixture.text("dcgm.prom"))
        #expect(exposition.familyNames == ["DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_TEMP"])
        let clock = try #require(exposition["DCGM_FI_DEV_SM_CLOCK"])
        #expect(clock.type == .gauge)
        #expect(clock.help == "SM clock frequency (in MHz).")
        #expect(clock.samples == [PrometheusSample(
            name: "DCGM_FI_DEV_SM_CLOCK",
            labels: [.init(name: "gpu", value: "0"), .init(name: "UUID", value: "GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52")],
            value: 139)])
        let temp = try #require(exposition["DCGM_FI_DEV_MEMORY_TEMP"]?.samples.first)
        #expect(temp.value == Double(Int64(9_223_372_036_854_775_794)))
        #expect(KnownFamilies.isDCGMBlank(temp.value))
    }

    @Test("dcgm_server_test.prom: empty HELP with a trailing space, an empty label value")
    func dcgmServerTest() throws {
        let family = try #require(try PrometheusText.parse(Fixture.text("dcgm_server_test.prom"))["TEST_METRIC"])
        #expect(family.help == "")
        #expect(family.type == .gauge)
        let sample = try #require(family.samples.first)
        #expect(sample.value == 42)
        #expect(sample.label("pci_bus_id") == "")
        #expect(sample.label("modelName") == "NVIDIA T400 4GB")
        #expect(sample.labels.map(\.name) == ["gpu", "UUID", "pci_bus_id", "device", "modelName", "hostname"])
    }

    @Test("dcgm_synth_current.prom: counters, %f values, MIG and pod labels")
    func dcgmSynth() throws {
        let exposition = try PrometheusText.parse(Fixture.text("dcgm_synth_current.prom"))
        let energy = try #require(exposition["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"])
        #expect(energy.type == .counter)
        #expect(energy.samples.map(\.value) == [912_345_678_901, 123_456_789_012])
        #expect(exposition["DCGM_FI_DEV_POWER_USAGE"]?.samples.first?.value == 512.37)
        let mig = try #require(exposition["DCGM_FI_DEV_FB_USED"]?.samples.last)
        #expect(mig.label("GPU_I_PROFILE") == "1g.10gb")
        #expect(mig.label("pod") == "vllm-small-0")
        #expect(mig.value == 4)
        #expect(exposition.families.filter { $0.type == .counter }.count == 5)
    }

    @Test("tgi_synth.prom: TYPE without HELP, a 36-bucket histogram and a summary grouped under their families")
    func tgi() throws {
        let exposition = try PrometheusText.parse(Fixture.text("tgi_synth.prom"))
        #expect(exposition["tgi_queue_size"]?.help == nil)
        #expect(exposition["tgi_request_success"]?.help == "Number of successful requests")
        #expect(exposition["tgi_request_failure"]?.samples.map { $0.label("err") } == ["validation", "overloaded"])
        let duration = try #require(exposition["tgi_request_queue_duration"])
        #expect(duration.type == .histogram)
        #expect(exposition["tgi_request_queue_duration_bucket"] == nil)
        let histogram = try #require(duration.histograms.first)
        #expect(duration.histograms.count == 1)
        #expect(histogram.buckets.count == 36)
        #expect(histogram.buckets.first == .init(upperBound: 0.00015000000000000001, cumulativeCount: 0))
        #expect(histogram.buckets.last == .init(upperBound: .infinity, cumulativeCount: 120))
        #expect(histogram.sum == 4.206974750457548)
        #expect(histogram.count == 120)
        let skipped = try #require(exposition["tgi_request_skipped_tokens"])
        #expect(skipped.type == .summary)
        let summary = try #require(skipped.summaries.first)
        #expect(summary.quantiles.map(\.quantile) == [0, 0.5, 0.9, 0.95, 0.99, 0.999, 1])
        #expect(summary.count == 120)
        #expect(summary.sum == 0)
    }

    @Test("triton.prom: families without samples, HELP text kept as written, %f values")
    func triton() throws {
        let exposition = try PrometheusText.parse(Fixture.text("triton.prom"))
        #expect(exposition.families.filter { $0.samples.isEmpty }.count == 9)
        #expect(exposition["nv_inference_request_success"]?.help == "Number of successfulinference requests, all batch sizes")
        #expect(exposition["nv_inference_request_success"]?.type == .counter)
        #expect(exposition["nv_gpu_power_limit"]?.samples.first?.value == 280)
        #expect(exposition["nv_gpu_utilization"]?.samples.first?.label("gpu_uuid") == "GPU-e35ba3d2-6eef-2bb9-e35c-6ef6eada4f11")
        #expect(exposition["nv_energy_consumption"]?.samples.first?.value == 1474.042)
    }

    @Test("triton_docs_summary.prom: _count and _sum before quantiles, untyped samples after")
    func tritonSummary() throws {
        let exposition = try PrometheusText.parse(Fixture.text("triton_docs_summary.prom"))
        #expect(exposition.familyNames == ["nv_inference_queue_summary_us", "nv_inference_request_success", "nv_inference_queue_duration_us"])
        let family = try #require(exposition["nv_inference_queue_summary_us"])
        let summary = try #require(family.summaries.first)
        #expect(family.summaries.count == 1)
        #expect(summary.labels == [.init(name: "model", value: "my_model"), .init(name: "version", value: "1")])
        #expect(summary.count == 161)
        #expect(summary.sum == 11110)
        #expect(summary.quantiles == [
            .init(quantile: 0.5, value: 55), .init(quantile: 0.9, value: 97), .init(quantile: 0.95, value: 98),
            .init(quantile: 0.99, value: 101), .init(quantile: 0.999, value: 101),
        ])
        #expect(exposition["nv_inference_request_success"]?.type == .untyped)
        #expect(exposition["nv_inference_request_success"]?.samples.first?.value == 161)
    }

    @Test("vllm.prom: names with colons, le before model_name, a histogram without _sum or +Inf")
    func vllm() throws {
        let exposition = try PrometheusText.parse(Fixture.text("vllm.prom"))
        #expect(exposition["vllm:num_requests_running"]?.samples.first?.value == 8)
        #expect(exposition["vllm:request_success_total"]?.samples.map(\.value) == [1, 131, 0])
        let ttft = try #require(exposition["vllm:time_to_first_token_seconds"])
        let histogram = try #require(ttft.histograms.first)
        #expect(histogram.labels == [.init(name: "model_name", value: "meta-llama/Llama-3.1-8B-Instruct")])
        #expect(histogram.buckets.map(\.upperBound) == [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1])
        #expect(histogram.buckets.map(\.cumulativeCount) == [0, 0, 0, 13, 97, 123, 138, 140])
        #expect(histogram.sum == nil)
        #expect(histogram.count == 140)
    }

    @Test("vllm_v0_legacy.prom: TYPE without HELP, empty label values, exponent values, a cut histogram")
    func vllmLegacy() throws {
        let exposition = try PrometheusText.parse(Fixture.text("vllm_v0_legacy.prom"))
        let config = try #require(exposition["vllm:cache_config_info"])
        #expect(config.help == nil)
        #expect(config.samples.first?.label("num_gpu_blocks") == "81767")
        #expect(config.samples.first?.labels.count == 12)
        let lora = try #require(exposition["vllm:lora_requests_info"]?.samples.first)
        #expect(lora.value == 1.7382173358407154e+09)
        #expect(lora.label("running_lora_adapters") == "")
        #expect(exposition["vllm:gpu_prefix_cache_hit_rate"]?.samples.first?.value == -1)
        let iterations = try #require(exposition["vllm:iteration_tokens_total"]?.histograms.first)
        #expect(iterations.sum == 1103)
        #expect(iterations.count == nil)
        #expect(iterations.buckets.count == 15)
        #expect(iterations.buckets.last?.upperBound == 96)
    }

    @Test("sglang.prom: _sum before buckets, exponents in bucket counts, four histograms")
    func sglang() throws {
        let exposition = try PrometheusText.parse(Fixture.text("sglang.prom"))
        #expect(exposition["sglang:prompt_tokens_total"]?.samples.first?.value == 8_128_902)
        #expect(exposition.families.filter { $0.type == .histogram }.count == 4)
        let tpot = try #require(exposition["sglang:time_per_output_token_seconds"]?.histograms.first)
        #expect(tpot.buckets.count == 19)
        #expect(tpot.buckets.last?.cumulativeCount == 7_400_757)
        #expect(tpot.count == 7_400_757)
        #expect(tpot.sum == 866964.5791549598)
        let ttft = try #require(exposition["sglang:time_to_first_token_seconds"]?.histograms.first)
        // Cumulative counts never decrease.
        #expect(zip(ttft.buckets, ttft.buckets.dropFirst()).allSatisfy { $0.cumulativeCount <= $1.cumulativeCount })
        #expect(exposition["sglang:func_latency_seconds"]?.histograms.first?.labels == [.init(name: "name", value: "generate_request")])
    }
}

@Suite("PrometheusText: the format")
struct PrometheusFormatTests {
    @Test("label value escapes: backslash, quote, newline")
    func labelEscapes() throws {
        let text = #"m{path="C:\\dir\\f",quote="say \"hi\"",nl="a\nb",plain="x"} 1"#
        let sample = try #require(try PrometheusText.parse(text)["m"]?.samples.first)
        #expect(sample.label("path") == #"C:\dir\f"#)
        #expect(sample.label("quote") == #"say "hi""#)
        #expect(sample.label("nl") == "a\nb")
        #expect(sample.label("plain") == "x")
    }

    @Test("HELP escapes: \\\\ and \\n resolved, other backslashes kept")
    func helpEscapes() throws {
        let text = #"# HELP m Line one\nline two, a backslash \\ and \d kept"# + "\n# TYPE m gauge\nm 1\n"
        #expect(try PrometheusText.parse(text)["m"]?.help == "Line one\nline two, a backslash \\ and \\d kept")
    }

    @Test("blanks around braces, equals signs and commas; a trailing comma; empty braces")
    func blanks() throws {
        let text = "a{ x = \"1\" ,\ty=\"2\", } 3\nb{} 4\nc\t5\n   d 6\n"
        let exposition = try PrometheusText.parse(text)
        #expect(exposition["a"]?.samples.first?.labels == [.init(name: "x", value: "1"), .init(name: "y", value: "2")])
        #expect(exposition["a"]?.samples.first?.value == 3)
        #expect(exposition["b"]?.samples.first?.labels == [])
        #expect(exposition["c"]?.samples.first?.value == 5)
        #expect(exposition["d"]?.samples.first?.value == 6)
    }

    @Test("special values and exponents", arguments: [
        ("NaN", Double.nan), ("nan", .nan), ("+Inf", .infinity), ("-Inf", -.infinity), ("Inf", .infinity),
        ("+infinity", .infinity), ("1e3", 1000), ("-1.5E-3", -0.0015), ("2.", 2), (".5", 0.5), ("+7", 7), ("0", 0),
    ])
    func values(text: String, expected: Double) throws {
        let value = try #require(try PrometheusText.parse("m \(text)")["m"]?.samples.first?.value)
        if expected.isNaN {
            #expect(value.isNaN)
        } else {
            #expect(value == expected)
        }
    }

    @Test("timestamps: integer milliseconds, negative allowed")
    func timestamps() throws {
        let exposition = try PrometheusText.parse("a 1 1700000000123\nb 2 -5\nc 3\n")
        #expect(exposition["a"]?.samples.first?.timestampMillis == 1_700_000_000_123)
        #expect(exposition["b"]?.samples.first?.timestampMillis == -5)
        #expect(exposition["c"]?.samples.first?.timestampMillis == nil)
    }

    @Test("comments, blank lines, CRLF line ends and a missing final newline")
    func commentsAndLineEnds() throws {
        let text = "# just a comment\r\n\r\n#TYPEWRITER is a comment\r\n# HELP m Help.\r\n# TYPE m counter\r\nm 1\r\n  \r\nn 2"
        let exposition = try PrometheusText.parse(text)
        #expect(exposition.familyNames == ["m", "n"])
        #expect(exposition["m"]?.help == "Help.")
        #expect(exposition["m"]?.type == .counter)
        #expect(exposition["n"]?.samples.first?.value == 2)
    }

    @Test("an empty text has no families")
    func empty() throws {
        #expect(try PrometheusText.parse("").families.isEmpty)
        #expect(try PrometheusText.parse("\n\n# only comments\n").families.isEmpty)
    }

    @Test("untyped _count and _bucket samples stay families of their own")
    func untypedSuffixes() throws {
        let exposition = try PrometheusText.parse("x_count 1\nx_bucket{le=\"1\"} 2\n")
        #expect(exposition.familyNames == ["x_count", "x_bucket"])
        #expect(exposition["x_count"]?.type == .untyped)
    }

    @Test("a family's samples may be split by others; TYPE names are case-insensitive; 'unknown' is untyped")
    func interleaved() throws {
        let text = "# TYPE a GAUGE\n# TYPE u unknown\na{k=\"1\"} 1\nb 2\na{k=\"2\"} 3\nu 4\n"
        let exposition = try PrometheusText.parse(text)
        #expect(exposition["a"]?.samples.map(\.value) == [1, 3])
        #expect(exposition["a"]?.type == .gauge)
        #expect(exposition["u"]?.type == .untyped)
    }

    @Test("UTF-8 in label values and HELP")
    func utf8() throws {
        let exposition = try PrometheusText.parse("# HELP m Größe in µs\nm{name=\"模型\"} 1\n")
        #expect(exposition["m"]?.help == "Größe in µs")
        #expect(exposition["m"]?.samples.first?.label("name") == "模型")
    }

    @Test("bytes and text parse the same")
    func bytes() throws {
        let text = try Fixture.text("vllm_v0_legacy.prom")
        #expect(try PrometheusText.parse(bytes: Array(text.utf8)) == PrometheusText.parse(text))
    }

    @Test("a large scrape parses in one pass with every sample kept")
    func large() throws {
        var text = "# HELP big_metric A large family.\n# TYPE big_metric gauge\n"
        let count = 100_000
        text.reserveCapacity(count * 80)
        for i in 0..<count {
            text += "big_metric{gpu=\"\(i % 8)\",UUID=\"GPU-\(i % 8)\",series=\"\(i)\"} \(i).5\n"
        }
        let exposition = try PrometheusText.parse(text)
        let family = try #require(exposition["big_metric"])
        #expect(family.samples.count == count)
        #expect(family.samples.last?.value == Double(count - 1) + 0.5)
        #expect(family.samples.last?.label("series") == "\(count - 1)")
    }
}

@Suite("PrometheusText: malformed input")
struct PrometheusMalformedTests {
    @Test("errors name the line and what is wrong", arguments: [
        ("m{a=\"open} 1", 1, "unterminated label value"),
        ("ok 1\nm{a=\"x\" 1", 2, "expected ',' or '}' after the value of label a"),
        ("ok 1\n\nm{a=\"x\",", 3, "unterminated label set"),
        ("m{a=\"x\\q\"} 1", 1, "invalid escape sequence '\\q'"),
        ("m{a=\"x\\", 1, "unterminated label value"),
        ("m{1a=\"x\"} 1", 1, "invalid label name"),
        ("m{a \"x\"} 1", 1, "expected '=' after label name a"),
        ("m{a=x} 1", 1, "expected '\"' to open the value of label a"),
        ("m{a=\"1\",a=\"2\"} 1", 1, "duplicate label a"),
        ("m", 1, "sample m has no value"),
        ("m{a=\"1\"}", 1, "sample m has no value"),
        ("m abc", 1, "invalid value 'abc' for sample m"),
        ("m 1.2.3x", 1, "invalid value '1.2.3x'"),
        ("m 1 12.5", 1, "invalid timestamp '12.5'"),
        ("m 1 2 3", 1, "unexpected text '3' after the timestamp"),
        ("1m 1", 1, "expected a metric name, found '1'"),
        ("m-x 1", 1, "invalid character '-' in metric name m"),
        ("{a=\"b\"} 1", 1, "expected a metric name, found '{'"),
        ("# TYPE m gauge\n# TYPE m counter", 2, "second TYPE line for m"),
        ("# HELP m a\n# HELP m b", 2, "second HELP line for m"),
        ("m 1\n# TYPE m gauge", 2, "TYPE line for m comes after its samples"),
        ("# TYPE m gauges", 1, "unknown metric type 'gauges' for m"),
        ("# TYPE m", 1, "TYPE line for m has no type"),
        ("# TYPE m gauge extra", 1, "unexpected text after the type"),
        ("# HELP", 1, "HELP line has no metric name"),
        ("# TYPE 9m gauge", 1, "invalid metric name in TYPE line"),
        ("# TYPE h histogram\nh 1", 2, "must end in _bucket, _sum or _count"),
        ("# TYPE h histogram\nh_bucket 1", 2, "has no 'le' label"),
        ("# TYPE h histogram\nh_bucket{le=\"big\"} 1", 2, "invalid 'le' value 'big'"),
        ("# TYPE s summary\ns 1", 2, "has no 'quantile' label"),
        ("# TYPE s summary\ns{quantile=\"x\"} 1", 2, "invalid 'quantile' value 'x'"),
    ])
    func malformed(text: String, line: Int, message: String) {
        #expect {
            _ = try PrometheusText.parse(text)
        } throws: { error in
            guard let error = error as? PrometheusParseError else { return false }
            return error.line == line && error.message.contains(message)
        }
    }

    @Test("the description reads 'PrometheusParseError: line N: message'")
    func description() throws {
        let text = String(repeating: "ok 1\n", count: 11) + "m{gpu=\"0} 1\n"
        do {
            _ = try PrometheusText.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 12)
            #expect(String(describing: error).hasPrefix("PrometheusParseError: line 12: unterminated label value"))
        }
    }

    @Test("invalid UTF-8 in a label value is an error, not a replacement character")
    func invalidUTF8() {
        let bytes = Array("m{a=\"".utf8) + [0xFF, 0xFE] + Array("\"} 1\n".utf8)
        #expect(throws: PrometheusParseError(line: 1, message: "value of label a in sample m is not valid UTF-8")) {
            _ = try PrometheusText.parse(bytes: bytes)
        }
    }

    @Test("a truncated capture fails on its last line")
    func truncated() throws {
        let text = try Fixture.text("dcgm_synth_current.prom")
        let cut = String(text.prefix(through: text.firstIndex(of: "{")!))
        let lines = cut.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect {
            _ = try PrometheusText.parse(cut)
        } throws: { error in
            (error as? PrometheusParseError)?.line == lines
        }
    }
}
