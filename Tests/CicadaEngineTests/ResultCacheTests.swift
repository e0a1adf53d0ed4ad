import CicadaCore
import Testing
@testable import CicadaEngine

/// A distinct key per small integer, for tests that do not care about request contents.
private func key(_ n: Int) -> CacheKey {
    CacheKey.request(endpoint: "/predict", model: "m", input: "prompt \(n)")
}

@Suite("ResultCache")
struct ResultCacheTests {
    @Test func hitAfterPutAndCounters() {
        var cache = ResultCache<String>(maxEntries: 10, maxBytes: 1_000)
        #expect(cache.get(key(1), nowNanos: 0) == nil)
        cache.put(key(1), "one", bytes: 3, nowNanos: 0)
        #expect(cache.get(key(1), nowNanos: 1) == "one")
        #expect(cache.get(key(1), nowNanos: 2) == "one")
        #expect(cache.get(key(2), nowNanos: 3) == nil)
        #expect(cache.hits == 2)
        #expect(cache.misses == 2)
        #expect(cache.evictions == 0)
        #expect(cache.expirations == 0)
        #expect(cache.count == 1)
        #expect(cache.bytes == 3)
    }

    @Test func defaultTTLIsTheSeedsHour() {
        let cache = ResultCache<Int>(maxEntries: 1, maxBytes: 1)
        #expect(cache.ttl == .seconds(3600))
    }

    @Test func entryExpiresExactlyAtTTLInVirtualTime() {
        let clock = ManualTimeSource(startNanos: 5_000_000_000)
        var cache = ResultCache<Int>(maxEntries: 10, maxBytes: 100)
        cache.put(key(1), 42, bytes: 8, nowNanos: clock.nowNanos())

        clock.advance(by: .seconds(3600) - .nanoseconds(1))
        #expect(cache.get(key(1), nowNanos: clock.nowNanos()) == 42)

        clock.advance(by: .nanoseconds(1))
        #expect(cache.get(key(1), nowNanos: clock.nowNanos()) == nil)
        #expect(cache.expirations == 1)
        #expect(cache.misses == 1)
        #expect(cache.hits == 1)
        #expect(cache.count == 0)
        #expect(cache.bytes == 0)
    }

    @Test func aHitDoesNotExtendLifeButAPutDoes() {
        let clock = ManualTimeSource()
        var cache = ResultCache<Int>(maxEntries: 10, maxBytes: 100, ttl: .seconds(10))
        cache.put(key(1), 1, bytes: 1, nowNanos: clock.nowNanos())
        cache.put(key(2), 2, bytes: 1, nowNanos: clock.nowNanos())
        clock.advance(by: .seconds(9))
        #expect(cache.get(key(1), nowNanos: clock.nowNanos()) == 1)
        cache.put(key(2), 20, bytes: 1, nowNanos: clock.nowNanos())  // re-stored at t = 9 s
        clock.advance(by: .seconds(1))
        #expect(cache.get(key(1), nowNanos: clock.nowNanos()) == nil)  // stored at 0: gone at 10
        #expect(cache.get(key(2), nowNanos: clock.nowNanos()) == 20)
        clock.advance(by: .seconds(9))
        #expect(cache.get(key(2), nowNanos: clock.nowNanos()) == nil)
        #expect(cache.expirations == 2)
    }

    @Test func evictsLeastRecentlyUsedFirst() {
        var cache = ResultCache<Int>(maxEntries: 3, maxBytes: 1_000)
        cache.put(key(1), 1, bytes: 1, nowNanos: 0)
        cache.put(key(2), 2, bytes: 1, nowNanos: 1)
        cache.put(key(3), 3, bytes: 1, nowNanos: 2)
        #expect(cache.keysByRecency == [key(3), key(2), key(1)])
        #expect(cache.get(key(1), nowNanos: 3) == 1)  // 1 becomes most recent; 2 is now oldest
        cache.put(key(4), 4, bytes: 1, nowNanos: 4)
        #expect(cache.keysByRecency == [key(4), key(1), key(3)])
        #expect(cache.get(key(2), nowNanos: 5) == nil)
        #expect(cache.evictions == 1)
        cache.put(key(5), 5, bytes: 1, nowNanos: 6)
        #expect(cache.keysByRecency == [key(5), key(4), key(1)])
        #expect(cache.evictions == 2)
        #expect(cache.expirations == 0)
    }

    @Test func byteBoundEvictsUntilItHolds() {
        var cache = ResultCache<String>(maxEntries: 100, maxBytes: 100)
        cache.put(key(1), "a", bytes: 40, nowNanos: 0)
        cache.put(key(2), "b", bytes: 40, nowNanos: 0)
        cache.put(key(3), "c", bytes: 30, nowNanos: 0)  // 110 > 100: drop 1
        #expect(cache.bytes == 70)
        #expect(cache.keysByRecency == [key(3), key(2)])
        cache.put(key(4), "d", bytes: 95, nowNanos: 0)  // needs both others gone
        #expect(cache.keysByRecency == [key(4)])
        #expect(cache.bytes == 95)
        #expect(cache.evictions == 3)
    }

    @Test func replacingAValueAdjustsBytesAndRecency() {
        var cache = ResultCache<String>(maxEntries: 10, maxBytes: 100)
        cache.put(key(1), "a", bytes: 10, nowNanos: 0)
        cache.put(key(2), "b", bytes: 10, nowNanos: 0)
        cache.put(key(1), "A", bytes: 60, nowNanos: 0)
        #expect(cache.bytes == 70)
        #expect(cache.count == 2)
        #expect(cache.keysByRecency == [key(1), key(2)])
        #expect(cache.get(key(1), nowNanos: 0) == "A")
        cache.put(key(2), "B", bytes: 50, nowNanos: 0)  // 110: evicts 1, the older
        #expect(cache.keysByRecency == [key(2)])
        #expect(cache.bytes == 50)
    }

    @Test func aValueLargerThanTheWholeCacheIsNotStored() {
        var cache = ResultCache<String>(maxEntries: 10, maxBytes: 100)
        cache.put(key(1), "small", bytes: 10, nowNanos: 0)
        cache.put(key(2), "huge", bytes: 101, nowNanos: 0)
        #expect(cache.count == 1)
        #expect(cache.get(key(1), nowNanos: 0) == "small")
        // A too-large replacement drops the superseded value rather than serving it.
        cache.put(key(1), "huge", bytes: 101, nowNanos: 0)
        #expect(cache.get(key(1), nowNanos: 0) == nil)
        #expect(cache.bytes == 0)
        #expect(cache.evictions == 0)
    }

    @Test func zeroCapacityStoresNothing() {
        var cache = ResultCache<Int>(maxEntries: 0, maxBytes: 100)
        cache.put(key(1), 1, bytes: 1, nowNanos: 0)
        #expect(cache.get(key(1), nowNanos: 0) == nil)
        #expect(cache.count == 0)
        #expect(cache.misses == 1)
    }

    @Test func expiredVictimsCountAsExpirationsNotEvictions() {
        var cache = ResultCache<Int>(maxEntries: 2, maxBytes: 100, ttl: .seconds(1))
        cache.put(key(1), 1, bytes: 1, nowNanos: 0)
        cache.put(key(2), 2, bytes: 1, nowNanos: 500_000_000)
        cache.put(key(3), 3, bytes: 1, nowNanos: 1_000_000_000)  // 1 is at the tail and expired
        #expect(cache.expirations == 1)
        #expect(cache.evictions == 0)
        cache.put(key(4), 4, bytes: 1, nowNanos: 1_200_000_000)  // 2 is at the tail, still live
        #expect(cache.evictions == 1)
    }

    @Test func removeExpiredSweepsEverythingStale() {
        var cache = ResultCache<Int>(maxEntries: 10, maxBytes: 100, ttl: .seconds(10))
        for n in 0..<6 {
            cache.put(key(n), n, bytes: 5, nowNanos: UInt64(n) * 1_000_000_000)
        }
        _ = cache.get(key(0), nowNanos: 9_000_000_000)  // recency does not save it from the TTL
        let removed = cache.removeExpired(nowNanos: 12_000_000_000)  // entries stored at 0, 1, 2
        #expect(removed == 3)
        #expect(cache.expirations == 3)
        #expect(cache.count == 3)
        #expect(cache.bytes == 15)
        #expect(cache.keysByRecency == [key(5), key(4), key(3)])
    }

    @Test func removeAllKeepsCounters() {
        var cache = ResultCache<Int>(maxEntries: 10, maxBytes: 100)
        cache.put(key(1), 1, bytes: 1, nowNanos: 0)
        _ = cache.get(key(1), nowNanos: 0)
        _ = cache.get(key(2), nowNanos: 0)
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.bytes == 0)
        #expect(cache.keysByRecency.isEmpty)
        #expect(cache.hits == 1)
        #expect(cache.misses == 1)
        cache.put(key(3), 3, bytes: 1, nowNanos: 0)
        #expect(cache.get(key(3), nowNanos: 0) == 3)
    }

    /// Random operations against a plain array-backed LRU: the linked list and the slot free
    /// list must agree with it after every step.
    @Test func agreesWithAReferenceLRU() {
        var cache = ResultCache<Int>(maxEntries: 8, maxBytes: 60, ttl: .seconds(50))
        var reference: [(key: Int, value: Int, bytes: Int, storedAt: UInt64)] = []  // most recent first
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let ttl: UInt64 = 50_000_000_000
        var now: UInt64 = 0
        for step in 0..<5_000 {
            now += UInt64(next(3)) * 1_000_000_000
            let k = next(16)
            if next(2) == 0 {
                let got = cache.get(key(k), nowNanos: now)
                var expected: Int?
                if let i = reference.firstIndex(where: { $0.key == k }) {
                    let entry = reference.remove(at: i)
                    if now - entry.storedAt < ttl {
                        expected = entry.value
                        reference.insert(entry, at: 0)
                    }
                }
                #expect(got == expected, "step \(step)")
            } else {
                let bytes = next(20)
                cache.put(key(k), step, bytes: bytes, nowNanos: now)
                reference.removeAll { $0.key == k }
                reference.insert((k, step, bytes, now), at: 0)
                while reference.count > 8 || reference.reduce(0, { $0 + $1.bytes }) > 60 {
                    reference.removeLast()
                }
            }
            #expect(cache.keysByRecency == reference.map { key($0.key) }, "step \(step)")
            #expect(cache.bytes == reference.reduce(0) { $0 + $1.bytes })
        }
        #expect(cache.hits + cache.misses > 2_000)
        #expect(cache.evictions > 0)
        #expect(cache.expirations > 0)
    }
}

@Suite("CacheKey")
struct CacheKeyTests {
    @Test func parameterOrderDoesNotMatter() {
        var forward: [String: String] = [:]
        var backward: [String: String] = [:]
        let pairs = (0..<20).map { ("param\($0)", "value\($0)") }
        for (k, v) in pairs { forward[k] = v }
        for (k, v) in pairs.reversed() { backward[k] = v }
        let a = CacheKey.request(endpoint: "/v1/completions", model: "m", input: "hi", parameters: forward)
        let b = CacheKey.request(endpoint: "/v1/completions", model: "m", input: "hi", parameters: backward)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
    }

    @Test func everyFieldChangesTheKey() {
        let base = CacheKey.request(
            endpoint: "/predict", model: "m", input: "hello", parameters: ["temperature": "0"])
        let variants = [
            CacheKey.request(endpoint: "/predict", model: "m", input: "hello!", parameters: ["temperature": "0"]),
            CacheKey.request(endpoint: "/infer", model: "m", input: "hello", parameters: ["temperature": "0"]),
            CacheKey.request(endpoint: "/predict", model: "m2", input: "hello", parameters: ["temperature": "0"]),
            CacheKey.request(endpoint: "/predict", model: "m", input: "hello", parameters: ["temperature": "1"]),
            CacheKey.request(endpoint: "/predict", model: "m", input: "hello", parameters: ["top_p": "0"]),
            CacheKey.request(endpoint: "/predict", model: "m", input: "hello", parameters: [:]),
        ]
        for variant in variants { #expect(variant != base) }
        #expect(Set(variants).count == variants.count)
    }

    @Test func lengthPrefixesKeepFieldBoundaries() {
        let a = CacheKey.request(endpoint: "ab", model: "c", input: "")
        let b = CacheKey.request(endpoint: "a", model: "bc", input: "")
        #expect(a != b)
        let c = CacheKey.request(endpoint: "", model: "", input: "", parameters: ["ab": "c"])
        let d = CacheKey.request(endpoint: "", model: "", input: "", parameters: ["a": "bc"])
        #expect(c != d)
    }

    @Test func canonicalEncodingByteForByte() {
        let bytes = CacheKey.canonicalBytes(
            endpoint: "/p", model: "m", input: "x", parameters: ["b": "2", "a": "1"])
        func field(_ s: String) -> [UInt8] {
            [0, 0, 0, 0, 0, 0, 0, UInt8(s.utf8.count)] + Array(s.utf8)
        }
        let expected: [UInt8] = Array("cicada-cache-v1".utf8) + field("/p") + field("m") + field("x")
            + [0, 0, 0, 0, 0, 0, 0, 2] + field("a") + field("1") + field("b") + field("2")
        #expect(bytes == expected)
        let key = CacheKey.request(endpoint: "/p", model: "m", input: "x", parameters: ["b": "2", "a": "1"])
        #expect(key.digest == SHA256.hash(expected))
        #expect(key.description.count == 64)
    }
}
