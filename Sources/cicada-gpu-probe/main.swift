// cicada-gpu-probe: prints each GPU as Cicada's NVML reader and nvidia-smi reader see it, one
// JSON object per line, for scripts/check-nvml.sh. A debugging aid, not part of the cicada CLI.
//
//   cicada-gpu-probe [--nvml-library PATH] [--no-nvidia-smi] [--no-nvml]
//
// Exit status: 0 when every requested source was read, 1 otherwise, 2 for a usage error.
import CicadaTelemetry
import Foundation

var libraryPath: String?
var useNVML = true
var useSMI = true
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--nvml-library":
        guard let path = arguments.popFirst() else {
            FileHandle.standardError.write(Data("--nvml-library needs a path\n".utf8))
            exit(2)
        }
        libraryPath = path
    case "--no-nvidia-smi": useSMI = false
    case "--no-nvml": useNVML = false
    case "-h", "--help":
        print("usage: cicada-gpu-probe [--nvml-library PATH] [--no-nvidia-smi] [--no-nvml]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func field(_ value: (some CustomStringConvertible)?) -> String { value.map { "\($0)" } ?? "null" }
func field(_ value: String?) -> String { value.map(quoted) ?? "null" }
func field(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "null" }
    return "\(value)"
}

func line(_ source: TelemetrySource, _ gpu: GPUReading) -> String {
    let pairs: [(String, String)] = [
        ("source", quoted(source.rawValue)),
        ("index", field(gpu.index)),
        ("uuid", field(gpu.uuid)),
        ("name", field(gpu.name)),
        ("memory_total_bytes", field(gpu.memoryTotalBytes)),
        ("memory_used_bytes", field(gpu.memoryUsedBytes)),
        ("memory_free_bytes", field(gpu.memoryFreeBytes)),
        ("memory_reserved_bytes", field(gpu.memoryReservedBytes)),
        ("utilization", field(gpu.utilization)),
        ("power_watts", field(gpu.powerWatts)),
    ]
    return "{" + pairs.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
}

func errorLine(_ source: TelemetrySource, _ error: any Error) -> String {
    "{\"source\":\(quoted(source.rawValue)),\"error\":\(quoted(String(describing: error)))}"
}

var failed = false
var nvml: [GPUReading] = []
var smi: [GPUReading] = []
if useNVML {
    do {
        nvml = try NVMLReader(libraryPath: libraryPath).read().gpus
    } catch {
        print(errorLine(.nvml, error))
        failed = true
    }
}
if useSMI {
    do {
        smi = try NvidiaSMIReader().read().gpus
    } catch {
        print(errorLine(.nvidiaSMI, error))
        failed = true
    }
}
// Side by side: each NVML GPU followed by the nvidia-smi line with the same UUID (or index).
var unmatched = smi
for gpu in nvml {
    print(line(.nvml, gpu))
    if let i = unmatched.firstIndex(where: { ($0.uuid != nil && $0.uuid == gpu.uuid) || ($0.uuid == nil && $0.index == gpu.index) }) {
        print(line(.nvidiaSMI, unmatched.remove(at: i)))
    }
}
for gpu in unmatched { print(line(.nvidiaSMI, gpu)) }
exit(failed ? 1 : 0)
