extension FixedWidthInteger {
    /// `self + other`, or the type's largest value where the sum would overflow (its smallest
    /// where it would underflow). Merges of figures read from files and other processes (shard
    /// artifacts, `/live`) add with it, so no input can make a merge trap.
    @inlinable
    public func addingSaturating(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? Self.max : Self.min
    }
}
