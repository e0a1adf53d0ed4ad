import CNVML
import CicadaCore
import Foundation

/// Reads every GPU's name, UUID, memory, utilization and power through NVML, loaded with dlopen.
///
/// Cicada links no NVIDIA library: the reader `dlopen`s `libnvidia-ml.so.1` (or the path given
/// to ``init(libraryPath:environment:timeSource:)``, or `$CICADA_NVML_LIBRARY`), so the same
/// binary runs on machines without a GPU and tests can substitute a fake library. The library
/// stays loaded and initialised for the reader's lifetime, because `nvmlInit` can take hundreds
/// of milliseconds and a poller reads every second; `deinit` shuts it down.
///
/// Memory comes from `nvmlDeviceGetMemoryInfo_v2` when the driver has it (used excludes the
/// driver's reserved memory, as nvidia-smi shows it) and from `nvmlDeviceGetMemoryInfo`
/// otherwise (used includes reserved). A value the device does not support (NVML 3) or a
/// function the driver lacks (NVML 13) stays nil; any other failure throws an ``NVMLError``
/// naming the function.
public final class NVMLReader: @unchecked Sendable {
    // @unchecked: the only state is the library handle, written once in init and read-only
    // afterwards; NVML documents its API as thread-safe.

    /// The library loaded when nothing overrides it.
    public static let defaultLibrary = "libnvidia-ml.so.1"
    /// The environment variable that overrides the library path.
    public static let libraryEnvironmentKey = "CICADA_NVML_LIBRARY"

    /// The path or soname that was loaded.
    public let libraryPath: String
    private let library: OpaquePointer
    private let timeSource: any TimeSource

    /// Loads NVML and calls `nvmlInit_v2`.
    ///
    /// - Parameters:
    ///   - libraryPath: the library to load; when nil, `environment["CICADA_NVML_LIBRARY"]`,
    ///     then ``defaultLibrary``.
    ///   - environment: where the override is looked up (injected so tests need not set the
    ///     process environment).
    ///   - timeSource: stamps each reading's ``TelemetryReading/timeNanos``.
    /// - Throws: ``NVMLError`` for `dlopen`, a missing required symbol (`dlsym`), or `nvmlInit_v2`.
    public init(
        libraryPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        timeSource: any TimeSource = MonotonicTimeSource()
    ) throws(NVMLError) {
        let path = libraryPath ?? environment[Self.libraryEnvironmentKey].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultLibrary
        self.libraryPath = path
        self.timeSource = timeSource
        var handle: OpaquePointer?
        var error = [CChar](repeating: 0, count: 1024)
        let opened = cnvml_open(path, &handle, &error, error.count)
        let text = Self.string(error)
        switch opened {
        case Int32(CNVML_OPEN_OK):
            break
        case Int32(CNVML_OPEN_DLOPEN_FAILED):
            throw NVMLError(function: "dlopen", code: nil, message: "cannot load \(path): \(text)")
        case Int32(CNVML_OPEN_SYMBOL_MISSING):
            throw NVMLError(function: "dlsym", code: nil, message: "\(path) has no \(text)")
        default:
            throw NVMLError(function: "dlopen", code: nil, message: text.isEmpty ? "cannot load \(path)" : text)
        }
        guard let handle else { throw NVMLError(function: "dlopen", code: nil, message: "cannot load \(path)") }
        let result = cnvml_init(handle)
        if result != 0 {
            let failure = Self.error("nvmlInit_v2", result, handle)
            cnvml_close(handle)
            throw failure
        }
        library = handle
    }

    deinit {
        _ = cnvml_shutdown(library)
        cnvml_close(library)
    }

    /// Reads every GPU NVML sees, in index order.
    public func read() throws(NVMLError) -> TelemetryReading {
        var count: UInt32 = 0
        try check("nvmlDeviceGetCount_v2", cnvml_device_count(library, &count))
        var gpus: [GPUReading] = []
        gpus.reserveCapacity(Int(count))
        for index in 0..<count {
            gpus.append(try readDevice(index))
        }
        return TelemetryReading(source: .nvml, timeNanos: timeSource.nowNanos(), gpus: gpus)
    }

    private func readDevice(_ index: UInt32) throws(NVMLError) -> GPUReading {
        var device: nvmlDevice_t?
        try check("nvmlDeviceGetHandleByIndex_v2", cnvml_device_handle_by_index(library, index, &device))
        var gpu = GPUReading(index: Int(index))

        var name = [CChar](repeating: 0, count: Int(CNVML_NAME_BUFFER_SIZE))
        if try optional("nvmlDeviceGetName", cnvml_device_name(library, device, &name, UInt32(name.count))) {
            gpu.name = Self.string(name)
        }
        var uuid = [CChar](repeating: 0, count: Int(CNVML_UUID_BUFFER_SIZE))
        if try optional("nvmlDeviceGetUUID", cnvml_device_uuid(library, device, &uuid, UInt32(uuid.count))) {
            gpu.uuid = Self.string(uuid)
        }

        var memory2 = nvmlMemory_v2_t()
        let v2 = cnvml_device_memory_info_v2(library, device, &memory2)
        if v2 == 0 {
            gpu.memoryTotalBytes = memory2.total
            gpu.memoryUsedBytes = memory2.used
            gpu.memoryFreeBytes = memory2.free
            gpu.memoryReservedBytes = memory2.reserved
        } else if v2 == NVMLError.functionNotFound || v2 == NVMLError.notSupported || v2 == NVMLError.argumentVersionMismatch {
            // Drivers before the v2 struct: fall back to v1, whose `used` includes reserved memory.
            var memory = nvmlMemory_t()
            if try optional("nvmlDeviceGetMemoryInfo", cnvml_device_memory_info(library, device, &memory)) {
                gpu.memoryTotalBytes = memory.total
                gpu.memoryUsedBytes = memory.used
                gpu.memoryFreeBytes = memory.free
            }
        } else {
            throw Self.error("nvmlDeviceGetMemoryInfo_v2", v2, library)
        }

        var utilization = nvmlUtilization_t()
        if try optional("nvmlDeviceGetUtilizationRates", cnvml_device_utilization_rates(library, device, &utilization)) {
            gpu.utilization = Double(utilization.gpu) / 100
        }
        var milliwatts: UInt32 = 0
        if try optional("nvmlDeviceGetPowerUsage", cnvml_device_power_usage(library, device, &milliwatts)) {
            gpu.powerWatts = Double(milliwatts) / 1000
        }
        return gpu
    }

    private func check(_ function: String, _ result: nvmlReturn_t) throws(NVMLError) {
        if result != 0 { throw Self.error(function, result, library) }
    }

    /// True on success, false when the value is not available on this device or driver.
    private func optional(_ function: String, _ result: nvmlReturn_t) throws(NVMLError) -> Bool {
        switch result {
        case 0: return true
        case NVMLError.notSupported, NVMLError.functionNotFound: return false
        default: throw Self.error(function, result, library)
        }
    }

    private static func error(_ function: String, _ code: nvmlReturn_t, _ library: OpaquePointer) -> NVMLError {
        let text = cnvml_error_string(library, code).map { String(cString: $0) } ?? NVMLError.text(for: code)
        return NVMLError(function: function, code: code, message: text)
    }

    private static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
