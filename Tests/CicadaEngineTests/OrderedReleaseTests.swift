import Testing

import CicadaEngine

@Suite("OrderedRelease: preserve_ordering")
struct OrderedReleaseTests {
    @Test("held answers leave in request order, each as soon as every earlier request is done")
    func holdsLaterAnswers() {
        var r = OrderedRelease<String>()
        #expect(r.finish(2, "c", hold: true).isEmpty)
        #expect(r.finish(1, "b", hold: true).isEmpty)
        #expect(r.heldCount == 2)
        #expect(r.finish(0, "a", hold: true) == ["a", "b", "c"])
        #expect(r.heldCount == 0 && r.nextToRelease == 3)
        #expect(r.finish(4, "e", hold: true).isEmpty)
        #expect(r.finish(3, "d", hold: true) == ["d", "e"])
    }

    @Test("without holding, each answer leaves at once")
    func releasesAtOnce() {
        var r = OrderedRelease<Int>()
        #expect(r.finish(1, 1, hold: false) == [1])
        #expect(r.finish(0, 0, hold: false) == [0])
        #expect(r.nextToRelease == 2)
    }

    @Test("an answer released early still counts as done, so turning ordering on live strands nothing")
    func mixedHolding() {
        var r = OrderedRelease<Int>()
        #expect(r.finish(2, 2, hold: true).isEmpty)
        #expect(r.finish(1, 1, hold: false) == [1])
        #expect(r.finish(0, 0, hold: true) == [0, 2])
        #expect(r.heldCount == 0)
    }

    /// The engine's case, in virtual time: two instances, no batching; a long request arrives
    /// first, a short one just after. The short one completes first on the second instance;
    /// held, it leaves with the long one.
    @Test("driven by the batcher in virtual time", arguments: [false, true])
    func withTheBatcher(preserve: Bool) {
        var config = BatcherConfig.noBatching
        config.instanceCount = 2
        config.preserveOrdering = preserve
        var batcher = DynamicBatcherStateMachine<UInt64>(config: config)
        var release = OrderedRelease<UInt64>()
        let computeNanos: [UInt64: UInt64] = [0: 550_000_000, 1: 15_000_000]
        var completions: [(atNanos: UInt64, instance: Int, batch: [UInt64])] = []
        var released: [(id: UInt64, atNanos: UInt64)] = []

        func apply(_ actions: [DynamicBatcherStateMachine<UInt64>.Action], now: UInt64) {
            for case .dispatch(let instance, let batch) in actions {
                completions.append((now + batch.map { computeNanos[$0]! }.max()!, instance, batch))
            }
        }
        apply(batcher.enqueue(0, nowNanos: 0), now: 0)
        apply(batcher.enqueue(1, nowNanos: 5_000_000), now: 5_000_000)
        #expect(completions.map(\.instance) == [0, 1])
        while !completions.isEmpty {
            completions.sort { $0.atNanos < $1.atNanos }
            let next = completions.removeFirst()
            for id in next.batch {
                for out in release.finish(id, id, hold: batcher.config.preserveOrdering) { released.append((out, next.atNanos)) }
            }
            apply(batcher.instanceFree(next.instance, nowNanos: next.atNanos), now: next.atNanos)
        }
        if preserve {
            #expect(released.map(\.id) == [0, 1])
            #expect(released.map(\.atNanos) == [550_000_000, 550_000_000])
        } else {
            #expect(released.map(\.id) == [1, 0])
            #expect(released.map(\.atNanos) == [20_000_000, 550_000_000])
        }
    }
}
