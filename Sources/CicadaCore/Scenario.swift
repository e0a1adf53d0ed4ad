/// A validated, ready-to-run load test: what to send, to where, at what load, judged how.
///
/// Produced by the scenario reader from YAML (or built directly in tests); everything in it has
/// already been checked, so the load engine never meets a bad value at run time.
public struct Scenario: Sendable {
    public var name: String
    /// Base URL requests' paths are appended to, e.g. `http://127.0.0.1:8000`.
    public var target: String
    public var headers: [(name: String, value: String)]
    /// Name of the environment variable that holds a bearer token (never the token itself).
    public var bearerTokenEnv: String?
    public var timeouts: Timeouts
    public var http2: Bool
    public var insecure: Bool
    public var load: LoadProfile
    /// Steps each closed-model user runs once before its task loop (Locust's `on_start`).
    public var onStart: [TaskSpec]
    public var tasks: [TaskSpec]
    /// Weighted random choice (Locust's default) or every task in order, looping.
    public var flow: TaskFlow
    public var thresholds: [ThresholdSpec]
    public var seed: UInt64
    /// Prompts for `{{prompt}}`, from the scenario's prompt file; empty when none.
    public var prompts: [String]
    /// Objectives a streamed request must meet to count toward goodput; nil = no goodput.
    public var goodput: GoodputSLO?
    /// What telemetry to poll (GPU memory, server gauges).
    public var telemetry: TelemetrySpec = TelemetrySpec()
    /// The diagnosis rules' thresholds and the rules turned off (`diagnoses:`).
    public var diagnosisLimits = DiagnosisLimits()
    /// The stored baseline the run gates itself against (`baseline:`); nil for none.
    public var baseline: BaselineSpec?
    /// Shared prefixes before each `{{prompt}}` (`prompts.synthetic.prefix`); nil for none.
    public var sharedPrefix: SharedPrefix?
    /// HTTP requests sent once before any load (`before_run`), e.g. a prefix-cache reset.
    public var beforeRun: [HookSpec] = []
    /// HTTP requests sent before each sweep point's load (`before_each_point`).
    public var beforeEachPoint: [HookSpec] = []
    /// The warm-up and cool-down left out of every figure (`warmup:`, `cooldown:`).
    public var measurement = MeasurementWindow()
    /// The model's tokenizer (`tokenizer: tokenizer.json`): counts the output tokens of streams
    /// whose server reports no `usage`; nil: Cicada counts chunks.
    public var tokenizer: BPETokenizer?
    /// Which client sends the requests (`transport:`; `--transport` overrides it).
    public var transport: TransportChoice = .auto
    /// The opt-in consistency probe (`consistency:`); nil for none.
    public var consistency: ConsistencySpec?
    /// The load divided between targets by weight (`split:`, a canary roll-out); nil for none.
    public var split: SplitSpec?

    public init(
        name: String, target: String, headers: [(name: String, value: String)] = [],
        bearerTokenEnv: String? = nil, timeouts: Timeouts = Timeouts(), http2: Bool = false,
        insecure: Bool = false, load: LoadProfile, onStart: [TaskSpec] = [], tasks: [TaskSpec],
        flow: TaskFlow = .weighted, thresholds: [ThresholdSpec] = [], seed: UInt64 = 1,
        prompts: [String] = [], goodput: GoodputSLO? = nil
    ) {
        self.name = name; self.target = target; self.headers = headers
        self.bearerTokenEnv = bearerTokenEnv; self.timeouts = timeouts; self.http2 = http2
        self.insecure = insecure; self.load = load; self.onStart = onStart; self.tasks = tasks
        self.flow = flow; self.thresholds = thresholds; self.seed = seed; self.prompts = prompts
        self.goodput = goodput
    }
}

/// Connect and whole-request timeouts.
public struct Timeouts: Sendable, Equatable {
    public var connect: Duration
    public var request: Duration
    public init(connect: Duration = .seconds(10), request: Duration = .seconds(60)) {
        self.connect = connect; self.request = request
    }
}

/// How a closed-model user chooses its next task.
public enum TaskFlow: String, Sendable, Equatable {
    /// Random choice in proportion to the tasks' weights (Locust `@task(weight)`).
    case weighted
    /// Every task in order, then again from the first (Locust `SequentialTaskSet`).
    case sequential
}

/// One kind of request a user sends.
public struct TaskSpec: Sendable {
    /// Statistics are grouped by this name.
    public var name: String
    public var weight: Int
    public var method: String
    /// Path (and query) appended to the scenario target; may hold templates.
    public var path: Template
    public var headers: [(name: String, value: Template)]
    /// Request body; nil sends none.
    public var body: Template?
    public var checks: [Check]
    /// What protocol the response speaks, so streams can be measured per token.
    public var kind: RequestKind
    /// A weighted list of models (`model: [{name, weight}]`), one picked per request; empty
    /// when the task names one model (or none). Figures are kept per model.
    public var models: [WeightedModel] = []
    /// Multi-turn conversations (`conversations:`): each closed-model user plays one at a time,
    /// turn by turn, sending the history with the server's real answers; empty for a plain task.
    public var conversations: [Conversation] = []

    public init(name: String, weight: Int = 1, method: String = "GET", path: Template,
                headers: [(name: String, value: Template)] = [], body: Template? = nil, checks: [Check] = [],
                kind: RequestKind = .http) {
        self.name = name; self.weight = weight; self.method = method; self.path = path
        self.headers = headers; self.body = body; self.checks = checks; self.kind = kind
    }

    /// Whether any check needs the response body (so the transport keeps it).
    public var needsBody: Bool {
        checks.contains { if case .status = $0 { return false } else { return true } }
    }
}

/// The protocol of a task's request and response.
public enum RequestKind: String, Sendable, Equatable, CaseIterable {
    /// Plain HTTP: latency and checks only.
    case http
    /// The seed service's `POST /predict {"input": ...}`.
    case predict
    /// OpenAI `POST /v1/completions` (streamed when the body asks for it).
    case openAICompletions = "openai-completions"
    /// OpenAI `POST /v1/chat/completions`.
    case openAIChat = "openai-chat"
    /// KServe v2 / Triton `POST /v2/models/{model}/infer` with one BYTES input.
    case kserveV2 = "kserve-v2"
    /// Anthropic's Messages API, `POST /v1/messages` (streamed when the body asks for it).
    case anthropicMessages = "anthropic-messages"

    /// Whether responses may be OpenAI SSE streams (measured per token) or carry `usage`.
    public var isOpenAI: Bool { self == .openAICompletions || self == .openAIChat }

    /// The streaming API whose event streams are measured per token (TTFT, ITL, output tokens),
    /// or nil for a kind whose responses are not token streams.
    public var streamDialect: StreamTiming.Dialect? {
        switch self {
        case .openAICompletions, .openAIChat: return .openAI
        case .anthropicMessages: return .anthropic
        case .http, .predict, .kserveV2: return nil
        }
    }
}

/// Picks tasks in weight ratio with a cumulative table (one random draw per pick).
public struct TaskPicker: Sendable {
    private let cumulative: [Int]
    private let total: Int
    public init(weights: [Int]) {
        var acc = 0
        cumulative = weights.map { acc += max(0, $0); return acc }
        total = acc
    }
    /// The index of the chosen task.
    public func pick(_ rng: inout SeededRandom) -> Int {
        guard total > 0 else { return 0 }
        let r = Int(rng.next() % UInt64(total))
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > r { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
