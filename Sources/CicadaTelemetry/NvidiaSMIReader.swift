import CicadaCore
import Foundation

/// Reads GPUs by running `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`.
///
/// This is the fallback for machines where NVML cannot be loaded in process; nvidia-smi's
/// output format is not guaranteed stable, so NVML is preferred. The command is looked up on the
/// injected environment's PATH (so tests put a fake script first) and killed after ``timeout``.
/// Parsing is the pure function ``parse(_:)``, tested without running anything.
public struct NvidiaSMIReader: Sendable {
    /// The fields queried, in output order: MiB for memory, percent for utilization, watts for power.
    public static let queryFields = ["index", "uuid", "name", "memory.total", "memory.used", "memory.free", "utilization.gpu", "power.draw"]
    /// The arguments passed to nvidia-smi.
    public static let arguments = ["--query-gpu=" + queryFields.joined(separator: ","), "--format=csv,noheader,nounits"]

    /// The command: a name looked up on PATH, or a path.
    public var executable: String
    /// How long nvidia-smi may run before it is killed.
    public var timeout: Duration
    /// The environment the command is looked up in and run with.
    public var environment: [String: String]
    /// Stamps each reading's ``TelemetryReading/timeNanos``.
    public var timeSource: any TimeSource

    /// Creates a reader.
    public init(
        executable: String = "nvidia-smi", timeout: Duration = .seconds(10),
        environment: [String: String] = ProcessInfo.processInfo.environment, timeSource: any TimeSource = MonotonicTimeSource()
    ) {
        self.executable = executable
        self.timeout = timeout
        self.environment = environment
        self.timeSource = timeSource
    }

    /// Runs nvidia-smi once and parses its output.
    public func read() throws(NvidiaSMIError) -> TelemetryReading {
        guard let path = ProcessRunner.find(executable, environment: environment) else {
            throw .notFound(executable: executable, searchPath: environment["PATH"] ?? "")
        }
        let output: ProcessRunner.Output
        do {
            output = try ProcessRunner.run(path, arguments: Self.arguments, environment: environment, timeout: timeout)
        } catch {
            switch error {
            case .launch(let reason): throw .launchFailed(executable: path, reason: reason)
            case .timedOut: throw .timedOut(after: timeout)
            }
        }
        let stdout = String(decoding: output.stdout, as: UTF8.self)
        guard output.status == 0 else {
            let stderr = String(decoding: output.stderr, as: UTF8.self)
            let said = (stdout + "\n" + stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .failed(status: output.status, output: said)
        }
        let gpus = try Self.parse(stdout)
        return TelemetryReading(source: .nvidiaSMI, timeNanos: timeSource.nowNanos(), gpus: gpus)
    }

    /// Parses `--format=csv,noheader,nounits` output of ``queryFields``, one GPU per line.
    ///
    /// A bracketed value (`[N/A]`, `[Not Supported]`, `[Unknown Error]`, ...) or a bare `N/A`
    /// is absent, never 0. A GPU name containing commas is rejoined, since only that field can.
    public static func parse(_ output: String) throws(NvidiaSMIError) -> [GPUReading] {
        var gpus: [GPUReading] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so lines are split on any newline Character.
        for rawLine in output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            var raw = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard raw.count >= queryFields.count else {
                throw .malformed(line: lineNumber, message: "expected \(queryFields.count) comma-separated fields (\(queryFields.joined(separator: ", "))), found \(raw.count)")
            }
            if raw.count > queryFields.count {
                let extra = raw.count - queryFields.count
                raw.replaceSubrange(2...(2 + extra), with: [raw[2...(2 + extra)].joined(separator: ",")])
            }
            let fields = raw.map { $0.trimmingCharacters(in: .whitespaces) }
            var gpu = GPUReading()
            if let index = try number(fields[0], "index", lineNumber) {
                guard let whole = Int(exactly: index) else {
                    throw .malformed(line: lineNumber, message: "index: expected a whole number, found '\(fields[0])'")
                }
                gpu.index = whole
            }
            gpu.uuid = isAbsent(fields[1]) ? nil : fields[1]
            gpu.name = isAbsent(fields[2]) ? nil : fields[2]
            gpu.memoryTotalBytes = try number(fields[3], "memory.total", lineNumber).flatMap(KnownFamilies.bytes(mebibytes:))
            gpu.memoryUsedBytes = try number(fields[4], "memory.used", lineNumber).flatMap(KnownFamilies.bytes(mebibytes:))
            gpu.memoryFreeBytes = try number(fields[5], "memory.free", lineNumber).flatMap(KnownFamilies.bytes(mebibytes:))
            gpu.utilization = try number(fields[6], "utilization.gpu", lineNumber).map { $0 / 100 }
            gpu.powerWatts = try number(fields[7], "power.draw", lineNumber)
            gpus.append(gpu)
        }
        return gpus
    }

    private static func isAbsent(_ field: String) -> Bool {
        field.isEmpty || (field.hasPrefix("[") && field.hasSuffix("]")) || field == "N/A"
    }

    private static func number(_ field: String, _ name: String, _ line: Int) throws(NvidiaSMIError) -> Double? {
        if isAbsent(field) { return nil }
        guard let value = Double(field), value.isFinite, value >= 0 else {
            throw .malformed(line: line, message: "\(name): expected a non-negative number, found '\(field)'")
        }
        return value
    }
}
