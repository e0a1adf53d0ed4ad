// Typed calls into a dlopen'ed libnvidia-ml. See include/cnvml.h.
#include "cnvml.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

const char *const cnvml_default_library = "libnvidia-ml.so.1";

typedef nvmlReturn_t (*fn_void)(void);
typedef nvmlReturn_t (*fn_count)(unsigned int *);
typedef nvmlReturn_t (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_memory)(nvmlDevice_t, nvmlMemory_t *);
typedef nvmlReturn_t (*fn_memory_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
typedef nvmlReturn_t (*fn_utilization)(nvmlDevice_t, nvmlUtilization_t *);
typedef nvmlReturn_t (*fn_text)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*fn_uint)(nvmlDevice_t, unsigned int *);
typedef const char *(*fn_error_string)(nvmlReturn_t);

struct cnvml_library {
    void *handle;
    fn_void init_v2;
    fn_void shutdown;
    fn_count device_get_count_v2;
    fn_handle device_get_handle_by_index_v2;
    fn_memory device_get_memory_info;
    fn_memory_v2 device_get_memory_info_v2;
    fn_utilization device_get_utilization_rates;
    fn_text device_get_name;
    fn_text device_get_uuid;
    fn_uint device_get_power_usage;
    fn_error_string error_string;
};

static void copy_error(char *error, size_t error_size, const char *prefix, const char *text) {
    if (error == NULL || error_size == 0) return;
    error[0] = '\0';
    size_t used = 0;
    const char *parts[2] = {prefix, text};
    for (int p = 0; p < 2; p++) {
        const char *s = parts[p];
        if (s == NULL) continue;
        size_t n = strlen(s);
        if (n > error_size - 1 - used) n = error_size - 1 - used;
        memcpy(error + used, s, n);
        used += n;
    }
    error[used] = '\0';
}

// Converting dlsym's void * to a function pointer goes through memcpy: ISO C leaves the direct
// cast undefined, POSIX guarantees the representation is the same.
static void *lookup(void *handle, const char *name) {
    dlerror();
    return dlsym(handle, name);
}

#define LOOKUP(field, name)                                             \
    do {                                                                \
        void *sym = lookup(lib->handle, name);                          \
        memcpy(&lib->field, &sym, sizeof(sym));                         \
    } while (0)

int cnvml_open(const char *path, cnvml_library **out, char *error, size_t error_size) {
    *out = NULL;
    copy_error(error, error_size, NULL, "");
    const char *target = (path != NULL && path[0] != '\0') ? path : cnvml_default_library;
    dlerror();
    void *handle = dlopen(target, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        copy_error(error, error_size, NULL, why != NULL ? why : target);
        return CNVML_OPEN_DLOPEN_FAILED;
    }
    cnvml_library *lib = calloc(1, sizeof(cnvml_library));
    if (lib == NULL) {
        dlclose(handle);
        copy_error(error, error_size, NULL, "out of memory");
        return CNVML_OPEN_OUT_OF_MEMORY;
    }
    lib->handle = handle;
    LOOKUP(init_v2, "nvmlInit_v2");
    LOOKUP(shutdown, "nvmlShutdown");
    LOOKUP(device_get_count_v2, "nvmlDeviceGetCount_v2");
    LOOKUP(device_get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2");
    LOOKUP(device_get_memory_info, "nvmlDeviceGetMemoryInfo");
    LOOKUP(device_get_memory_info_v2, "nvmlDeviceGetMemoryInfo_v2");
    LOOKUP(device_get_utilization_rates, "nvmlDeviceGetUtilizationRates");
    LOOKUP(device_get_name, "nvmlDeviceGetName");
    LOOKUP(device_get_uuid, "nvmlDeviceGetUUID");
    LOOKUP(device_get_power_usage, "nvmlDeviceGetPowerUsage");
    LOOKUP(error_string, "nvmlErrorString");

    const char *missing = NULL;
    if (lib->init_v2 == NULL) missing = "nvmlInit_v2";
    else if (lib->shutdown == NULL) missing = "nvmlShutdown";
    else if (lib->device_get_count_v2 == NULL) missing = "nvmlDeviceGetCount_v2";
    else if (lib->device_get_handle_by_index_v2 == NULL) missing = "nvmlDeviceGetHandleByIndex_v2";
    if (missing != NULL) {
        copy_error(error, error_size, NULL, missing);
        dlclose(handle);
        free(lib);
        return CNVML_OPEN_SYMBOL_MISSING;
    }
    *out = lib;
    return CNVML_OPEN_OK;
}

void cnvml_close(cnvml_library *lib) {
    if (lib == NULL) return;
    if (lib->handle != NULL) dlclose(lib->handle);
    free(lib);
}

int cnvml_has_symbol(const cnvml_library *lib, const char *symbol) {
    if (lib == NULL || symbol == NULL) return 0;
    if (strcmp(symbol, "nvmlDeviceGetMemoryInfo") == 0) return lib->device_get_memory_info != NULL;
    if (strcmp(symbol, "nvmlDeviceGetMemoryInfo_v2") == 0) return lib->device_get_memory_info_v2 != NULL;
    if (strcmp(symbol, "nvmlDeviceGetUtilizationRates") == 0) return lib->device_get_utilization_rates != NULL;
    if (strcmp(symbol, "nvmlDeviceGetName") == 0) return lib->device_get_name != NULL;
    if (strcmp(symbol, "nvmlDeviceGetUUID") == 0) return lib->device_get_uuid != NULL;
    if (strcmp(symbol, "nvmlDeviceGetPowerUsage") == 0) return lib->device_get_power_usage != NULL;
    if (strcmp(symbol, "nvmlErrorString") == 0) return lib->error_string != NULL;
    return 0;
}

nvmlReturn_t cnvml_init(cnvml_library *lib) { return lib->init_v2(); }

nvmlReturn_t cnvml_shutdown(cnvml_library *lib) { return lib->shutdown(); }

nvmlReturn_t cnvml_device_count(cnvml_library *lib, unsigned int *count) {
    return lib->device_get_count_v2(count);
}

nvmlReturn_t cnvml_device_handle_by_index(cnvml_library *lib, unsigned int index, nvmlDevice_t *device) {
    return lib->device_get_handle_by_index_v2(index, device);
}

nvmlReturn_t cnvml_device_memory_info(cnvml_library *lib, nvmlDevice_t device, nvmlMemory_t *memory) {
    if (lib->device_get_memory_info == NULL) return CNVML_ERROR_FUNCTION_NOT_FOUND;
    return lib->device_get_memory_info(device, memory);
}

nvmlReturn_t cnvml_device_memory_info_v2(cnvml_library *lib, nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    if (lib->device_get_memory_info_v2 == NULL) return CNVML_ERROR_FUNCTION_NOT_FOUND;
    memory->version = CNVML_MEMORY_V2_VERSION;
    return lib->device_get_memory_info_v2(device, memory);
}

nvmlReturn_t cnvml_device_utilization_rates(cnvml_library *lib, nvmlDevice_t device, nvmlUtilization_t *utilization) {
    if (lib->device_get_utilization_rates == NULL) return CNVML_ERROR_FUNCTION_NOT_FOUND;
    return lib->device_get_utilization_rates(device, utilization);
}

static nvmlReturn_t call_text(fn_text fn, nvmlDevice_t device, char *buffer, unsigned int length) {
    if (buffer == NULL || length == 0) return CNVML_ERROR_INVALID_ARGUMENT;
    buffer[0] = '\0';
    if (fn == NULL) return CNVML_ERROR_FUNCTION_NOT_FOUND;
    nvmlReturn_t result = fn(device, buffer, length);
    buffer[length - 1] = '\0';
    return result;
}

nvmlReturn_t cnvml_device_name(cnvml_library *lib, nvmlDevice_t device, char *name, unsigned int length) {
    return call_text(lib->device_get_name, device, name, length);
}

nvmlReturn_t cnvml_device_uuid(cnvml_library *lib, nvmlDevice_t device, char *uuid, unsigned int length) {
    return call_text(lib->device_get_uuid, device, uuid, length);
}

nvmlReturn_t cnvml_device_power_usage(cnvml_library *lib, nvmlDevice_t device, unsigned int *milliwatts) {
    if (lib->device_get_power_usage == NULL) return CNVML_ERROR_FUNCTION_NOT_FOUND;
    return lib->device_get_power_usage(device, milliwatts);
}

const char *cnvml_error_string(const cnvml_library *lib, nvmlReturn_t result) {
    if (lib == NULL || lib->error_string == NULL) return NULL;
    return lib->error_string(result);
}
