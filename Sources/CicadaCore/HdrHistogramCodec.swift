import CZlib
import Foundation
import Histogram

/// HdrHistogram's standard V2 binary encoding of a ``LatencyHistogram``, so a shard artifact's
/// histograms are lossless and any HdrHistogram implementation (Java's
/// `decodeFromCompressedByteBuffer`, Python's `hdrh`, HdrHistogram_c, the histogram log tools) can
/// read them.
///
/// Layout (all big-endian): the compressed form is cookie `0x1c849314` (base `0x1c849304`), the
/// length of what follows, then a zlib stream of the uncompressed form: cookie `0x1c849313`
/// (base `0x1c849303`), payload length, normalizing index offset (0), significant digits (3),
/// lowest (1) and highest (3,600,000,000) trackable values, the integer-to-double ratio (1.0),
/// then the counts array in ZigZag LEB128, a negative number standing for that many empty
/// buckets. The counts run up to the bucket of the largest value, as Java's encoder does.
///
/// The encoding holds the buckets only; the exact min, max and sum that ``LatencyHistogram``
/// keeps beside them travel beside the encoding (the artifact's `min_us`, `max_us`, `sum_us`).
public enum HdrHistogramCodec {
    /// Cookie base of the uncompressed V2 encoding.
    public static let v2Cookie: UInt32 = 0x1c84_9303
    /// Cookie base of the zlib-compressed V2 encoding.
    public static let v2CompressedCookie: UInt32 = 0x1c84_9304

    /// Why bytes are not a histogram Cicada can read; the message says what was found.
    public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    // The bucket layout of LatencyHistogram: lowest 1, 3 significant digits, so 2,048
    // sub-buckets (unit resolution to 2,000) and unit magnitude 0.
    static let subBucketHalfCountMagnitude = 10
    static let subBucketHalfCount = 1 << subBucketHalfCountMagnitude
    static let subBucketMask: UInt64 = 2047
    static let leadingZeroCountBase = 64 - 11
    /// Length of the counts array for 1 µs .. 1 h.
    static let countsLength: Int = {
        var smallestUntrackable: UInt64 = 2048
        var buckets = 1
        while smallestUntrackable <= LatencyHistogram.highestMicros { smallestUntrackable <<= 1; buckets += 1 }
        return (buckets + 1) * subBucketHalfCount
    }()

    /// The most values a decoded histogram may hold: 2^46 (7e13, a million a second for over two
    /// years), so the largest merge `cicada merge` reads (``ShardArtifact/maxShardCount`` parts)
    /// still counts within `UInt64` in HdrHistogram's own sums (its percentile loop adds bucket
    /// counts with a trapping `+`).
    public static let maxCount: UInt64 = 1 << 46

    /// The counts-array index of `value` (HdrHistogram's `countsArrayIndex`).
    static func countsIndex(_ value: UInt64) -> Int {
        let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + subBucket - subBucketHalfCount
    }

    /// The lowest value of the bucket at counts-array `index` (HdrHistogram's `valueFromIndex`).
    static func value(atIndex index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 { subBucket -= subBucketHalfCount; bucket = 0 }
        return UInt64(subBucket) << UInt64(bucket)
    }

    /// The non-empty buckets as (counts-array index, count), by index. Read bucket by bucket,
    /// not through HdrHistogram's `recordedValues()`, whose iterator also sums count × value in
    /// `UInt64` and would trap on a long overloaded run's (or a merge's) histogram.
    static func nonEmpty(_ h: LatencyHistogram) -> [(index: Int, count: UInt64)] {
        guard !h.isEmpty else { return [] }
        var out: [(index: Int, count: UInt64)] = []
        for i in 0..<countsLength {
            let n = h.histogram.countForValue(value(atIndex: i))
            if n > 0 { out.append((i, UInt64(n))) }
        }
        return out
    }

    /// The V2 encoding of `h`: zlib-compressed (the standard interchange form) unless `compressed`
    /// is false.
    public static func encode(_ h: LatencyHistogram, compressed: Bool = true) -> [UInt8] {
        var payload: [UInt8] = []
        var next = 0
        for (index, count) in nonEmpty(h) {
            let zeros = index - next
            if zeros > 1 { putZigZag(-Int64(zeros), &payload) } else if zeros == 1 { putZigZag(0, &payload) }
            putZigZag(Int64(clamping: count), &payload)
            next = index + 1
        }
        var inner: [UInt8] = []
        put32(v2Cookie | 0x10, &inner)
        put32(UInt32(payload.count), &inner)
        put32(0, &inner)
        put32(3, &inner)
        put64(1, &inner)
        put64(LatencyHistogram.highestMicros, &inner)
        put64((1.0 as Double).bitPattern, &inner)
        inner += payload
        guard compressed else { return inner }
        var size = compressBound(uLong(inner.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let rc = out.withUnsafeMutableBufferPointer { o in
            inner.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(i.count), Z_DEFAULT_COMPRESSION) }
        }
        // compress2 fails only without memory for its state or with too small a buffer
        // (compressBound rules that out); the uncompressed form is then still standard V2.
        guard rc == Z_OK else { return inner }
        var outer: [UInt8] = []
        put32(v2CompressedCookie | 0x10, &outer)
        put32(UInt32(size), &outer)
        return outer + out.prefix(Int(size))
    }

    /// The V2 encoding of `h` in base64 (as HdrHistogram's log format writes it).
    public static func encodeBase64(_ h: LatencyHistogram) -> String { Data(encode(h)).base64EncodedString() }

    /// Decodes a V2 histogram (compressed or not) into a ``LatencyHistogram``.
    ///
    /// - Parameters:
    ///   - minMicros, maxMicros, sumMicros: the exact figures kept beside the buckets; each must
    ///     fall in the buckets' range (a mismatch means a damaged artifact). When nil, the lowest
    ///     and highest bucket bounds and the bucket midpoints stand in (an encoding from another
    ///     tool carries none of them).
    /// - Throws: ``DecodeError``: a wrong cookie, a truncated or corrupt payload, a histogram with
    ///   another bucket layout than Cicada's (lowest 1, 3 significant digits, up to one hour).
    public static func decode(_ bytes: [UInt8], minMicros: UInt64? = nil, maxMicros: UInt64? = nil, sumMicros: Double? = nil) throws(DecodeError) -> LatencyHistogram {
        guard bytes.count >= 8 else { throw DecodeError(message: "histogram: \(bytes.count) bytes, too short for an HdrHistogram encoding") }
        let cookie = get32(bytes, 0) & ~0xf0
        var inner = bytes
        if cookie == v2CompressedCookie {
            let length = Int(get32(bytes, 4))
            guard bytes.count - 8 >= length else {
                throw DecodeError(message: "histogram: truncated: the header announces \(length) compressed bytes, \(bytes.count - 8) follow")
            }
            // No Cicada histogram is larger than its header plus 9 bytes per bucket.
            var size = uLongf(40 + 9 * countsLength + 64)
            var out = [UInt8](repeating: 0, count: Int(size))
            let rc = out.withUnsafeMutableBufferPointer { o in
                bytes.withUnsafeBufferPointer { i in uncompress(o.baseAddress, &size, i.baseAddress! + 8, uLong(length)) }
            }
            guard rc == Z_OK else { throw DecodeError(message: "histogram: the zlib stream does not inflate (zlib error \(rc))") }
            inner = Array(out.prefix(Int(size)))
        } else if cookie != v2Cookie {
            throw DecodeError(message: "histogram: cookie 0x\(String(get32(bytes, 0), radix: 16)) is not HdrHistogram's V2 encoding (0x1c849303 or 0x1c849304)")
        }
        guard inner.count >= 40 else { throw DecodeError(message: "histogram: \(inner.count) bytes, too short for a V2 header (40)") }
        guard get32(inner, 0) & ~0xf0 == v2Cookie else {
            throw DecodeError(message: "histogram: inner cookie 0x\(String(get32(inner, 0), radix: 16)) is not V2 (0x1c849303)")
        }
        let payloadLength = Int(get32(inner, 4))
        let offset = get32(inner, 8), digits = get32(inner, 12), lowest = get64(inner, 16), highest = get64(inner, 24)
        guard offset == 0 else { throw DecodeError(message: "histogram: normalizing index offset \(offset) is not supported") }
        guard digits == 3, lowest == 1 else {
            throw DecodeError(message: "histogram: lowest value \(lowest), \(digits) significant digits: Cicada's histograms are lowest 1, 3 digits")
        }
        guard highest >= 2 else { throw DecodeError(message: "histogram: highest trackable value \(highest) is not valid") }
        guard inner.count - 40 >= payloadLength else {
            throw DecodeError(message: "histogram: truncated: the header announces \(payloadLength) payload bytes, \(inner.count - 40) follow")
        }
        var entries: [(index: Int, count: UInt64)] = []
        var at = 40
        let end = 40 + payloadLength
        var index = 0
        while at < end {
            let v = try getZigZag(inner, &at, end: end)
            if v < 0 {
                guard v > -Int64(countsLength) else { throw DecodeError(message: "histogram: a run of \(-v) empty buckets is past the last bucket") }
                index += Int(-v)
                continue
            }
            guard index < countsLength else {
                throw DecodeError(message: "histogram: bucket \(index) is past one hour, the largest value Cicada records")
            }
            if v > 0 {
                // A bucket no run fills: refused (see ``maxCount``).
                guard UInt64(v) <= maxCount else {
                    throw DecodeError(message: "histogram: bucket \(index) holds \(v) values, more than \(maxCount)")
                }
                entries.append((index, UInt64(v)))
            }
            index += 1
        }
        var total: UInt64 = 0
        for (_, count) in entries {
            total = total.addingSaturating(count)
            guard total <= maxCount else { throw DecodeError(message: "histogram: more than \(maxCount) values in all") }
        }
        guard let first = entries.first?.index, let last = entries.last?.index else {
            if let minMicros, let maxMicros, minMicros <= maxMicros {
                throw DecodeError(message: "histogram: no values, yet min \(minMicros) µs and max \(maxMicros) µs are given")
            }
            return LatencyHistogram()
        }
        if let minMicros, countsIndex(Swift.max(minMicros, 1)) != first {
            throw DecodeError(message: "histogram: min \(minMicros) µs is not in the lowest bucket (\(value(atIndex: first)) µs)")
        }
        if let maxMicros, maxMicros > LatencyHistogram.highestMicros || countsIndex(Swift.max(maxMicros, 1)) != last {
            throw DecodeError(message: "histogram: max \(maxMicros) µs is not in the highest bucket (\(value(atIndex: last)) µs)")
        }
        if let sumMicros, !(sumMicros.isFinite && sumMicros >= 0) {
            throw DecodeError(message: "histogram: sum \(sumMicros) µs is not a sum of latencies")
        }
        // Each bucket's counts go in at its lowest value, except that the exact min and max go
        // in at themselves (same buckets): HdrHistogram keeps the recorded min and max beside the
        // counts and its percentiles read them, so this restores its whole state.
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: LatencyHistogram.highestMicros, numberOfSignificantValueDigits: .three)
        var sum = 0.0
        for (i, (index, count)) in entries.enumerated() {
            var remaining = count
            if i == entries.count - 1, let maxMicros { _ = h.record(Swift.max(maxMicros, 1), count: 1); remaining -= 1 }
            if i == 0, remaining > 0, let minMicros { _ = h.record(Swift.max(minMicros, 1), count: 1); remaining -= 1 }
            if remaining > 0 { _ = h.record(value(atIndex: index), count: remaining) }
            sum += Double(h.medianEquivalentForValue(value(atIndex: index))) * Double(count)
        }
        let low = value(atIndex: first), high = h.highestEquivalentForValue(value(atIndex: last))
        return LatencyHistogram(restoring: h, minMicros: minMicros ?? low, maxMicros: maxMicros ?? high, sumMicros: sumMicros ?? sum)
    }

    /// Decodes base64 text of a V2 encoding (see ``decode(_:minMicros:maxMicros:sumMicros:)``).
    public static func decodeBase64(_ text: String, minMicros: UInt64? = nil, maxMicros: UInt64? = nil, sumMicros: Double? = nil) throws(DecodeError) -> LatencyHistogram {
        guard let data = Data(base64Encoded: text) else { throw DecodeError(message: "histogram: not valid base64") }
        return try decode([UInt8](data), minMicros: minMicros, maxMicros: maxMicros, sumMicros: sumMicros)
    }

    // MARK: Bytes

    static func put32(_ v: UInt32, _ out: inout [UInt8]) { for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    static func put64(_ v: UInt64, _ out: inout [UInt8]) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    static func get32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(b[at + $1]) } }
    static func get64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(b[at + $1]) } }

    /// ZigZag LEB128 as HdrHistogram writes it: 7 bits a byte, the 9th byte carrying 8.
    static func putZigZag(_ value: Int64, _ out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v < 0x80 { out.append(UInt8(v)); return }
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))
    }

    static func getZigZag(_ b: [UInt8], _ at: inout Int, end: Int) throws(DecodeError) -> Int64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < end else { throw DecodeError(message: "histogram: truncated: a count is cut off at the end of the payload") }
            let byte = b[at]; at += 1
            if shift == 56 { v |= UInt64(byte) << 56; break }
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }
}
