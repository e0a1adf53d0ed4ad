import CicadaCore
import CicadaTransport

extension RunSession {
    /// Refuses `--repeat` values and combinations that cannot work (exit 2), before any load.
    static func checkRepeat(_ request: SessionRequest, comparing: Bool) throws(SessionError) {
        guard request.repeatCount >= 1 else { throw .usage("error: --repeat \(request.repeatCount): give a count of 1 or more") }
        guard request.repeatCount > 1 else { return }
        if comparing { throw .usage("error: --repeat runs one scenario K times; it does not apply to a compare: block (its variants already run side by side)") }
        if !request.shard.isSingle || request.shardOut != nil {
            throw .usage("error: --repeat does not apply to a shard of a distributed run (--shard, --out); repeat the whole distributed run instead")
        }
    }

    /// The single run's result: the scenario run `--repeat` times back to back (once by
    /// default), pooled when more than once, with confidence intervals on its figures.
    ///
    /// Every repetition runs the scenario's seed, so each sends the same schedule and the same
    /// requests: what differs between repetitions is the server and the machine, which is
    /// what a gate comparing two builds needs to allow for. The scenario's `before_run` hooks
    /// are sent again before each repetition after the first, so each starts as a single run
    /// does. A stop signal, a quit or an aborting threshold ends the repetitions there.
    func runRepeated(shouldStop: @escaping @Sendable () -> Bool, output: SessionOutput, quiet: Bool) throws -> RunResult {
        let run = lanes[0].run
        let k = max(1, request.repeatCount)
        var results: [RunResult] = []
        for i in 0..<k {
            if i > 0 {
                if !quiet { output.log("cicada: repetition \(i + 1) of \(k) (seed \(scenario.seed))") }
                let plan = run.plan
                for hook in plan.scenario.beforeRun {
                    let status = try HTTPHook.send(hook, base: plan.baseURL, headers: plan.headers, insecure: plan.scenario.insecure)
                    if !quiet { output.log("cicada: before_run \(hook.method) \(hook.url(base: plan.baseURL)) -> HTTP \(status)") }
                }
                // The previous repetition ended the load: let this one start again, with its
                // own warm-up.
                run.control.rearm()
            } else if k > 1, !quiet {
                output.log("cicada: repetition 1 of \(k) (seed \(scenario.seed))")
            }
            let r = try run.run(shouldStop: shouldStop)
            results.append(r)
            if r.stopReason != .completed { break }
        }
        var out = results.count == 1 && k == 1
            ? results[0]
            : RepeatedRuns.pooled(results, seeds: Array(repeating: scenario.seed, count: results.count), thresholds: run.thresholds)
        out.computeIntervals(repetitions: results, seed: scenario.seed)
        return out
    }
}
