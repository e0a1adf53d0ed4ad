/// A small, fast, seedable random generator (xoshiro256**), so runs repeat under a `seed`.
///
/// Every user and every open-model arrival derives its own generator from the scenario seed and
/// its index, so the request sequence does not depend on thread timing or worker count.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Seeds the generator with SplitMix64 expansion of `seed`, mixed with `stream`.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var x = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// An exponential variate with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        -mean * log1pNeg(unit())
    }

    /// A standard normal variate (Box-Muller).
    public mutating func normal() -> Double {
        var u1 = unit()
        while u1 <= 0 { u1 = unit() }
        let u2 = unit()
        return (-2 * logApprox(u1)).squareRoot() * cosApprox(2 * Double.pi * u2)
    }

    /// A gamma variate with `shape` k and `scale` θ (Marsaglia-Tsang), mean k·θ.
    ///
    /// vLLM's arrival process draws inter-arrival gaps from gamma(shape=burstiness,
    /// scale=1/(rate·burstiness)); shape 1 is the exponential (Poisson arrivals).
    public mutating func gamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            let u = unit()
            return gamma(shape: shape + 1, scale: scale) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = unit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v * scale }
            if logApprox(u) < 0.5 * x * x + d * (1 - v + logApprox(v)) { return d * v * scale }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func log1pNeg(_ u: Double) -> Double { log1p(-u) }
@inline(__always) func logApprox(_ x: Double) -> Double { log(x) }
@inline(__always) func cosApprox(_ x: Double) -> Double { cos(x) }
