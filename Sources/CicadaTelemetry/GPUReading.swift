/// One GPU (or MIG instance) as a source reported it at one moment.
///
/// Every field is optional and an absent value stays nil, never 0: a DCGM blank sentinel, an
/// `[N/A]` from nvidia-smi or a power reading a GPU does not support must not look like an idle
/// GPU to a threshold such as "GPU memory < 90%". Memory is in bytes whatever the source's unit
/// (DCGM and nvidia-smi give MiB), utilization is a 0...1 ratio (DCGM, NVML and nvidia-smi give
/// percent), power is in watts (NVML gives milliwatts).
public struct GPUReading: Sendable, Equatable {
    /// The GPU's index on its host (NVML / nvidia-smi index, DCGM `gpu` label).
    public var index: Int?
    /// The GPU's UUID, `GPU-xxxxxxxx-...`; under MIG, the parent GPU's UUID.
    public var uuid: String?
    /// The product name, e.g. `NVIDIA H100 80GB HBM3`.
    public var name: String?
    /// The MIG GPU instance id (DCGM `GPU_I_ID`) when the reading is for a MIG instance.
    public var migInstanceID: String?
    /// Device memory in use, bytes. NVML v2, DCGM and nvidia-smi exclude the driver's reserved memory.
    public var memoryUsedBytes: UInt64?
    /// Device memory capacity, bytes.
    public var memoryTotalBytes: UInt64?
    /// Device memory free, bytes.
    public var memoryFreeBytes: UInt64?
    /// Memory the driver reserves for itself, bytes (NVML v2, DCGM `FB_RESERVED`).
    public var memoryReservedBytes: UInt64?
    /// GPU utilization over the source's sample period, 0...1.
    public var utilization: Double?
    /// Power draw in watts.
    public var powerWatts: Double?

    /// Creates a reading; every field defaults to absent.
    public init(
        index: Int? = nil, uuid: String? = nil, name: String? = nil, migInstanceID: String? = nil,
        memoryUsedBytes: UInt64? = nil, memoryTotalBytes: UInt64? = nil, memoryFreeBytes: UInt64? = nil,
        memoryReservedBytes: UInt64? = nil, utilization: Double? = nil, powerWatts: Double? = nil
    ) {
        self.index = index
        self.uuid = uuid
        self.name = name
        self.migInstanceID = migInstanceID
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryFreeBytes = memoryFreeBytes
        self.memoryReservedBytes = memoryReservedBytes
        self.utilization = utilization
        self.powerWatts = powerWatts
    }

    /// Used memory as a fraction of total (0...1), when both are known and total is not zero.
    ///
    /// This is what a "GPU memory < 90%" threshold compares; it is nil rather than 0 when
    /// either figure is missing, so an unknown reading cannot pass the threshold by accident.
    public var memoryUsedFraction: Double? {
        guard let used = memoryUsedBytes, let total = memoryTotalBytes, total > 0 else { return nil }
        return Double(used) / Double(total)
    }
}
