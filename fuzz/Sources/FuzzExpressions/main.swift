import CicadaCore
import FuzzDriver

/// The small languages in a scenario: threshold expressions, duration text and body templates
/// (parsed and rendered): an error message, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExpressions(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Threshold(ThresholdSpec(text))
    _ = DurationText.parse(text)
    _ = DurationText.parse(text, defaultUnit: .milliseconds)
    for escaping in [Template.Escaping.none, .jsonString] {
        if let t = try? Template(parsing: text, escaping: escaping) {
            var rng = SeededRandom(seed: 1)
            _ = t.render(context: .init(user: 3, seq: 7, prompts: ["a", "b\"c"]), rng: &rng)
        }
    }
    return 0
}

runFuzzer(fuzzExpressions)
