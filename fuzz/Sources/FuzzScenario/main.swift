import CicadaScenario
import FuzzDriver

/// Scenario YAML: any text gives a scenario (with its compare or sweep block) or a list of
/// errors with file:line:column, never a crash or a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenario(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // A folder with no files: `prompts:` names resolve to nothing rather than this machine's files.
    _ = try? ScenarioReader().parseDocument(text, file: "fuzz.yaml", baseDirectory: "/nonexistent-cicada-fuzz")
    return 0
}

runFuzzer(fuzzScenario)
