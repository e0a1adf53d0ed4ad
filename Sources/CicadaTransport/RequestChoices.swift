import CicadaCore

/// What both transports decide for a request before rendering it, once for both: its
/// template context (prompts, shared prefix), the model of a weighted model list, a replayed
/// trace's prompt and `max_tokens`, and the measurement window's phase.
struct RequestChoices {
    /// The context the request's path, body and headers are rendered with.
    var context: Template.Context
    /// The breakdown group of the model picked from a weighted list (-1: none).
    var modelGroup = -1
    /// The breakdown group of a `split:` run's member (-1: none).
    var splitGroup = -1
    /// Whether the request counts (warm-up, cool-down), fixed by its intended start.
    var phase: MeasurementPhase = .measured
}

/// A replayed trace and the hash-id blocks a worker has built for it.
struct WorkerTrace {
    /// Open model: the replayed trace, if any (its arrivals' prompts and `max_tokens`).
    let trace: ArrivalTrace?
    /// The trace's hash id blocks this worker has built (16 MB at most).
    var blocks = BlockCache(maxBytes: 16 << 20)

    init(plan: RunPlan) {
        if case .open(let o) = plan.scenario.load { trace = o.trace } else { trace = nil }
    }
}

extension ScheduledWorker {
    /// The choices for one request of `ref` by `user` (`seq`, `slot` < 0 for an open-model
    /// arrival), drawing the model from `rng` (before anything else the request draws).
    func requestChoices(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, rng: inout SeededRandom) -> RequestChoices {
        var ctx = Template.Context(user: user, seq: seq, prompts: plan.scenario.prompts)
        ctx.sharedPrefix = plan.scenario.sharedPrefix
        var choices = RequestChoices(context: ctx)
        if case .task(let i) = ref, let picker = plan.modelPickers[i] {
            let m = picker.pick(&rng)
            choices.context.model = plan.scenario.tasks[i].models[m].name
            choices.modelGroup = plan.breakdown.modelGroups[i][m]
        }
        if slot < 0, let trace = schedule.trace.trace {
            choices.context.promptOverride = trace.prompt(seq, seed: plan.scenario.seed, cache: &schedule.trace.blocks)
            choices.context.maxTokens = trace.maxTokens(seq)
        }
        choices.phase = control.phase(in: plan, intendedNanos: intended, startNanos: startNanos)
        return choices
    }
}

/// A `split:` run's seeded chooser (``SplitChooser``), rebuilt when the live weights'
/// generation moves.
struct WorkerSplit {
    var chooser: SplitChooser?
    var generation = -1
}

extension ScheduledWorker {
    /// The split member (index in `split.members`) of the request `seq` of `user` (an
    /// open-model arrival when `slot < 0`, whose `seq` is its index in the schedule). The live
    /// weights are re-read only when their generation moved (one atomic load per request
    /// otherwise).
    func splitMember(user: Int, seq: UInt64, slot: Int) -> Int {
        let spec = plan.scenario.split!
        let generation = control.splitGeneration
        if schedule.split.chooser == nil || generation != schedule.split.generation {
            schedule.split.generation = generation
            schedule.split.chooser = SplitChooser(weights: control.splitWeights ?? spec.weights, baseline: spec.baselineIndex, seed: plan.scenario.seed)
        }
        let chooser = schedule.split.chooser!
        return slot < 0 ? chooser.pick(arrival: seq) : chooser.pick(user: UInt64(truncatingIfNeeded: user), request: seq)
    }
}
