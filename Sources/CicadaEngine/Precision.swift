/// The numeric precision the modelled device runs a model in: fp16, bf16 or int8.
///
/// Precision sets two things in the roofline: how many bytes each weight and KV-cache value
/// takes (so how much memory a decode step reads and how much the model occupies) and which
/// tensor-core peak applies. int8 is modelled as W8A8 with an int8 KV cache (as SmoothQuant
/// with int8 KV): 1 byte per value and the int8 TOP/s peak. A weight-only int8 scheme would keep
/// the fp16 peak and fp16 KV cache; it is not modelled.
public enum Precision: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// IEEE half precision, 2 bytes per value, fp16 tensor peak.
    case fp16
    /// bfloat16, 2 bytes per value, bf16 tensor peak (equal to fp16's on these GPUs).
    case bf16
    /// 8-bit integer weights, activations and KV cache, 1 byte per value, int8 tensor peak.
    case int8

    /// Bytes per weight or KV-cache value.
    public var bytesPerValue: Int {
        switch self {
        case .fp16, .bf16: 2
        case .int8: 1
        }
    }

    /// The name as written in labels and configs (`fp16`, `bf16`, `int8`).
    public var description: String { rawValue }

    /// Looks a precision up by name, case-insensitively, accepting common spellings
    /// (`float16`, `half`, `bfloat16`), and says what was meant when the name is unknown.
    public static func named(_ name: String) throws(ProfileLookupError) -> Precision {
        let key = name.lowercased().filter { $0.isLetter || $0.isNumber }
        switch key {
        case "fp16", "float16", "half", "f16": return .fp16
        case "bf16", "bfloat16": return .bf16
        case "int8", "i8", "w8a8": return .int8
        default:
            throw ProfileLookupError(
                kind: "precision", name: name,
                suggestions: ProfileLookupError.suggestions(
                    for: key, among: allCases.map { ($0.rawValue, [$0.rawValue]) }),
                known: allCases.map(\.rawValue))
        }
    }
}
