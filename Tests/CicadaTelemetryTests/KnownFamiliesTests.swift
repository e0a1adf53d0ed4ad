import CicadaCore
import Foundation
import Testing

@testable import CicadaTelemetry

private let mib: UInt64 = 1_048_576

private func reading(_ text: String, source: TelemetrySource? = nil, time: UInt64 = 7) throws -> TelemetryReading {
    KnownFamilies.reading(from: try PrometheusText.parse(text), source: source, timeNanos: time)
}

private func fixtureReading(_ name: String) throws -> TelemetryReading {
    try reading(Fixture.text(name))
}

@Suite("KnownFamilies: DCGM")
struct KnownFamiliesDCGMTests {
    @Test("framebuffer MiB become bytes; total is used + free + reserved; % becomes 0...1; MIG kept apart")
    func synth() throws {
        let r = try fixtureReading("dcgm_synth_current.prom")
        #expect(r.source == .dcgm)
        #expect(!r.modelled)
        #expect(r.timeNanos == 7)
        #expect(r.sourceRefreshInterval == .seconds(30))
        #expect(r.gpus.count == 2)
        let gpu0 = r.gpus[0]
        #expect(gpu0 == GPUReading(
            index: 0, uuid: "GPU-11111111-2222-3333-4444-555555555555", name: "NVIDIA H100 80GB HBM3",
            memoryUsedBytes: 78560 * mib, memoryTotalBytes: (78560 + 2104 + 831) * mib, memoryFreeBytes: 2104 * mib,
            memoryReservedBytes: 831 * mib, utilization: 0.97, powerWatts: 512.37))
        let gpu1 = r.gpus[1]
        #expect(gpu1.index == 1)
        #expect(gpu1.migInstanceID == "7")
        #expect(gpu1.memoryUsedBytes == 4 * mib)
        #expect(gpu1.memoryTotalBytes == 9729 * mib)
        #expect(gpu1.utilization == 0)
        #expect(gpu1.powerWatts == 118.2)
        #expect(r.server.isEmpty)
        let fraction = try #require(gpu0.memoryUsedFraction)
        #expect(abs(fraction - 78560.0 / 81495.0) < 1e-12)
    }

    @Test("blank sentinels are absent, never 0, and a blank part leaves the total unknown")
    func blanks() throws {
        let text = """
        # TYPE DCGM_FI_DEV_FB_USED gauge
        DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-a"} 9223372036854775794
        DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-b"} 100
        # TYPE DCGM_FI_DEV_FB_FREE gauge
        DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-a"} 500
        DCGM_FI_DEV_FB_FREE{gpu="1",UUID="GPU-b"} 900
        # TYPE DCGM_FI_DEV_FB_RESERVED gauge
        DCGM_FI_DEV_FB_RESERVED{gpu="0",UUID="GPU-a"} 0
        DCGM_FI_DEV_FB_RESERVED{gpu="1",UUID="GPU-b"} 9223372036854775792
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a"} 9223372036854775795
        DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b"} 50
        # TYPE DCGM_FI_DEV_POWER_USAGE gauge
        DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a"} 140737488355328.000000
        DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-b"} 70.5
        """
        let r = try reading(text)
        let a = r.gpus[0], b = r.gpus[1]
        #expect(a.memoryUsedBytes == nil)
        #expect(a.memoryFreeBytes == 500 * mib)
        #expect(a.memoryTotalBytes == nil)
        #expect(a.utilization == nil)
        #expect(a.powerWatts == nil)
        #expect(a.memoryUsedFraction == nil)
        #expect(b.memoryReservedBytes == nil)
        #expect(b.memoryTotalBytes == nil)
        #expect(b.utilization == 0.5)
        #expect(b.powerWatts == 70.5)
    }

    @Test("sentinel arithmetic: 9223372036854775792 and above are blank, 2^63 - 1024 is not")
    func sentinel() {
        #expect(KnownFamilies.isDCGMBlank(Double(Int64(9_223_372_036_854_775_792))))
        #expect(KnownFamilies.isDCGMBlank(Double(Int64.max)))
        #expect(!KnownFamilies.isDCGMBlank(9_223_372_036_854_774_784))
        #expect(!KnownFamilies.isDCGMBlank(81559))
        #expect(KnownFamilies.isDCGMBlankDouble(140_737_488_355_328))
        #expect(!KnownFamilies.isDCGMBlankDouble(700.25))
    }

    @Test("an exporter without FB_RESERVED: total is used + free")
    func olderExporter() throws {
        let r = try reading("DCGM_FI_DEV_FB_USED{gpu=\"0\"} 1000\nDCGM_FI_DEV_FB_FREE{gpu=\"0\"} 3000\n")
        #expect(r.gpus == [GPUReading(index: 0, memoryUsedBytes: 1000 * mib, memoryTotalBytes: 4000 * mib, memoryFreeBytes: 3000 * mib)])
    }

    @Test("the README capture maps no GPU figure but keeps its families")
    func readme() throws {
        let r = try fixtureReading("dcgm.prom")
        #expect(r.source == .dcgm)
        #expect(r.gpus.isEmpty)
        #expect(r.unknownFamilies.map(\.name) == ["DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_TEMP"])
        #expect(r.family(named: "DCGM_FI_DEV_SM_CLOCK")?.samples.first?.value == 139)
    }
}

@Suite("KnownFamilies: Triton, vLLM, TGI, SGLang, engine")
struct KnownFamiliesServerTests {
    @Test("Triton: bytes and a 0...1 ratio keyed by gpu_uuid; free stays absent")
    func triton() throws {
        let r = try fixtureReading("triton.prom")
        #expect(r.source == .triton)
        #expect(r.gpus == [GPUReading(
            uuid: "GPU-e35ba3d2-6eef-2bb9-e35c-6ef6eada4f11", memoryUsedBytes: 400_000_000,
            memoryTotalBytes: 1_000_000_000, utilization: 0.5, powerWatts: 20)])
        #expect(r.gpus[0].memoryFreeBytes == nil)
        #expect(r.gpus[0].memoryUsedFraction == 0.4)
        #expect(r.sourceRefreshInterval == nil)
        #expect(r.family(named: "nv_gpu_power_limit")?.samples.first?.value == 280)
    }

    @Test("vLLM V1 capture: running requests; no KV gauge and no waiting gauge stay nil")
    func vllm() throws {
        let r = try fixtureReading("vllm.prom")
        #expect(r.source == .vllm)
        #expect(r.server == ServerGauges(requestsRunning: 8))
        #expect(r.gpus.isEmpty)
        #expect(r.family(named: "vllm:time_to_first_token_seconds")?.histograms.first?.count == 140)
        #expect(r.unknownFamilies.map(\.name).contains("vllm:time_to_first_token_seconds"))
        #expect(!r.unknownFamilies.map(\.name).contains("vllm:num_requests_running"))
    }

    @Test("vLLM before 0.9: gpu_cache_usage_perc is the KV-cache fill")
    func vllmLegacy() throws {
        let r = try fixtureReading("vllm_v0_legacy.prom")
        #expect(r.server == ServerGauges(kvCacheUsage: 0, requestsRunning: 0, requestsWaiting: 0))
    }

    @Test("vLLM 0.9+: kv_cache_usage_perc wins over the old name; series summed, KV fill the largest")
    func vllmNewName() throws {
        let text = """
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.42
        vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.17
        # TYPE vllm:gpu_cache_usage_perc gauge
        vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.99
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="m"} 3.0
        vllm:num_requests_running{engine="1",model_name="m"} 5.0
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{engine="0",model_name="m"} 2.0
        vllm:num_requests_waiting{engine="1",model_name="m"} NaN
        """
        let r = try reading(text)
        #expect(r.server == ServerGauges(kvCacheUsage: 0.42, requestsRunning: 8, requestsWaiting: 2))
    }

    @Test("TGI: queue and current batch size")
    func tgi() throws {
        let r = try fixtureReading("tgi_synth.prom")
        #expect(r.source == .tgi)
        #expect(r.server == ServerGauges(queueSize: 6, batchSize: 4))
        #expect(r.family(named: "tgi_request_queue_duration")?.histograms.first?.count == 120)
    }

    @Test("SGLang: token usage, running and queued requests")
    func sglang() throws {
        let r = try fixtureReading("sglang.prom")
        #expect(r.source == .sglang)
        #expect(r.server == ServerGauges(kvCacheUsage: 0.28, requestsRunning: 162, requestsWaiting: 2826))
    }

    @Test("Cicada's engine: modelled device memory and queue, marked modelled")
    func engine() throws {
        let text = """
        # HELP cicada_engine_queue_size Requests waiting in the dynamic batcher's queue.
        # TYPE cicada_engine_queue_size gauge
        cicada_engine_queue_size 3
        # TYPE cicada_engine_device_memory_used_bytes gauge
        cicada_engine_device_memory_used_bytes{gpu="H100-SXM",model="llama-3-8b",precision="fp16",modelled="true"} 17179869184
        # TYPE cicada_engine_device_memory_total_bytes gauge
        cicada_engine_device_memory_total_bytes{gpu="H100-SXM",model="llama-3-8b",precision="fp16",modelled="true"} 85899345920
        """
        let r = try reading(text)
        #expect(r.source == .engineModelled)
        #expect(r.modelled)
        #expect(r.gpus == [GPUReading(name: "H100-SXM", memoryUsedBytes: 17_179_869_184, memoryTotalBytes: 85_899_345_920)])
        #expect(r.server == ServerGauges(queueSize: 3))
    }

    @Test("a modelled=\"true\" label marks the reading modelled whatever the source")
    func modelledLabel() throws {
        let r = try reading("nv_gpu_memory_used_bytes{gpu_uuid=\"GPU-x\",modelled=\"true\"} 5\n", source: .triton)
        #expect(r.modelled)
        #expect(try !reading("nv_gpu_memory_used_bytes{gpu_uuid=\"GPU-x\"} 5\n").modelled)
    }

    @Test("sources are detected from family names", arguments: [
        ("dcgm.prom", TelemetrySource.dcgm), ("dcgm_server_test.prom", .prometheus), ("dcgm_synth_current.prom", .dcgm),
        ("sglang.prom", .sglang), ("tgi_synth.prom", .tgi), ("triton.prom", .triton), ("triton_docs_summary.prom", .triton),
        ("vllm.prom", .vllm), ("vllm_v0_legacy.prom", .vllm),
    ])
    func detection(name: String, source: TelemetrySource) throws {
        #expect(try KnownFamilies.detectSource(PrometheusText.parse(Fixture.text(name))) == source)
    }

    @Test("an unknown endpoint keeps every family by name")
    func unknown() throws {
        let r = try fixtureReading("dcgm_server_test.prom")
        #expect(r.source == .prometheus)
        #expect(r.gpus.isEmpty && r.server.isEmpty)
        #expect(r.family(named: "TEST_METRIC")?.samples.first?.value == 42)
        #expect(r.unknownFamilies.map(\.name) == ["TEST_METRIC"])
    }

    @Test("the newest sample timestamp among mapped families is kept")
    func timestamps() throws {
        let text = "vllm:num_requests_running 1 1700000000000\nvllm:num_requests_waiting 2 1700000000500\nother 3 1800000000000\n"
        #expect(try reading(text).sourceTimestampMillis == 1_700_000_000_500)
        #expect(try reading("vllm:num_requests_running 1\n").sourceTimestampMillis == nil)
    }

    @Test("impossible memory values (negative, NaN, infinite) are absent")
    func impossible() throws {
        let text = """
        nv_gpu_memory_used_bytes{gpu_uuid="GPU-a"} -1
        nv_gpu_memory_total_bytes{gpu_uuid="GPU-a"} NaN
        nv_gpu_memory_used_bytes{gpu_uuid="GPU-b"} +Inf
        """
        let r = try reading(text)
        #expect(r.gpus.map(\.memoryUsedBytes) == [nil, nil])
        #expect(r.gpus[0].memoryTotalBytes == nil)
    }
}

@Suite("TelemetryReading: freshness")
struct TelemetryReadingTests {
    @Test("age counts from the reading's time; the worst case adds the source's refresh interval")
    func freshness() {
        let dcgm = TelemetryReading(source: .dcgm, timeNanos: 1_000_000_000, sourceRefreshInterval: .seconds(30))
        #expect(dcgm.age(nowNanos: 3_000_000_000) == .seconds(2))
        #expect(dcgm.worstCaseAge(nowNanos: 3_000_000_000) == .seconds(32))
        #expect(dcgm.isFresh(nowNanos: 3_000_000_000, maxAge: .seconds(60)))
        #expect(!dcgm.isFresh(nowNanos: 3_000_000_000, maxAge: .seconds(10)))
        let nvml = TelemetryReading(source: .nvml, timeNanos: 1_000_000_000)
        #expect(nvml.worstCaseAge(nowNanos: 3_000_000_000) == .seconds(2))
        #expect(nvml.isFresh(nowNanos: 3_000_000_000, maxAge: .seconds(2)))
        #expect(nvml.age(nowNanos: 0) == .zero)
    }

    @Test("source names are the ones users see")
    func names() {
        #expect(TelemetrySource.allCases.map(\.rawValue) == [
            "nvml", "nvidia-smi", "dcgm", "triton", "vllm", "tgi", "sglang", "engine-modelled", "prometheus",
        ])
    }
}
