import CicadaEngineServer
import CicadaRunner
import CicadaTelemetry

/// One load a session runs: the whole run, or one variant of a comparison.
public final class SessionLane: @unchecked Sendable {
    /// The scenario's name for a run, the variant's for a comparison.
    public let name: String
    /// What the load goes to (a run's target description, a variant's configuration).
    public let config: String
    /// Whether the others are compared against this one (always true for a single run).
    public let isBaseline: Bool
    /// The load.
    public let run: LoadRun
    /// The embedded engine this lane's load goes to, if the session started one.
    public let engine: EngineServer?
    /// What the session polls for this lane's telemetry while it runs.
    public let telemetry: [TelemetryEndpoint]

    init(name: String, config: String, isBaseline: Bool, run: LoadRun, engine: EngineServer?, telemetry: [TelemetryEndpoint]) {
        self.name = name; self.config = config; self.isBaseline = isBaseline; self.run = run; self.engine = engine; self.telemetry = telemetry
    }
}
