import Foundation

extension RunResult {
    /// Puts confidence intervals on this result's whole-run figures and on each task's, from the
    /// per-second windows of `repetitions` (the runs this result pools, or this result alone).
    ///
    /// One code path for every kind of result: a single run, `--repeat K`'s pool, a `compare:`
    /// variant and a merged distributed run each come here with the windows they kept. The
    /// points are this result's own figures (``FigureIntervals/points(of:)`` and, per
    /// task, its latencies, error rate and ``Snapshot/qps(of:)``), and every task is resampled
    /// with the same seed as the whole run, so the same data and seed give the same intervals.
    ///
    /// - Parameters:
    ///   - repetitions: the runs whose ``secondWindows`` and ``taskSecondWindows`` are resampled.
    ///   - seed: the resampling's seed (the run's seed).
    ///   - resamples: bootstrap resamples per interval.
    public mutating func computeIntervals(repetitions: [RunResult], seed: UInt64, resamples: Int = WindowBootstrap.defaultResamples) {
        let snap = snapshot
        intervals = WindowBootstrap.intervals(runs: repetitions.compactMap(\.secondWindows), points: FigureIntervals.points(of: snap),
                                              seed: seed, resamples: resamples)
        let tasks: [FigureIntervals?] = snap.perStat.indices.map { i in
            let runs = repetitions.compactMap { $0.taskSecondWindows.indices.contains(i) ? $0.taskSecondWindows[i] : nil }
            guard !runs.isEmpty else { return nil }
            return WindowBootstrap.intervals(runs: runs, points: FigureIntervals.points(of: snap.perStat[i], qps: snap.qps(of: i)),
                                             seed: seed, resamples: resamples)
        }
        taskIntervals = tasks.contains { $0 != nil } ? tasks : []
    }

    /// The confidence intervals of task `index` (stat index), or nil when it has none.
    public func taskInterval(_ index: Int) -> FigureIntervals? {
        taskIntervals.indices.contains(index) ? taskIntervals[index] : nil
    }
}
