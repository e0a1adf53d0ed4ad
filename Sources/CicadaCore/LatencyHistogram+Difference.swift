extension LatencyHistogram {
    /// The values recorded into this histogram since it was `earlier` (a copy taken before):
    /// bucket counts subtracted, so the percentiles of what happened in between are those of
    /// the difference, to HdrHistogram's precision (3 significant digits). Nil when `earlier`
    /// holds something this one does not (it is not an earlier state: the stats were reset).
    ///
    /// The sum is exact (the sums subtracted); the maximum is exact when the interval set a new
    /// maximum (likewise the minimum), else it is the highest value of its bucket.
    public func subtracting(_ earlier: LatencyHistogram) -> LatencyHistogram? {
        guard earlier.count <= count else { return nil }
        if earlier.isEmpty { return self }
        var before: [UInt64: UInt64] = [:]
        for b in earlier.buckets() { before[b.micros] = b.count }
        var out = LatencyHistogram()
        var matched = 0
        for b in buckets() {
            let was = before[b.micros] ?? 0
            if was > 0 { matched += 1 }
            guard b.count >= was else { return nil }
            if b.count > was { out.record(micros: b.micros, count: b.count - was) }
        }
        // A bucket of the earlier state that is gone now: not an earlier state.
        guard matched == before.count else { return nil }
        if out.isEmpty { return out }
        let newMax = maxMicros > earlier.maxMicros ? maxMicros : out.maxMicros
        let newMin = minMicros < earlier.minMicros ? minMicros : out.minMicros
        return LatencyHistogram(restoring: out.histogram, minMicros: Swift.min(newMin, newMax), maxMicros: newMax,
                                sumMicros: Swift.max(0, sumMicros - earlier.sumMicros))
    }
}
