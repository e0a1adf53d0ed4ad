/// A scenario compiled for execution: stat names resolved to indexes, secrets resolved,
/// constant templates pre-rendered. Shared read-only by every worker.
public struct RunPlan: Sendable {
    public let scenario: Scenario
    /// Stat names in order: tasks first, then `on_start` steps not already named by a task.
    public let statNames: [String]
    /// HTTP method per stat name (of the first task with that name).
    public let statMethods: [String]
    /// Stat index of each task and each on_start step.
    public let taskStat: [Int]
    public let onStartStat: [Int]
    /// Headers sent with every request, with the bearer token already resolved.
    public let headers: [(name: String, value: String)]
    /// The target with no trailing slash.
    public let baseURL: String
    public let picker: TaskPicker
    /// Per-turn and per-model groups, and each task's weighted-model picker.
    public let breakdown: Breakdown
    public let modelPickers: [TaskPicker?]
    /// `--requests-out`: which requests the workers keep a ``RequestRecord`` of; nil for none.
    public var requestSampling: RequestSampling?

    /// A plan could not be made (e.g. the token's environment variable is unset).
    public struct PlanError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Compiles `scenario`, reading the bearer token from `environment`.
    public init(scenario: Scenario, environment: [String: String]) throws(PlanError) {
        self.scenario = scenario
        var names: [String] = []
        var methods: [String] = []
        func index(_ t: TaskSpec) -> Int {
            if let i = names.firstIndex(of: t.name) { return i }
            names.append(t.name); methods.append(t.method)
            return names.count - 1
        }
        taskStat = scenario.tasks.map(index)
        onStartStat = scenario.onStart.map(index)
        statNames = names
        statMethods = methods
        var headers = scenario.headers
        if let env = scenario.bearerTokenEnv {
            guard let token = environment[env], !token.isEmpty else {
                throw PlanError(description: "auth: environment variable \(env) is not set (the scenario takes its bearer token from it)")
            }
            headers.append((name: "Authorization", value: "Bearer \(token)"))
        }
        self.headers = headers
        var base = scenario.target
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        picker = TaskPicker(weights: scenario.tasks.map(\.weight))
        breakdown = Breakdown(tasks: scenario.tasks, split: scenario.split)
        modelPickers = scenario.tasks.map { $0.models.isEmpty ? nil : TaskPicker(weights: $0.models.map(\.weight)) }
    }
}
