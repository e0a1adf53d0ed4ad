// CNVML: the NVIDIA Management Library, loaded at run time with dlopen.
//
// Cicada has no link-time dependency on the NVIDIA driver: this header declares the few NVML
// types Cicada reads (layouts from nvml.h, stable across driver releases) and typed cnvml_*
// functions that call through function pointers found with dlsym. A machine without a GPU
// builds and runs Cicada; reading NVML there fails with a clear dlopen error instead.
#ifndef CNVML_H
#define CNVML_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// NVML return code (nvmlReturn_t is a C enum, int-sized): 0 is success.
typedef int nvmlReturn_t;

enum {
    CNVML_SUCCESS = 0,
    CNVML_ERROR_UNINITIALIZED = 1,
    CNVML_ERROR_INVALID_ARGUMENT = 2,
    CNVML_ERROR_NOT_SUPPORTED = 3,
    CNVML_ERROR_NO_PERMISSION = 4,
    CNVML_ERROR_NOT_FOUND = 6,
    CNVML_ERROR_INSUFFICIENT_SIZE = 7,
    CNVML_ERROR_DRIVER_NOT_LOADED = 9,
    CNVML_ERROR_TIMEOUT = 10,
    CNVML_ERROR_LIBRARY_NOT_FOUND = 12,
    CNVML_ERROR_FUNCTION_NOT_FOUND = 13,
    CNVML_ERROR_GPU_IS_LOST = 15,
    CNVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    CNVML_ERROR_UNKNOWN = 999,
};

/// An opaque NVML device handle.
typedef struct nvmlDevice_st *nvmlDevice_t;

/// nvmlDeviceGetMemoryInfo: bytes; `used` includes memory the driver reserves (used + free == total).
typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

/// nvmlDeviceGetMemoryInfo_v2: bytes; total == reserved + free + used, as nvidia-smi shows them.
typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

/// nvmlMemory_v2 = NVML_STRUCT_VERSION(Memory, 2): sizeof(nvmlMemory_v2_t) | (2 << 24).
#define CNVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

/// nvmlDeviceGetUtilizationRates: percent of the last sample period (0...100).
typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

/// NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE.
#define CNVML_NAME_BUFFER_SIZE 96
#define CNVML_UUID_BUFFER_SIZE 96

/// cnvml_open results.
enum {
    CNVML_OPEN_OK = 0,
    CNVML_OPEN_DLOPEN_FAILED = 1,
    CNVML_OPEN_SYMBOL_MISSING = 2,
    CNVML_OPEN_OUT_OF_MEMORY = 3,
};

/// A loaded libnvidia-ml: the dlopen handle and the function pointers found in it.
typedef struct cnvml_library cnvml_library;

/// The soname loaded when no path is given: "libnvidia-ml.so.1".
extern const char *const cnvml_default_library;

/// dlopens `path` (NULL: cnvml_default_library) and looks up the NVML functions.
/// nvmlInit_v2, nvmlShutdown, nvmlDeviceGetCount_v2 and nvmlDeviceGetHandleByIndex_v2 are
/// required; the others are optional and report CNVML_ERROR_FUNCTION_NOT_FOUND when missing.
/// On failure writes dlerror() text or the missing symbol's name into `error` and returns a
/// CNVML_OPEN_* code other than CNVML_OPEN_OK; `*out` is then NULL.
int cnvml_open(const char *path, cnvml_library **out, char *error, size_t error_size);

/// dlcloses the library and frees `lib` (NULL is allowed). Call cnvml_shutdown first.
void cnvml_close(cnvml_library *lib);

/// 1 when the optional function named `symbol` was found, else 0.
int cnvml_has_symbol(const cnvml_library *lib, const char *symbol);

nvmlReturn_t cnvml_init(cnvml_library *lib);
nvmlReturn_t cnvml_shutdown(cnvml_library *lib);
nvmlReturn_t cnvml_device_count(cnvml_library *lib, unsigned int *count);
nvmlReturn_t cnvml_device_handle_by_index(cnvml_library *lib, unsigned int index, nvmlDevice_t *device);
nvmlReturn_t cnvml_device_memory_info(cnvml_library *lib, nvmlDevice_t device, nvmlMemory_t *memory);
/// Sets memory->version to CNVML_MEMORY_V2_VERSION before the call.
nvmlReturn_t cnvml_device_memory_info_v2(cnvml_library *lib, nvmlDevice_t device, nvmlMemory_v2_t *memory);
nvmlReturn_t cnvml_device_utilization_rates(cnvml_library *lib, nvmlDevice_t device, nvmlUtilization_t *utilization);
/// Always NUL-terminates `name` (length >= 1).
nvmlReturn_t cnvml_device_name(cnvml_library *lib, nvmlDevice_t device, char *name, unsigned int length);
/// Always NUL-terminates `uuid` (length >= 1).
nvmlReturn_t cnvml_device_uuid(cnvml_library *lib, nvmlDevice_t device, char *uuid, unsigned int length);
/// Milliwatts.
nvmlReturn_t cnvml_device_power_usage(cnvml_library *lib, nvmlDevice_t device, unsigned int *milliwatts);
/// nvmlErrorString's text, or NULL when the library lacks nvmlErrorString.
const char *cnvml_error_string(const cnvml_library *lib, nvmlReturn_t result);

#ifdef __cplusplus
}
#endif

#endif
