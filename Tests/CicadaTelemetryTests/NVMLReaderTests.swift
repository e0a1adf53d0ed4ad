import CicadaCore
import Foundation
import Testing

@testable import CicadaTelemetry

/// A stand-in for libnvidia-ml with known values, compiled by the tests. Preprocessor flags
/// select failures: INIT_RESULT=n, NO_INIT, NO_V2, V2_RESULT=n, MEMORY_FAILS.
private let fakeNVMLSource = #"""
#include <stdio.h>

typedef struct { unsigned long long total, free, used; } mem_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } mem2_t;
typedef struct { unsigned int gpu, memory; } util_t;

static int devices[2];
static int index_of(void *device) { return device == (void *)&devices[1] ? 1 : 0; }

#ifndef NO_INIT
int nvmlInit_v2(void) {
#ifdef INIT_RESULT
    return INIT_RESULT;
#else
    return 0;
#endif
}
#endif
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned int *count) { *count = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) {
    if (index > 1) return 2;
    *device = &devices[index];
    return 0;
}
int nvmlDeviceGetName(void *device, char *name, unsigned int length) {
    snprintf(name, length, "%s", index_of(device) ? "Fake Small GPU" : "Fake H200");
    return 0;
}
int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length) {
    snprintf(uuid, length, "GPU-fake-000%d", index_of(device));
    return 0;
}
#ifndef NO_V2
int nvmlDeviceGetMemoryInfo_v2(void *device, mem2_t *memory) {
#ifdef V2_RESULT
    return V2_RESULT;
#endif
    if (memory->version != ((unsigned int)sizeof(mem2_t) | (2u << 24))) return 25;
    if (index_of(device) == 0) {
        memory->total = 150754820096ULL;
        memory->reserved = 610271232ULL;
        memory->used = 1073741824ULL;
        memory->free = memory->total - memory->reserved - memory->used;
    } else {
        memory->total = 8ULL << 30;
        memory->reserved = 0;
        memory->used = 2ULL << 30;
        memory->free = 6ULL << 30;
    }
    return 0;
}
#endif
int nvmlDeviceGetMemoryInfo(void *device, mem_t *memory) {
#ifdef MEMORY_FAILS
    return 999;
#endif
    memory->total = 80ULL << 30;
    memory->used = index_of(device) ? (1ULL << 30) : (5ULL << 30);
    memory->free = memory->total - memory->used;
    return 0;
}
int nvmlDeviceGetUtilizationRates(void *device, util_t *utilization) {
    utilization->gpu = index_of(device) ? 0 : 87;
    utilization->memory = 40;
    return 0;
}
int nvmlDeviceGetPowerUsage(void *device, unsigned int *milliwatts) {
    if (index_of(device) == 1) return 3; /* NVML_ERROR_NOT_SUPPORTED */
    *milliwatts = 512370;
    return 0;
}
const char *nvmlErrorString(int result) {
    switch (result) {
    case 9: return "Driver Not Loaded";
    case 12: return "NVML Shared Library Not Found";
    case 15: return "GPU is lost";
    case 999: return "Unknown Error";
    default: return "Fake Error";
    }
}
"""#

/// Compiles the fake library with `defines` into a fresh directory; returns the directory and the library path.
private func fakeNVML(_ defines: [String] = []) throws -> (TemporaryDirectory, String) {
    let compiler = try #require(findOnPath(["cc", "clang", "gcc"]), "a C compiler is needed to build the fake libnvidia-ml")
    let directory = try TemporaryDirectory()
    let source = try directory.write("fake-nvml.c", fakeNVMLSource)
    let library = directory.url.appendingPathComponent("libfake-nvml.so").path
    let result = try runCommand(compiler, ["-shared", "-fPIC", "-o", library, source] + defines.map { "-D" + $0 })
    try #require(result.status == 0, "cc failed: \(result.output)")
    return (directory, library)
}

@Suite("NVMLReader: a fake libnvidia-ml built by the test")
struct NVMLReaderTests {
    @Test("reads names, UUIDs, v2 memory, utilization and power; unsupported power stays nil")
    func reads() throws {
        let (directory, library) = try fakeNVML()
        defer { directory.remove() }
        let reader = try NVMLReader(libraryPath: library, environment: [:], timeSource: ManualTimeSource(startNanos: 99))
        let reading = try reader.read()
        #expect(reading.source == .nvml)
        #expect(!reading.modelled)
        #expect(reading.timeNanos == 99)
        #expect(reading.gpus == [
            GPUReading(
                index: 0, uuid: "GPU-fake-0000", name: "Fake H200", memoryUsedBytes: 1_073_741_824,
                memoryTotalBytes: 150_754_820_096, memoryFreeBytes: 150_754_820_096 - 610_271_232 - 1_073_741_824,
                memoryReservedBytes: 610_271_232, utilization: 0.87, powerWatts: 512.37),
            GPUReading(
                index: 1, uuid: "GPU-fake-0001", name: "Fake Small GPU", memoryUsedBytes: 2 << 30,
                memoryTotalBytes: 8 << 30, memoryFreeBytes: 6 << 30, memoryReservedBytes: 0, utilization: 0, powerWatts: nil),
        ])
        // Reading again uses the same loaded library.
        #expect(try reader.read().gpus.count == 2)
    }

    @Test("a driver without nvmlDeviceGetMemoryInfo_v2 falls back to v1 (used includes reserved)")
    func v1Fallback() throws {
        let (directory, library) = try fakeNVML(["NO_V2"])
        defer { directory.remove() }
        let gpu = try #require(try NVMLReader(libraryPath: library, environment: [:]).read().gpus.first)
        #expect(gpu.memoryTotalBytes == 80 << 30)
        #expect(gpu.memoryUsedBytes == 5 << 30)
        #expect(gpu.memoryFreeBytes == 75 << 30)
        #expect(gpu.memoryReservedBytes == nil)
    }

    @Test("a failing memory call names the function, the code and NVML's text")
    func memoryFails() throws {
        let (directory, library) = try fakeNVML(["NO_V2", "MEMORY_FAILS"])
        defer { directory.remove() }
        let reader = try NVMLReader(libraryPath: library, environment: [:])
        #expect(throws: NVMLError(function: "nvmlDeviceGetMemoryInfo", code: 999, message: "Unknown Error")) {
            _ = try reader.read()
        }
    }

    @Test("a failing v2 memory call is not hidden by the v1 fallback")
    func v2Fails() throws {
        let (directory, library) = try fakeNVML(["V2_RESULT=15"])
        defer { directory.remove() }
        let reader = try NVMLReader(libraryPath: library, environment: [:])
        #expect(throws: NVMLError(function: "nvmlDeviceGetMemoryInfo_v2", code: 15, message: "GPU is lost")) {
            _ = try reader.read()
        }
    }

    @Test("driver not loaded (9) and library not found (12) fail nvmlInit_v2 and mean NVML is unavailable", arguments: [
        (Int32(9), "Driver Not Loaded", "the NVIDIA kernel driver is not loaded"),
        (Int32(12), "NVML Shared Library Not Found", "could not find a library it depends on"),
    ])
    func initFails(code: Int32, message: String, hint: String) throws {
        let (directory, library) = try fakeNVML(["INIT_RESULT=\(code)"])
        defer { directory.remove() }
        do {
            _ = try NVMLReader(libraryPath: library, environment: [:])
            Issue.record("nvmlInit_v2 should have failed")
        } catch {
            #expect(error == NVMLError(function: "nvmlInit_v2", code: code, message: message))
            #expect(error.meansNVMLUnavailable)
            #expect(error.description.contains("nvmlInit_v2 failed: NVML error \(code)"))
            #expect(error.description.contains(hint))
        }
    }

    @Test("a library that cannot be loaded is a dlopen error naming the path")
    func dlopenFails() throws {
        let missing = "/nonexistent/cicada-test/libnvidia-ml.so.1"
        do {
            _ = try NVMLReader(libraryPath: missing, environment: [:])
            Issue.record("dlopen should have failed")
        } catch {
            #expect(error.function == "dlopen")
            #expect(error.code == nil)
            #expect(error.message.contains(missing))
            #expect(error.meansNVMLUnavailable)
        }
    }

    @Test("a library without nvmlInit_v2 is a dlsym error naming the symbol")
    func symbolMissing() throws {
        let (directory, library) = try fakeNVML(["NO_INIT"])
        defer { directory.remove() }
        #expect(throws: NVMLError(function: "dlsym", code: nil, message: "\(library) has no nvmlInit_v2")) {
            _ = try NVMLReader(libraryPath: library, environment: [:])
        }
    }

    @Test("CICADA_NVML_LIBRARY overrides the default; an explicit path overrides both")
    func override() throws {
        let (directory, library) = try fakeNVML()
        defer { directory.remove() }
        let fromEnvironment = try NVMLReader(environment: [NVMLReader.libraryEnvironmentKey: library])
        #expect(fromEnvironment.libraryPath == library)
        #expect(try fromEnvironment.read().gpus.first?.name == "Fake H200")
        let explicit = try NVMLReader(libraryPath: library, environment: [NVMLReader.libraryEnvironmentKey: "/nonexistent.so"])
        #expect(explicit.libraryPath == library)
    }

    @Test("without an override the reader loads libnvidia-ml.so.1 (a dlopen error on a machine without one)")
    func defaultLibrary() {
        do {
            let reader = try NVMLReader(environment: [:])
            #expect(reader.libraryPath == "libnvidia-ml.so.1")
        } catch let error where error.function == "dlopen" {
            // No NVIDIA driver here: the loader's own message names the library.
            #expect(error.code == nil)
            #expect(error.message.contains("libnvidia-ml.so.1"))
            #expect(error.meansNVMLUnavailable)
        } catch {
            // A driver library that loads but cannot initialise (no GPU, driver not loaded).
            #expect(error.function == "nvmlInit_v2")
            #expect(error.meansNVMLUnavailable)
        }
    }
}

@Suite("LocalGPUReader: NVML first, nvidia-smi when NVML is unavailable")
struct LocalGPUReaderTests {
    @Test("NVML when it loads")
    func nvml() throws {
        let (directory, library) = try fakeNVML()
        defer { directory.remove() }
        let reader = LocalGPUReader(nvmlLibraryPath: library, environment: ["PATH": directory.path])
        #expect(try reader.read().source == .nvml)
        #expect(reader.nvmlUnavailableReason == nil)
    }

    @Test("nvidia-smi when NVML cannot be loaded, with the reason kept")
    func fallback() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.write("nvidia-smi", "#!/bin/sh\necho '0, GPU-smi, NVIDIA H200, 143771, 1, 143770, 0, 70.5'\n", executable: true)
        let reader = LocalGPUReader(nvmlLibraryPath: directory.path + "/no-such-libnvidia-ml.so", environment: ["PATH": "\(directory.path):/usr/bin:/bin"])
        let reading = try reader.read()
        #expect(reading.source == .nvidiaSMI)
        #expect(reading.gpus.first?.uuid == "GPU-smi")
        #expect(reader.nvmlUnavailableReason?.function == "dlopen")
        #expect(try reader.read().source == .nvidiaSMI)
    }

    @Test("an NVML read failure is thrown, not replaced by nvidia-smi")
    func readFailure() throws {
        let (directory, library) = try fakeNVML(["V2_RESULT=15"])
        defer { directory.remove() }
        let reader = LocalGPUReader(nvmlLibraryPath: library, environment: ["PATH": directory.path])
        #expect(throws: NVMLError(function: "nvmlDeviceGetMemoryInfo_v2", code: 15, message: "GPU is lost")) {
            _ = try reader.read()
        }
        #expect(reader.nvmlUnavailableReason == nil)
    }
}
