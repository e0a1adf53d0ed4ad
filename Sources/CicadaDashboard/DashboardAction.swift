/// What a key asks the run to do, as ``DashboardController/handle(_:at:)`` returns it.
///
/// The controller decides; whoever holds the runs and engines (the executable's
/// `LiveDashboard`) carries the actions out in order. Load actions apply to every lane, so
/// compared variants keep the same load; batching actions name the one lane they apply to.
public enum DashboardAction: Sendable, Equatable {
    /// End the run (the `q` key).
    case quit
    /// The screen was resized: draw the next frame whole.
    case redraw
    /// Pause (true) or resume (false) the load of every lane: no new requests start while paused.
    case pause(Bool)
    /// Add `n` users (negative: remove) on top of every lane's ramp (closed model).
    case addUsers(Int)
    /// Set every lane's arrival-rate multiplier (open model).
    case setRateScale(Double)
    /// Multiply every lane's arrival-rate multiplier in force by this factor (open model): what
    /// `+`/`-` ask of the shards of `cicada dash --shards`, each of which has a multiplier of its own.
    case scaleRate(Double)
    /// Clear every lane's statistics.
    case reset
    /// Switch `lane`'s engine to its batching preset number `index`.
    case applyBatchPreset(lane: Int, index: Int)
    /// Multiply `lane`'s engine's max queue delay by `factor` (2 or 0.5).
    case scaleQueueDelay(lane: Int, factor: Double)
    /// Set `lane`'s engine's max batch size to `size` (at least 1).
    case setMaxBatchSize(lane: Int, size: Int)
    /// Set `lane`'s continuous engine's `max_num_batched_tokens` (never below its `max_num_seqs`).
    case setMaxNumBatchedTokens(lane: Int, tokens: Int)
    /// Send the load to the embedded engine, starting it if needed; answer with
    /// ``DashboardActionResult/switchedToEngine(deviceLabel:)`` or ``DashboardActionResult/failed(_:)``.
    case switchToEngine
    /// Send the load back to the scenario's target.
    case switchToTarget
    /// Set a split run's member weights (the canary's steps, `c`/`C`), in the split's member order.
    case setSplitWeights([Int])
    /// Note `detail` in the events of lane `lane`, or of every lane when nil.
    case note(String, lane: Int?)
}

/// How carrying out a ``DashboardAction`` went, for the actions whose message depends on it.
public enum DashboardActionResult: Sendable, Equatable {
    /// Done; nothing to report.
    case done
    /// The load now goes to the embedded engine, described by its device label.
    case switchedToEngine(deviceLabel: String)
    /// The action could not be carried out, and why.
    case failed(String)
}
