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
    /// Its member's slot in the split step window it was chosen in (-1: none).
    var splitStepSlot = -1
    /// The conversation turn the request carries (key -1: none).
    var turn = ChatTurn()
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
        if case .task(let i) = ref { choices.turn = beginTurn(task: i, user: user, slot: slot, context: &choices.context, rng: &rng) }
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
    /// The step window the chooser's weights opened (0 before any live shift), capped at
    /// ``SplitSpec/maxStepWindows`` − 1.
    var step = 0
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
            let state = control.splitState
            schedule.split.step = min(state.step, SplitSpec.maxStepWindows - 1)
            schedule.split.chooser = SplitChooser(weights: state.weights ?? spec.weights, baseline: spec.baselineIndex, seed: plan.scenario.seed)
        }
        let chooser = schedule.split.chooser!
        return slot < 0 ? chooser.pick(arrival: seq) : chooser.pick(user: UInt64(truncatingIfNeeded: user), request: seq)
    }

    /// Member `member`'s slot in the step window the last ``splitMember`` choice was made in
    /// (``RequestOutcome/splitStepSlot``).
    func splitStepSlot(member: Int) -> Int { schedule.split.step * plan.scenario.split!.members.count + member }
}

/// The multi-turn conversations a worker's users are in, by user slot and task, each with the
/// user holding the slot (a new user in the slot starts afresh).
struct WorkerChats {
    var byKey: [Int: (user: Int, state: ConversationState)] = [:]
}

/// The conversation turn a request carries: its key in ``WorkerChats`` (-1: none), the user's
/// text of this turn and the turn's breakdown group.
struct ChatTurn {
    var key = -1
    var userText = ""
    var turnGroup = -1
}

extension ScheduledWorker {
    /// Task `i`'s conversation for the user in `slot` (closed model only): it goes on where it
    /// stopped, or a new one starts (drawn from `rng`); the history goes into `ctx`.
    func beginTurn(task i: Int, user: Int, slot: Int, context ctx: inout Template.Context, rng: inout SeededRandom) -> ChatTurn {
        // Nothing is copied for a task without conversations (a TaskSpec copy costs a retain
        // and a release of each of its fields, per request).
        guard slot >= 0, !plan.scenario.tasks[i].conversations.isEmpty else { return ChatTurn() }
        let spec = plan.scenario.tasks[i]
        let key = slot * plan.scenario.tasks.count + i
        var state: ConversationState
        if let c = schedule.chats.byKey[key], c.user == user { state = c.state } else {
            state = ConversationState(conversation: Int(rng.next() % UInt64(spec.conversations.count)))
            schedule.chats.byKey[key] = (user, state)
        }
        let text = spec.conversations[state.conversation].userTurns[state.turn]
        ctx.messagesJSON = state.messagesJSON(userText: text)
        return ChatTurn(key: key, userText: text, turnGroup: plan.breakdown.turnGroup(state.turn))
    }

    /// A conversation's turn ended: a success adds the user's text and the server's real answer
    /// to the history (the conversation ends after its last turn); a failure ends it, since
    /// there is no answer to send back.
    func turnEnded(_ turn: ChatTurn, succeeded: Bool, answer: String, spec: TaskSpec) {
        guard turn.key >= 0, var c = schedule.chats.byKey[turn.key] else { return }
        guard succeeded else { schedule.chats.byKey[turn.key] = nil; return }
        c.state.answered(userText: turn.userText, answer: answer)
        schedule.chats.byKey[turn.key] = c.state.turn >= spec.conversations[c.state.conversation].userTurns.count ? nil : c
    }
}
