/// The key of a cached inference result: the SHA-256 of a canonical encoding of the request.
///
/// Hashing a canonical byte string (rather than, say, the JSON body as received) makes two
/// requests that mean the same thing share one entry whatever their field or parameter order,
/// and a 32-byte digest keeps the cache's memory per entry fixed however long the prompt is.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    /// The SHA-256 of the canonical request bytes.
    public let digest: SHA256.Digest

    /// Wraps an existing digest, for callers that canonicalise requests their own way.
    public init(digest: SHA256.Digest) {
        self.digest = digest
    }

    /// The key as 64 hexadecimal digits.
    public var description: String { digest.hex }

    /// The version tag that starts every canonical encoding.
    ///
    /// Changing the encoding must change this tag, so a persisted or shared cache can never
    /// return an answer computed under a different key scheme.
    public static let encodingTag = "cicada-cache-v1"

    /// The key of an inference request: endpoint, model, input and generation parameters.
    ///
    /// The canonical byte string is the tag, then each of endpoint, model and input as an 8-byte
    /// big-endian UTF-8 length followed by the bytes, then the parameter count and each
    /// parameter's key and value the same way, sorted by the key's UTF-8 bytes. Length prefixes
    /// make the encoding unambiguous (`"ab" + "c"` and `"a" + "bc"` differ), and sorting makes
    /// parameter order irrelevant. Strings are hashed as their UTF-8 bytes without Unicode
    /// normalisation, so two canonically equivalent but differently encoded prompts get
    /// different keys: at worst a miss, never a wrong hit.
    public static func request(
        endpoint: String, model: String, input: String, parameters: [String: String] = [:]
    ) -> CacheKey {
        CacheKey(digest: SHA256.hash(canonicalBytes(
            endpoint: endpoint, model: model, input: input, parameters: parameters)))
    }

    /// The canonical byte string that ``request(endpoint:model:input:parameters:)`` hashes.
    ///
    /// Public so that tests and other implementations can check the encoding byte for byte.
    public static func canonicalBytes(
        endpoint: String, model: String, input: String, parameters: [String: String]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + endpoint.utf8.count + model.utf8.count + input.utf8.count)
        out.append(contentsOf: encodingTag.utf8)
        appendField(endpoint, to: &out)
        appendField(model, to: &out)
        appendField(input, to: &out)
        appendLength(parameters.count, to: &out)
        let sorted = parameters.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (key, value) in sorted {
            appendField(key, to: &out)
            appendField(value, to: &out)
        }
        return out
    }

    private static func appendField(_ field: String, to out: inout [UInt8]) {
        appendLength(field.utf8.count, to: &out)
        out.append(contentsOf: field.utf8)
    }

    private static func appendLength(_ length: Int, to out: inout [UInt8]) {
        let value = UInt64(length)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
