import CicadaCore
import Foundation
import Testing

@testable import CicadaTelemetry

private let mib: UInt64 = 1_048_576

@Suite("NvidiaSMIReader: parsing")
struct NvidiaSMIParseTests {
    @Test("MiB, percent and watts; [N/A] and [Not Supported] are absent")
    func parse() throws {
        let output = """
        0, GPU-9e0bbbf3-0d0b-4e6c-2fbb-6a3c0d0f1c11, NVIDIA H200, 143771, 78560, 64518, 97, 512.37
        1, GPU-bbbbbbbb-0000-0000-0000-000000000000, NVIDIA A10, 23028, [N/A], [Not Supported], [N/A], [Not Supported]

        """
        let gpus = try NvidiaSMIReader.parse(output)
        #expect(gpus == [
            GPUReading(
                index: 0, uuid: "GPU-9e0bbbf3-0d0b-4e6c-2fbb-6a3c0d0f1c11", name: "NVIDIA H200",
                memoryUsedBytes: 78560 * mib, memoryTotalBytes: 143_771 * mib, memoryFreeBytes: 64518 * mib,
                utilization: 0.97, powerWatts: 512.37),
            GPUReading(index: 1, uuid: "GPU-bbbbbbbb-0000-0000-0000-000000000000", name: "NVIDIA A10", memoryTotalBytes: 23028 * mib),
        ])
    }

    @Test("CRLF, other bracketed errors, a bare N/A and a name with a comma")
    func oddities() throws {
        let output = "0, GPU-a, Odd, Name, 100, 1, 99, [Unknown Error], N/A\r\n"
        let gpus = try NvidiaSMIReader.parse(output)
        #expect(gpus == [GPUReading(index: 0, uuid: "GPU-a", name: "Odd, Name", memoryUsedBytes: 1 * mib, memoryTotalBytes: 100 * mib, memoryFreeBytes: 99 * mib)])
    }

    @Test("no output means no GPUs")
    func empty() throws {
        #expect(try NvidiaSMIReader.parse("").isEmpty)
        #expect(try NvidiaSMIReader.parse("\n\n").isEmpty)
    }

    @Test("malformed lines are errors with their line number", arguments: [
        ("0, GPU-a, n, 100", 1, "expected 8 comma-separated fields"),
        ("\n0, GPU-a, n, abc, 1, 1, 1, 1", 2, "memory.total: expected a non-negative number, found 'abc'"),
        ("0, GPU-a, n, 1, 1, 1, 1, 1\nx, GPU-b, n, 1, 1, 1, 1, 1", 2, "index: expected a non-negative number, found 'x'"),
        ("1.5, GPU-a, n, 1, 1, 1, 1, 1", 1, "index: expected a whole number"),
        ("0, GPU-a, n, 1, 1, 1, -3, 1", 1, "utilization.gpu: expected a non-negative number"),
    ])
    func malformed(output: String, line: Int, message: String) {
        #expect {
            _ = try NvidiaSMIReader.parse(output)
        } throws: { error in
            guard case .malformed(let at, let text)? = error as? NvidiaSMIError else { return false }
            return at == line && text.contains(message)
        }
    }

    @Test("the query is the one documented")
    func arguments() {
        #expect(NvidiaSMIReader.arguments == [
            "--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,power.draw",
            "--format=csv,noheader,nounits",
        ])
    }
}

@Suite("NvidiaSMIReader: a fake nvidia-smi on PATH")
struct NvidiaSMIProcessTests {
    /// A PATH with only the fake's directory and the system's basic tools (for /bin/sh and sleep).
    private func environment(_ directory: TemporaryDirectory) -> [String: String] {
        ["PATH": "\(directory.path):/usr/bin:/bin"]
    }

    @Test("runs the query, checks its arguments, parses its output and stamps the time")
    func reads() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("nvidia-smi", """
        #!/bin/sh
        if [ "$#" -ne 2 ] || [ "$1" != "--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,power.draw" ] || [ "$2" != "--format=csv,noheader,nounits" ]; then
          echo "unexpected arguments: $*" >&2
          exit 64
        fi
        echo "0, GPU-fake-0, NVIDIA H200, 143771, 1024, 142747, 3, 75.12"
        echo "1, GPU-fake-1, NVIDIA H200, 143771, [N/A], [N/A], [N/A], [N/A]"
        """, executable: true)
        let clock = ManualTimeSource(startNanos: 42)
        let reading = try NvidiaSMIReader(environment: environment(directory), timeSource: clock).read()
        #expect(reading.source == .nvidiaSMI)
        #expect(reading.timeNanos == 42)
        #expect(reading.gpus.count == 2)
        #expect(reading.gpus[0].memoryUsedBytes == 1024 * mib)
        #expect(reading.gpus[0].powerWatts == 75.12)
        #expect(reading.gpus[1].memoryUsedBytes == nil)
        #expect(reading.gpus[1].memoryTotalBytes == 143_771 * mib)
    }

    @Test("a non-zero exit is an error carrying what nvidia-smi printed")
    func fails() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("nvidia-smi", """
        #!/bin/sh
        echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
        exit 9
        """, executable: true)
        #expect {
            _ = try NvidiaSMIReader(environment: environment(directory)).read()
        } throws: { error in
            guard case .failed(let status, let output)? = error as? NvidiaSMIError else { return false }
            return status == 9 && output.contains("couldn't communicate with the NVIDIA driver")
        }
    }

    @Test("a hung nvidia-smi is killed at the timeout")
    func timesOut() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("nvidia-smi", "#!/bin/sh\nexec sleep 30\n", executable: true)
        let reader = NvidiaSMIReader(timeout: .milliseconds(300), environment: environment(directory))
        #expect(throws: NvidiaSMIError.timedOut(after: .milliseconds(300))) {
            _ = try reader.read()
        }
    }

    @Test("not on PATH is its own error")
    func notFound() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: NvidiaSMIError.notFound(executable: "nvidia-smi", searchPath: directory.path)) {
            _ = try NvidiaSMIReader(environment: ["PATH": directory.path]).read()
        }
    }

    @Test("garbage output is a parse error, not an empty reading")
    func garbage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("nvidia-smi", "#!/bin/sh\necho 'Usage: nvidia-smi [OPTION1 [ARG1]] ...'\n", executable: true)
        #expect {
            _ = try NvidiaSMIReader(environment: environment(directory)).read()
        } throws: { error in
            if case .malformed(1, _)? = error as? NvidiaSMIError { return true }
            return false
        }
    }
}
