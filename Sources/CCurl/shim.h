// Typed wrappers for libcurl's variadic functions, which Swift cannot call directly.
// One wrapper per argument type; names are prefixed ccurl_ (see docs/ARCHITECTURE.md).
#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

static inline CURLcode ccurl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*ccurl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode ccurl_easy_setopt_write_function(CURL *h, CURLoption o, ccurl_write_callback f) { return curl_easy_setopt(h, o, f); }

static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

static inline CURLcode ccurl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_string(CURL *h, CURLINFO i, const char **v) { return curl_easy_getinfo(h, i, v); }

// CURLMsg.data is a union; Swift sees it awkwardly, so read the result here.
static inline CURLcode ccurl_msg_result(const CURLMsg *msg) { return msg->data.result; }
static inline curl_version_info_data *ccurl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }

// A timerfd passed to curl_multi_poll as an extra descriptor, so a worker wakes at the
// microsecond a user or an arrival is due (curl_multi_poll's own timeout is in whole ms).
static inline int ccurl_timer_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }
static inline int ccurl_timer_arm_in(int fd, uint64_t ns) {
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (ns == 0) ns = 1;
    its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(ns % 1000000000ull);
    return timerfd_settime(fd, 0, &its, NULL);
}
static inline void ccurl_timer_drain(int fd) { uint64_t n; ssize_t r = read(fd, &n, sizeof n); (void)r; }
static inline CURLMcode ccurl_multi_poll_with_fd(CURLM *m, int fd, int timeout_ms) {
    struct curl_waitfd w = { fd, CURL_WAIT_POLLIN, 0 };
    return curl_multi_poll(m, fd >= 0 ? &w : NULL, fd >= 0 ? 1 : 0, timeout_ms, NULL);
}
#endif
