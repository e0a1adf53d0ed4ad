import Foundation
import Testing
@testable import CicadaCore

@Suite struct HdrHistogramCodecTests {
    /// A histogram of `n` values drawn from `seed`, over the whole 1 µs .. 1 h range.
    static func random(seed: UInt64, n: Int) -> LatencyHistogram {
        var rng = SeededRandom(seed: seed)
        var h = LatencyHistogram()
        for _ in 0..<n {
            let decade = rng.next() % 10
            let v = 1 + rng.next() % UInt64(pow(10.0, Double(decade)))
            h.record(micros: v, count: 1 + rng.next() % 3)
        }
        return h
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func decodeOfEncodeIsTheSameHistogram(_ seed: UInt64) throws {
        let h = Self.random(seed: seed, n: Int(seed) * 400)
        for compressed in [true, false] {
            let back = try HdrHistogramCodec.decode(HdrHistogramCodec.encode(h, compressed: compressed),
                                                    minMicros: h.min, maxMicros: h.max, sumMicros: h.sumMicros)
            #expect(back == h)
            #expect(back.buckets().map(\.micros) == h.buckets().map(\.micros))
            #expect(back.buckets().map(\.count) == h.buckets().map(\.count))
            #expect(back.count == h.count && back.sumMicros == h.sumMicros)
            for p in [50.0, 90, 99, 99.9, 99.99] { #expect(back.percentile(p) == h.percentile(p)) }
        }
    }

    /// A bucket or histogram with more values than any run records (past
    /// ``HdrHistogramCodec/maxCount``) is refused when decoded. A histogram whose values add up
    /// past 2^64 µs (count × value, which HdrHistogram's own `recordedValues()` iterator sums in
    /// `UInt64` and traps on) encodes, decodes and lists its buckets: Cicada reads buckets one by
    /// one instead.
    @Test func bucketsNoRunFillsAreRefusedAndHugeValueSumsDoNotTrap() throws {
        func decodes(_ h: LatencyHistogram) throws(HdrHistogramCodec.DecodeError) -> LatencyHistogram {
            try HdrHistogramCodec.decode(HdrHistogramCodec.encode(h, compressed: false))
        }
        var full = LatencyHistogram()
        full.record(micros: 1, count: HdrHistogramCodec.maxCount + 1)
        do { _ = try decodes(full); Issue.record("decoded a bucket past the limit") } catch {
            #expect(error.message.contains("more than \(HdrHistogramCodec.maxCount)"), "\(error.message)")
        }
        var split = LatencyHistogram()
        split.record(micros: 1, count: HdrHistogramCodec.maxCount)
        split.record(micros: 5, count: 2)
        do { _ = try decodes(split); Issue.record("decoded a histogram past the limit in all") } catch {
            #expect(error.message.contains("in all"), "\(error.message)")
        }
        var heavy = LatencyHistogram()
        heavy.record(micros: 3_000_000_000, count: 1 << 40)   // 3.3e21 µs in all: past 2^64
        heavy.record(micros: 7, count: 3)
        let back = try decodes(heavy)
        #expect(back.count == (1 << 40) + 3)
        #expect(back.buckets().map(\.count) == [3, 1 << 40])
        #expect(back.percentile(99)! >= 2_990_000_000)
    }

    @Test func edgesRoundTrip() throws {
        var h = LatencyHistogram()
        h.record(micros: 1, count: 1 << 40)                         // a count needing 6+ LEB128 bytes
        h.record(micros: LatencyHistogram.highestMicros)
        h.record(micros: 2047); h.record(micros: 2048); h.record(micros: 2049)
        let back = try HdrHistogramCodec.decode(HdrHistogramCodec.encode(h), minMicros: h.min, maxMicros: h.max, sumMicros: h.sumMicros)
        #expect(back == h)
        let empty = try HdrHistogramCodec.decode(HdrHistogramCodec.encode(LatencyHistogram()))
        #expect(empty.isEmpty)
    }

    @Test func indexAndValueAgreeWithHdrHistogram() {
        for v: UInt64 in [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 123_456, 3_600_000_000] {
            let i = HdrHistogramCodec.countsIndex(v)
            let low = HdrHistogramCodec.value(atIndex: i)
            #expect(low <= v && HdrHistogramCodec.countsIndex(low) == i, "\(v) -> index \(i) -> \(low)")
            #expect(i < HdrHistogramCodec.countsLength)
        }
    }

    /// The vector scripts/hdr-fixture.py printed with PyPI's `hdrhistogram` 0.10.8 (the `hdrh`
    /// module): HdrHistogram(1, 3600000000, 3) with the values below recorded, `encode()`d
    /// (compressed V2, base64), and its recorded buckets as (highest equivalent value, count).
    static let pythonEncoded = "HISTFAAAADx4nJNpmSzMwMAgwwABzFCaEURcm7yEwf4DVICN6Tg/H8tqASaO/jixtQINJ9YvUD3swnR3OiMLAEEUDVc="
    static let pythonValues: [(UInt64, UInt64)] = [(1, 3), (2, 1), (999, 7), (1000, 2), (2047, 1), (2048, 4), (123456, 11), (5000000, 1),
                                                   (3599999999, 2), (250000, 5000000000)]
    static let pythonBuckets: [(UInt64, UInt64)] = [(1, 3), (2, 1), (999, 7), (1000, 2), (2047, 1), (2049, 4), (123519, 11), (250111, 5000000000),
                                                    (5001215, 1), (3600809983, 2)]

    @Test func readsWhatPythonsHdrHistogramWrote() throws {
        let h = try HdrHistogramCodec.decodeBase64(Self.pythonEncoded)
        #expect(h.buckets().map(\.micros) == Self.pythonBuckets.map(\.0))
        #expect(h.buckets().map(\.count) == Self.pythonBuckets.map(\.1))
        var mine = LatencyHistogram()
        for (v, c) in Self.pythonValues { mine.record(micros: v, count: c) }
        #expect(h.buckets().map(\.count) == mine.buckets().map(\.count))
        #expect(h.percentile(99) == mine.percentile(99) || h.percentile(99).map { mine.percentile(99)! / 1000 == $0 / 1000 } == true)
        // Our encoding of the same values is the same V2 histogram: it decodes to the same buckets.
        let ours = try HdrHistogramCodec.decode(HdrHistogramCodec.encode(mine))
        #expect(ours.buckets().map(\.count) == h.buckets().map(\.count))
        #expect(HdrHistogramCodec.encodeBase64(mine).hasPrefix("HISTFAAA"))   // 0x1c849314, as Python's
    }

    @Test func damagedBytesAreErrorsNeverCrashes() throws {
        let h = Self.random(seed: 9, n: 300)
        let good = HdrHistogramCodec.encode(h)
        let plain = HdrHistogramCodec.encode(h, compressed: false)
        func fails(_ bytes: [UInt8], _ words: String) {
            do { _ = try HdrHistogramCodec.decode(bytes); Issue.record("decoded damaged bytes (\(words))") } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        fails([], "too short")
        fails(Array(good.prefix(20)), "truncated")
        fails(Array(plain.prefix(plain.count - 3)), "truncated")
        var cookie = good; cookie[0] = 0x77
        fails(cookie, "cookie")
        var zlib = good; for i in 10..<min(30, zlib.count) { zlib[i] ^= 0x5a }
        fails(zlib, "zlib")
        var digits = plain; digits[15] = 2
        fails(digits, "significant digits")
        #expect(throws: HdrHistogramCodec.DecodeError.self) { try HdrHistogramCodec.decodeBase64("not base64 !!") }
        // Exact figures beside the buckets that do not fit them.
        #expect(throws: HdrHistogramCodec.DecodeError.self) { try HdrHistogramCodec.decode(good, minMicros: h.max! + 5000, maxMicros: h.max, sumMicros: 1) }
        // Every prefix of a valid encoding either decodes or throws.
        for n in stride(from: 0, to: plain.count, by: 7) { _ = try? HdrHistogramCodec.decode(Array(plain.prefix(n))) }
        var rng = SeededRandom(seed: 3)
        for _ in 0..<200 {
            var b = plain
            b[40 + Int(rng.next() % UInt64(b.count - 40))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? HdrHistogramCodec.decode(b)
        }
    }
}
