import ArgumentParser
import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaScenario
import CicadaSession
import Foundation

/// `cicada serve`: runs the embedded inference engine standalone so other tools (Locust, wrk,
/// curl) can hit it.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the embedded inference engine (modelled GPU, dynamic batching, cache) as an HTTP server.",
        discussion: """
        Endpoints: POST /predict, POST /v1/completions, POST /v1/chat/completions (streaming or not),
        GET /v1/models, GET /v1/models/{id}, GET /version, POST /v1/messages (Anthropic's Messages
        API, streaming or not), GET /health, GET /health/ready, GET /metrics,
        GET/PUT /admin/batching (loopback only).
        The GPU is modelled, not real: every device figure is labelled "modelled".
        Every setting can also come from the environment (for containers; a flag wins):
        CICADA_CONFIG, CICADA_HOST, CICADA_PORT, CICADA_GPU, CICADA_MODEL, CICADA_PRECISION,
        CICADA_BATCHING, CICADA_MAX_IN_FLIGHT, CICADA_CACHE_L2, CICADA_ADMIN_TOKEN_ENV, CICADA_SCHEDULER,
        CICADA_MAX_NUM_SEQS, CICADA_MAX_NUM_BATCHED_TOKENS, CICADA_BLOCK_SIZE, CICADA_GPU_MEMORY_UTILIZATION,
        CICADA_CHUNKED_PREFILL (true/false), CICADA_TOKENIZER.
        Tokens are counted with the shipped cicada-tiny tokenizer (models/cicada-tiny in the
        repository: point a client's tokenizer there and its counts equal the engine's usage).
        Deployment files: deploy/Dockerfile and deploy/k8s/.
        """)

    @Option(help: "Engine configuration file (YAML with the keys of a scenario's engine: block).") var config: String?
    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port, 0 picks a free one (default 8000).") var port: Int?
    @Option(help: "Modelled GPU (A10, A30, A100-40GB, A100-80GB, H100-SXM, H200).") var gpu: String?
    @Option(help: "Modelled model (e.g. deepseek-llm-7b).") var model: String?
    @Option(help: "fp16, bf16 or int8.") var precision: String?
    @Option(help: "Batching preset to start with (no-batching, seed, low-latency, throughput).") var batching: String?
    @Option(help: "Environment variable holding a bearer token for /admin.") var adminTokenEnv: String?
    @Option(help: "Most requests held at once (queued, executing or held for ordering); beyond it 503 + Retry-After (default 4096).") var maxInFlight: Int?
    @Option(help: "Scheduler: dynamic (Triton's dynamic batcher, default) or continuous (vLLM-style iteration-level batching).") var scheduler: String?
    @Option(help: "Continuous scheduler: most sequences running at once (vLLM's max_num_seqs, default 256).") var maxNumSeqs: Int?
    @Option(help: "Continuous scheduler: most tokens per iteration (vLLM's max_num_batched_tokens, default 8192).") var maxNumBatchedTokens: Int?
    @Option(help: "Continuous scheduler: tokens per KV block (1, 8, 16, 32, 64, 128; default 16).") var blockSize: Int?
    @Option(help: "Continuous scheduler: fraction of the modelled GPU memory for weights, workspace and KV cache (default 0.9).") var gpuMemoryUtilization: Double?
    @Flag(inversion: .prefixedEnableDisable, help: "Continuous scheduler: split long prompts' prefill across iterations (default on).") var chunkedPrefill: Bool?
    @Flag(inversion: .prefixedEnableDisable, help: "Continuous scheduler: reuse the KV blocks of prompts that start alike (default on, as vLLM V1).") var prefixCaching: Bool?
    @Option(help: "Level-2 result cache on Redis, e.g. redis://127.0.0.1:6379/0 (keys ds_cache:<md5 of the input>).") var cacheL2: String?
    @Option(help: "Event-loop threads for HTTP.") var threads = 1
    @Option(help: "Count tokens with this tokenizer.json (or a folder holding one); 'approximate' for 4 characters per token (default: the built-in cicada-tiny).") var tokenizer: String?
    @Option(help: "Exit after this long (default: until SIGINT/SIGTERM/SIGHUP).") var duration: String?

    /// The engine's tokenizer from `--tokenizer` (or `CICADA_TOKENIZER`): `cicada-tiny` or
    /// `builtin` for the shipped one, `approximate` for 4 characters per token, else a
    /// `tokenizer.json` file or a folder holding one (a Hugging Face model folder).
    static func tokenizer(_ choice: String) throws(SessionError) -> EngineTokenizer {
        switch choice {
        case "builtin", BuiltinTokenizer.name: return .builtin
        case "approximate": return .approximate
        default: break
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: choice, isDirectory: &isDirectory) else {
            throw .usage("error: --tokenizer: \(choice): no such file or folder (or 'cicada-tiny', 'approximate')")
        }
        let file = isDirectory.boolValue ? (choice as NSString).appendingPathComponent("tokenizer.json") : choice
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .usage("error: --tokenizer: cannot read \(file)")
        }
        do { return try EngineTokenizer(name: file, json: Array(data)) } catch {
            throw .usage("error: --tokenizer: \(file): \(error.description)")
        }
    }

    /// Where to listen: the flag, else the environment (`CICADA_HOST`, `CICADA_PORT`), else 127.0.0.1:8000.
    static func address(host: String?, port: Int?, environment env: [String: String]) throws(SessionError) -> (String, Int) {
        let h = host ?? env["CICADA_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        if let port { return (h, port) }
        guard let text = env["CICADA_PORT"], !text.isEmpty else { return (h, 8000) }
        guard let p = Int(text) else { throw .usage("error: CICADA_PORT='\(text)' is not a whole number") }
        return (h, p)
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ name: String) -> String? { flag ?? env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ flag: Int?, _ name: String) throws(SessionError) -> Int? {
            if let flag { return flag }
            guard let text = setting(nil, name) else { return nil }
            guard let n = Int(text) else { throw .usage("error: \(name)='\(text)' is not a whole number") }
            return n
        }
        let config = setting(self.config, "CICADA_CONFIG"), gpu = setting(self.gpu, "CICADA_GPU"), model = setting(self.model, "CICADA_MODEL")
        let batching = setting(self.batching, "CICADA_BATCHING"), precision = setting(self.precision, "CICADA_PRECISION")
        let adminTokenEnv = setting(self.adminTokenEnv, "CICADA_ADMIN_TOKEN_ENV"), cacheL2 = setting(self.cacheL2, "CICADA_CACHE_L2")
        let (host, port) = try Self.address(host: self.host, port: self.port, environment: env)
        let maxInFlight = try number(self.maxInFlight, "CICADA_MAX_IN_FLIGHT")
        guard (0...65535).contains(port) else { throw SessionError.usage("error: port \(port) is not in 0...65535") }
        var engineConfig = EngineConfig()
        if let config {
            do { engineConfig = try ScenarioReader().readEngine(path: config) } catch { throw SessionError.usage(error.description) }
        }
        if let gpu { engineConfig.gpu = gpu }
        if let model { engineConfig.model = model }
        if let batching {
            guard engineConfig.selectPreset(batching) else {
                throw SessionError.usage("error: --batching: unknown preset '\(batching)'; presets: \(engineConfig.presets.map(\.name).joined(separator: ", "))")
            }
        }
        if let maxInFlight {
            guard maxInFlight >= 1 else { throw SessionError.usage("error: --max-in-flight must be at least 1 (got \(maxInFlight))") }
            engineConfig.maxInFlight = maxInFlight
        }
        var token: String?
        if let env = adminTokenEnv {
            guard let t = ProcessInfo.processInfo.environment[env], !t.isEmpty else { throw SessionError.usage("error: --admin-token-env: \(env) is not set") }
            token = t
        }
        let limit = try parseLimit(duration)
        if let precision {
            guard let p = Precision(rawValue: precision.lowercased()) else {
                throw SessionError.usage("error: unknown precision '\(precision)' (fp16, bf16, int8)")
            }
            engineConfig.precision = p
        }
        try applySchedulerFlags(to: &engineConfig)
        if let cacheL2 {
            let (l2, problem) = RedisL2Config.parse(url: cacheL2)
            guard let l2 else { throw SessionError.usage("error: --cache-l2: \(problem ?? "not a redis:// URL")") }
            // A config file's l2 block keeps its ttl, prefix and timeout; the URL replaces where.
            var merged = engineConfig.l2 ?? l2
            merged.host = l2.host; merged.port = l2.port; merged.database = l2.database
            merged.username = l2.username; merged.password = l2.password
            engineConfig.l2 = merged
        }
        if let choice = setting(self.tokenizer, "CICADA_TOKENIZER") { engineConfig.tokenizer = try Self.tokenizer(choice) }
        engineConfig.host = host
        engineConfig.port = port
        engineConfig.adminToken = token
        installStopSignalHandlers()
        let server: EngineServer
        do { server = try EngineServer(config: engineConfig, threads: threads) } catch { throw SessionError.usage("error: \(error.description)") }
        do { try server.start() } catch { throw SessionError.tool("cannot listen on \(host):\(port): \(error)") }
        let l2Note = engineConfig.l2.map { ", level-2 cache redis://\($0.host):\($0.port)/\($0.database)" } ?? ""
        let schedulerText = engineConfig.scheduler == .continuous
            ? (server.stats.continuous?.summaryLine.trimmingCharacters(in: .whitespaces) ?? "scheduler: continuous")
            : "batching preset \(engineConfig.presetName ?? "custom")"
        printError("cicada engine listening on \(server.baseURL): \(server.stats.deviceLabel), \(schedulerText)\(l2Note), tokens counted with \(engineConfig.tokenizer.name)")
        waitForStop(limit: limit)
        printError("draining: readiness is 503, in-flight requests finish")
        server.drainAndStop()
        let s = server.stats
        printError("served \(s.requestsByOutcome.values.reduce(0, +)) requests (\(s.requestsByOutcome.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
    }

    /// `--scheduler` and the continuous scheduler's flags (or, for each flag not given, its
    /// `CICADA_*` environment variable: `CICADA_SCHEDULER`, `CICADA_MAX_NUM_SEQS`,
    /// `CICADA_MAX_NUM_BATCHED_TOKENS`, `CICADA_BLOCK_SIZE`, `CICADA_GPU_MEMORY_UTILIZATION`,
    /// `CICADA_CHUNKED_PREFILL` true/false) over the configuration file's values; the
    /// continuous settings need the continuous scheduler.
    func applySchedulerFlags(to c: inout EngineConfig, environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        func text(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number<T: LosslessStringConvertible>(_ flag: T?, _ name: String) throws -> T? {
            if let flag { return flag }
            guard let t = text(name) else { return nil }
            guard let v = T(t) else { throw SessionError.usage("error: \(name)='\(t)' is not a number") }
            return v
        }
        if let scheduler = scheduler ?? text("CICADA_SCHEDULER") {
            guard let k = EngineScheduler(rawValue: scheduler.lowercased()) else {
                throw SessionError.usage("error: --scheduler: unknown scheduler '\(scheduler)' (dynamic, continuous)")
            }
            c.scheduler = k
        }
        let seqs: Int? = try number(maxNumSeqs, "CICADA_MAX_NUM_SEQS")
        let tokens: Int? = try number(maxNumBatchedTokens, "CICADA_MAX_NUM_BATCHED_TOKENS")
        let block: Int? = try number(blockSize, "CICADA_BLOCK_SIZE")
        let util: Double? = try number(gpuMemoryUtilization, "CICADA_GPU_MEMORY_UTILIZATION")
        var chunked = chunkedPrefill
        if chunked == nil, let t = text("CICADA_CHUNKED_PREFILL") {
            switch t.lowercased() {
            case "true", "1", "yes", "on": chunked = true
            case "false", "0", "no", "off": chunked = false
            default: throw SessionError.usage("error: CICADA_CHUNKED_PREFILL='\(t)' is not true or false")
            }
        }
        let given = [("--max-num-seqs", seqs != nil), ("--max-num-batched-tokens", tokens != nil), ("--block-size", block != nil),
                     ("--gpu-memory-utilization", util != nil), ("--[no-]chunked-prefill", chunked != nil), ("--enable/--disable-prefix-caching", prefixCaching != nil)].filter(\.1).map(\.0)
        if let flag = given.first, c.scheduler != .continuous {
            throw SessionError.usage("error: \(flag) applies to the continuous scheduler only; add --scheduler continuous")
        }
        if let v = seqs { c.continuous.maxNumSeqs = v }
        if let v = tokens { c.continuous.maxNumBatchedTokens = v }
        if let v = block { c.continuous.blockSize = v }
        if let v = util { c.continuous.gpuMemoryUtilization = v }
        if let v = chunked { c.continuous.chunkedPrefill = v }
        if let v = prefixCaching { c.continuous.prefixCaching = v }
        if c.scheduler == .continuous, let problem = c.continuous.validate().first {
            throw SessionError.usage("error: \(problem)")
        }
    }
}
