import CicadaCore
import CicadaEngineServer
import CicadaScenario

/// A `split:` run (a canary roll-out): one engine per embedded-engine member before the load
/// (the per-member figures and verdict are built in `run` once the load is over).
extension RunSession {
    /// Starts an embedded engine for each member that names one, points the member at it, and
    /// makes the baseline member's target the run's. Refuses the flags that name another target.
    static func prepareSplit(_ document: ScenarioDocument, scenario: inout Scenario, request: SessionRequest, servers: Servers) throws(SessionError) {
        guard var split = scenario.split else { return }
        if request.overrides.target != nil {
            throw .usage("error: --target does not apply to a split run: each target in \(request.file)'s split: block names its own")
        }
        if request.startEngine || request.localTargetServiceTime != nil {
            throw .usage("error: --engine and --local-target do not apply to a split run: each target in \(request.file)'s split: block names its own target or engine")
        }
        // The fast transport keeps a connection pool per member, over plain http:// only.
        if scenario.transport == .fast, let m = split.members.first(where: { $0.target.lowercased().hasPrefix("https:") }) {
            throw .usage("error: --transport fast cannot carry this run: TLS (https://) needs libcurl (split member \(m.name)); use --transport curl or auto")
        }
        for i in split.members.indices {
            let name = split.members[i].name
            guard let config = document.splitEngines[name] else { continue }
            let server = try servers.startEngine(configProblem: "error: split target '\(name)': engine: ",
                                                 startProblem: "cannot start the embedded engine for split target '\(name)': ") { config }
            split.members[i].target = server.baseURL
        }
        scenario.split = split
        scenario.target = split.members[split.baselineIndex].target
    }

    /// What a split run's dashboard header names: `split stable 90 / canary 10`.
    static func splitTitle(_ split: SplitSpec) -> String {
        "split " + split.members.map { "\($0.name) \($0.weight)" }.joined(separator: " / ")
    }
}
