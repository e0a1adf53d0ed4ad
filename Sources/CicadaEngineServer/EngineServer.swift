import CicadaCore
import CicadaEngine
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The embedded inference engine as an HTTP/1.1 server on 127.0.0.1 (by default).
///
/// Endpoints: `POST /predict` (the seed service's API), `POST /v1/completions` and
/// `POST /v1/chat/completions` (OpenAI-compatible, streaming or not), `GET /health`,
/// `GET /health/ready` (503 while draining), `GET /metrics` (Prometheus text),
/// `GET`/`PUT /admin/batching` (loopback only without an admin token; with one, the token from anyone),
/// `GET /v1/models`, `GET /v1/models/{id}` and `GET /version` (as vLLM answers them), and
/// `POST /v1/messages` (Anthropic's Messages API, streaming or not).
/// Every figure it reports about the GPU is modelled and labelled so.
public final class EngineServer: Sendable {
    public let config: EngineConfig
    let group: MultiThreadedEventLoopGroup
    let runtime: EngineRuntime
    private let channel = Mutex<Channel?>(nil)
    let draining = Atomic<Bool>(false)
    /// When the server was made, in seconds since 1970: the `created` of its model in `GET /v1/models`.
    let createdAt = Int(Date().timeIntervalSince1970)

    /// An engine configuration that cannot run (unknown GPU or model, bad batching).
    public struct ConfigError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Builds the engine; nothing listens until ``start()``.
    public init(config: EngineConfig, threads: Int = 1) throws(ConfigError) {
        let problems = config.batching.validate()
        guard problems.isEmpty else { throw ConfigError(description: "batching: " + problems.joined(separator: "; ")) }
        let device: DeviceModel
        do { device = try DeviceModel(gpu: config.gpu, model: config.model, precision: config.precision.rawValue) } catch {
            throw ConfigError(description: "\(error)")
        }
        if config.scheduler == .continuous {
            let problems = config.continuous.validate() + config.continuous.schedulerConfig(on: device).validate()
            guard problems.isEmpty else { throw ConfigError(description: "continuous scheduler: " + problems.joined(separator: "; ")) }
        }
        self.config = config
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        runtime = EngineRuntime(config: config, device: device, loop: group.next())
    }

    /// Starts listening; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let server = self
        let ch = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap { ch.pipeline.addHandler(EngineHTTPHandler(server: server)) }
            }
            .bind(host: config.host, port: config.port).wait()
        channel.withLock { $0 = ch }
        return ch.localAddress?.port ?? config.port
    }

    /// `http://host:port` once started.
    public var baseURL: String {
        let port = channel.withLock { $0?.localAddress?.port } ?? config.port
        return "http://\(config.host):\(port)"
    }

    /// The engine's counters and gauges now.
    public var stats: EngineStats { runtime.published.withLock { $0 } }

    /// The batch-size advice of the out-of-memory diagnosis: the largest batch of the run's
    /// typical request (mean input and output tokens so far) that fits in `fitFraction` of the
    /// modelled device memory. Nil before any request ran.
    public func batchMemoryFacts(fitFraction: Double) -> BatchMemoryFacts? {
        let s = stats
        // A continuous engine preempts instead of running out of memory: no batch advice.
        guard s.inferences > 0, s.continuous == nil else { return nil }
        let input = Int((Double(s.inputTokensTotal) / Double(s.inferences)).rounded())
        let output = max(1, Int((Double(s.outputTokensTotal) / Double(s.inferences)).rounded()))
        let device = runtime.device
        var fitting: Int?
        for b in stride(from: max(s.batching.maxBatchSize, 1), through: 1, by: -1) {
            let use = device.memory(for: Array(repeating: (inputTokens: input, outputTokens: output), count: b))
            if use.fraction <= fitFraction { fitting = b; break }
        }
        return BatchMemoryFacts(maxBatchSize: s.batching.maxBatchSize, largestFitting: fitting, inputTokens: input, outputTokens: output)
    }

    /// Changes the batching configuration live (what `PUT /admin/batching` does).
    public func reconfigure(_ batching: BatcherConfig) throws(ConfigError) {
        let problems = batching.validate()
        guard problems.isEmpty else { throw ConfigError(description: problems.joined(separator: "; ")) }
        let rt = runtime
        if rt.loop.inEventLoop { rt.reconfigure(batching) } else { try? rt.loop.submit { rt.reconfigure(batching) }.wait() }
    }

    /// Changes a continuous engine's `max_num_seqs` and `max_num_batched_tokens` live (the KV
    /// cache keeps the size it was given at start). A dynamic engine refuses.
    public func reconfigureContinuous(maxNumSeqs: Int, maxNumBatchedTokens: Int) throws(ConfigError) {
        guard config.scheduler == .continuous else { throw ConfigError(description: "the engine runs the dynamic batcher, not the continuous scheduler") }
        var settings = config.continuous
        settings.maxNumSeqs = maxNumSeqs
        settings.maxNumBatchedTokens = maxNumBatchedTokens
        let problems = settings.validate()
        guard problems.isEmpty else { throw ConfigError(description: problems.joined(separator: "; ")) }
        let rt = runtime
        if rt.loop.inEventLoop { rt.reconfigureContinuous(maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens) } else {
            try? rt.loop.submit { rt.reconfigureContinuous(maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens) }.wait()
        }
    }

    /// Whether ``drainAndStop(timeout:)`` has begun: readiness answers 503 from then on.
    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Readiness goes 503, in-flight requests finish (up to `timeout`), then the server stops.
    public func drainAndStop(timeout: Duration = .seconds(30)) {
        draining.store(true, ordering: .releasing)
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.nanos))
        while NIODeadline.now() < deadline {
            let s = stats
            if s.queueSize == 0 && s.executing == 0 { break }
            usleepCompat(20_000)
        }
        stop()
    }

    /// Stops at once.
    public func stop() {
        let ch = channel.withLock { c in let x = c; c = nil; return x }
        try? ch?.close().wait()
        try? group.syncShutdownGracefully()
    }
}

#if canImport(Glibc)
import Glibc
func usleepCompat(_ us: UInt32) { usleep(us) }
#endif
