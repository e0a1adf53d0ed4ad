import CicadaCore

extension DashboardController {
    /// The dashboard at `now`: the focused lane's snapshot, verdicts, history and engine, the
    /// comparison table when there are several lanes, and the message if it is still fresh.
    /// Nil before the focused lane's first snapshot (nothing to draw yet).
    public func viewModel(at now: ContinuousClock.Instant) -> DashboardModel? {
        let lane = lanes[focus]
        guard let snapshot = lane.snapshot else { return nil }
        let c = configuration
        let target = comparing ? c.targetDescription + " (focus: \(lane.name))"
            : (onEngine && c.canSwitchEngine ? "embedded engine \(lanes[0].engine?.baseURL ?? "") (modelled)" : c.targetDescription)
        var model = DashboardModel(
            snapshot: snapshot, scenarioName: c.scenarioName, targetDescription: target, runTime: c.runTime,
            thresholds: lane.thresholds, history: lane.history, events: marks, windowSeconds: chartSpanSeconds,
            p99ThresholdMillis: lane.p99ThresholdMillis, paused: paused, showHelp: showHelp, generatorCPUPercent: nil,
            engine: onEngine || comparing || c.followsShards ? lane.engine?.line : nil, unicode: c.unicode, color: c.color,
            message: message.flatMap { now < $0.until ? $0.text : nil })
        model.diagnoses = lane.diagnoses
        model.shards = shards
        model.split = splitPanel()
        if comparing {
            model.focusedVariant = focus
            model.variants = lanes.map { variantLine($0) }
        }
        return model
    }

    /// The dashboard at `now` drawn into `width` x `height` cells; nil before the first snapshot.
    public func frame(width: Int, height: Int, at now: ContinuousClock.Instant) -> Frame? {
        viewModel(at: now).map { DashboardRenderer().render($0, width: width, height: height) }
    }

    /// One row of the comparison table: the lane's figures over the chart span's window.
    func variantLine(_ lane: DashboardLane) -> VariantLine {
        let window = lane.snapshot.flatMap { $0.windows[chartSpanSeconds] ?? $0.window }
        let latency = window?.total.corrected
        let engine = lane.engine?.line
        return VariantLine(
            name: lane.name,
            config: engine.map { "\($0.presetName): max \($0.maxBatchSize), \(DashboardRenderer.delayText($0.maxQueueDelayMicros))" } ?? lane.config,
            isBaseline: lane.isBaseline, qps: window?.qps, p50: latency?.percentile(50), p99: latency?.percentile(99),
            errorRate: window?.total.errorRate, averageBatchSize: engine?.averageBatchSize,
            memoryFraction: lane.engine?.memoryFraction, history: lane.history)
    }
}
