import CicadaCore

/// A `split:` run's choice of target for each request (``SplitChooser``), on libcurl's worker.
extension LoadWorker {
    /// Picks the member of the request `seq` of `user` (an open-model arrival when `slot < 0`,
    /// whose `seq` is its index in the schedule), points ``currentBase`` at the member's target
    /// and returns the member's breakdown group. The live weights are re-read only when their
    /// generation moved (one atomic load per request otherwise).
    func chooseSplitMember(user: Int, seq: UInt64, slot: Int) -> Int {
        let spec = plan.scenario.split!
        let generation = control.splitGeneration
        if splitChooser == nil || generation != splitGeneration {
            splitGeneration = generation
            splitChooser = SplitChooser(weights: control.splitWeights ?? spec.weights, baseline: spec.baselineIndex, seed: plan.scenario.seed)
        }
        let m = slot < 0 ? splitChooser!.pick(arrival: seq) : splitChooser!.pick(user: UInt64(truncatingIfNeeded: user), request: seq)
        currentBase = splitBases[m]
        return plan.breakdown.firstSplitGroup + m
    }
}
