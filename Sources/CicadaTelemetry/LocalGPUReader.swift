import CicadaCore
import Foundation
import Synchronization

/// Reads the local GPUs through NVML, or through nvidia-smi when NVML cannot be loaded.
///
/// The choice is made on the first read and kept: when the library or the driver is missing
/// (``NVMLError/meansNVMLUnavailable``), every read runs nvidia-smi, and ``nvmlUnavailableReason``
/// says why. A failed read on a working NVML is thrown, not papered over by nvidia-smi, since
/// both would ask the same driver.
public final class LocalGPUReader: Sendable {
    private enum Backend {
        case untried
        case nvml(NVMLReader)
        case nvidiaSMI(NVMLError)
    }

    private let backend = Mutex(Backend.untried)
    private let nvmlLibraryPath: String?
    private let environment: [String: String]
    private let timeSource: any TimeSource
    private let nvidiaSMI: NvidiaSMIReader

    /// Creates a reader; nothing is loaded or run until ``read()``.
    public init(
        nvmlLibraryPath: String? = nil, nvidiaSMITimeout: Duration = .seconds(10),
        environment: [String: String] = ProcessInfo.processInfo.environment, timeSource: any TimeSource = MonotonicTimeSource()
    ) {
        self.nvmlLibraryPath = nvmlLibraryPath
        self.environment = environment
        self.timeSource = timeSource
        nvidiaSMI = NvidiaSMIReader(timeout: nvidiaSMITimeout, environment: environment, timeSource: timeSource)
    }

    /// Why NVML is not used, once a read has found it unavailable; nil otherwise.
    public var nvmlUnavailableReason: NVMLError? {
        backend.withLock { state in
            if case .nvidiaSMI(let reason) = state { return reason }
            return nil
        }
    }

    /// Reads every local GPU; throws ``NVMLError`` or ``NvidiaSMIError``.
    public func read() throws -> TelemetryReading {
        let chosen: Backend = backend.withLock { state in
            if case .untried = state {
                do throws(NVMLError) {
                    state = .nvml(try NVMLReader(libraryPath: nvmlLibraryPath, environment: environment, timeSource: timeSource))
                } catch {
                    // Unavailable: nvidia-smi from now on. Another init failure: thrown, and
                    // NVML is tried again on the next read.
                    if error.meansNVMLUnavailable { state = .nvidiaSMI(error) } else { return .nvidiaSMI(error) }
                }
            }
            return state
        }
        switch chosen {
        case .nvml(let reader): return try reader.read()
        case .nvidiaSMI(let reason) where !reason.meansNVMLUnavailable: throw reason
        case .nvidiaSMI: return try nvidiaSMI.read()
        case .untried: throw NVMLError(function: "nvmlInit_v2", code: nil, message: "NVML was not tried")
        }
    }
}
