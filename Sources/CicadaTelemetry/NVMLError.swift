/// A failure to load or read NVML, naming the C function that failed.
///
/// `dlopen` and `dlsym` failures carry no NVML code; NVML calls carry theirs (9 driver not
/// loaded, 12 library not found, 999 unknown, ...) and NVML's own text for it. Naming the
/// function turns "GPU telemetry failed" into something a user can search for or report.
public struct NVMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing function: `dlopen`, `dlsym`, or an NVML function such as `nvmlDeviceGetMemoryInfo`.
    public var function: String
    /// The NVML return code; nil for `dlopen` and `dlsym` failures.
    public var code: Int32?
    /// What went wrong, in words (NVML's error string, dlerror's text or a missing symbol's name).
    public var message: String

    /// Creates an error.
    public init(function: String, code: Int32?, message: String) {
        self.function = function
        self.code = code
        self.message = message
    }

    /// NVML_ERROR_NOT_SUPPORTED: the device cannot report this value.
    public static let notSupported: Int32 = 3
    /// NVML_ERROR_NO_PERMISSION.
    public static let noPermission: Int32 = 4
    /// NVML_ERROR_DRIVER_NOT_LOADED: the NVIDIA kernel driver is not running.
    public static let driverNotLoaded: Int32 = 9
    /// NVML_ERROR_LIBRARY_NOT_FOUND: NVML could not find a library it needs.
    public static let libraryNotFound: Int32 = 12
    /// NVML_ERROR_FUNCTION_NOT_FOUND: the loaded library lacks the function (older driver).
    public static let functionNotFound: Int32 = 13
    /// NVML_ERROR_ARGUMENT_VERSION_MISMATCH: the driver does not know this struct version.
    public static let argumentVersionMismatch: Int32 = 25
    /// NVML_ERROR_UNKNOWN.
    public static let unknown: Int32 = 999

    /// True when NVML is not usable on this machine at all (no library, no driver), as opposed
    /// to a failed read on a working GPU: the case in which falling back to nvidia-smi makes sense.
    public var meansNVMLUnavailable: Bool {
        switch function {
        case "dlopen", "dlsym": return true
        default: return code == Self.driverNotLoaded || code == Self.libraryNotFound
        }
    }

    /// `nvmlDeviceGetMemoryInfo failed: NVML error 999 (Unknown Error)`, or the dlopen text.
    public var description: String {
        guard let code else { return "NVMLError: \(function) failed: \(message)" }
        var text = "NVMLError: \(function) failed: NVML error \(code) (\(message))"
        switch code {
        case Self.driverNotLoaded: text += "; the NVIDIA kernel driver is not loaded on this machine"
        case Self.libraryNotFound: text += "; NVML could not find a library it depends on (driver install incomplete?)"
        default: break
        }
        return text
    }

    /// NVML's name for a return code, for libraries without `nvmlErrorString`.
    static func text(for code: Int32) -> String {
        switch code {
        case 1: return "Uninitialized"
        case 2: return "Invalid Argument"
        case 3: return "Not Supported"
        case 4: return "Insufficient Permissions"
        case 5: return "Already Initialized"
        case 6: return "Not Found"
        case 7: return "Insufficient Size"
        case 8: return "Insufficient External Power"
        case 9: return "Driver Not Loaded"
        case 10: return "Timeout"
        case 11: return "Interrupt Request Issue"
        case 12: return "NVML Shared Library Not Found"
        case 13: return "Function Not Found"
        case 14: return "Corrupted infoROM"
        case 15: return "GPU is lost"
        case 16: return "GPU requires restart"
        case 17: return "The operating system has blocked the request"
        case 18: return "RM has detected an NVML/RM version mismatch"
        case 19: return "In use by another client"
        case 20: return "Insufficient Memory"
        case 21: return "No data"
        case 25: return "Argument version mismatch"
        case 999: return "Unknown Error"
        default: return "NVML return code \(code)"
        }
    }
}
