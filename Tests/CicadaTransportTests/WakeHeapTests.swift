import CicadaCore
import Testing
@testable import CicadaTransport

@Suite struct WakeHeapTests {
    @Test func popsInKeyOrderWithTheirSlots() {
        var h = WakeHeap()
        var rng = SeededRandom(seed: 1)
        var entries: [(UInt64, Int)] = []
        for i in 0..<500 { let k = rng.next() % 1000; entries.append((k, i)); h.push(k, i) }
        #expect(h.minKey == entries.map(\.0).min())
        var out: [(UInt64, Int)] = []
        while let x = h.pop() { out.append((x.key, x.value)) }
        #expect(out.map(\.0) == entries.map(\.0).sorted())
        // Every slot comes back once, with its own key.
        #expect(Set(out.map(\.1)) == Set(0..<500))
        #expect(out.allSatisfy { entries[$0.1].0 == $0.0 })
        #expect(h.pop() == nil && h.minKey == nil)
    }
}
