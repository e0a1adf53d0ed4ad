import CicadaCore

/// A `split:` run's choice of target for each request (``SplitChooser``), on libcurl's worker.
extension LoadWorker {
    /// Picks the member of the request `seq` of `user` (``ScheduledWorker/splitMember``),
    /// points ``currentBase`` at the member's target and returns the member's breakdown group.
    /// The member's slot in the step window is ``splitStepSlot(member:)``.
    func chooseSplitMember(user: Int, seq: UInt64, slot: Int) -> (group: Int, stepSlot: Int) {
        let m = splitMember(user: user, seq: seq, slot: slot)
        currentBase = splitBases[m]
        return (plan.breakdown.firstSplitGroup + m, splitStepSlot(member: m))
    }
}
