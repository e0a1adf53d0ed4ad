import Testing
@testable import CicadaCore

/// `--repeat` runs the same load again: what was changed live in one repetition does not carry
/// into the next.
@Suite struct RunControlRearmTests {
    @Test func rearmUndoesLiveChanges() {
        let c = RunControl()
        c.runStartNanos = 1_000
        c.paused = true
        c.userOffset = 7
        c.resetRequested = true
        c.stopStarting = true
        c.setRateScale(2.5, nowNanos: 2_000_000_000)
        c.setSplitWeights([50, 50])
        _ = c.takeRequestTicket()
        let warpGen = c.warpGeneration, splitGen = c.splitGeneration
        c.rearm()
        #expect(!c.paused && c.userOffset == 0 && !c.resetRequested && !c.stopStarting && !c.abort)
        #expect(c.rateScale == 1 && c.warpGeneration > warpGen)
        #expect(c.splitWeights == nil && c.splitGeneration > splitGen)
        #expect(c.takeRequestTicket() == 0)
    }
}
