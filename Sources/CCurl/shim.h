// Typed wrappers for libcurl's variadic functions, which Swift cannot call directly.
// One wrapper per argument type; names are prefixed ccurl_ (see docs/ARCHITECTURE.md).
#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static inline CURLcode ccurl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*ccurl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode ccurl_easy_setopt_write_function(CURL *h, CURLoption o, ccurl_write_callback f) { return curl_easy_setopt(h, o, f); }

// Called by libcurl right before it sends a request on a connection, once per attempt: a
// second call for one transfer is a re-send libcurl decided on its own (see LoadWorker).
typedef int (*ccurl_prereq_callback)(void *clientp, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port);
static inline CURLcode ccurl_easy_setopt_prereq_function(CURL *h, ccurl_prereq_callback f) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, f); }
static inline CURLcode ccurl_easy_setopt_prereq_data(CURL *h, void *p) { return curl_easy_setopt(h, CURLOPT_PREREQDATA, p); }

static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

static inline CURLcode ccurl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_easy_getinfo_string(CURL *h, CURLINFO i, const char **v) { return curl_easy_getinfo(h, i, v); }

// CURLMsg.data is a union; Swift sees it awkwardly, so read the result here.
static inline CURLcode ccurl_msg_result(const CURLMsg *msg) { return msg->data.result; }
static inline curl_version_info_data *ccurl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }

// A timerfd in the worker's epoll set, so a worker wakes at the microsecond a user or an
// arrival is due (epoll_wait's own timeout is in whole ms).
static inline int ccurl_timer_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }
static inline int ccurl_timer_arm_in(int fd, uint64_t ns) {
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (ns == 0) ns = 1;
    its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(ns % 1000000000ull);
    return timerfd_settime(fd, 0, &its, NULL);
}

// Event-driven libcurl (curl_multi_socket_action) over epoll. libcurl tells us, through its
// socket callback, which sockets to watch for what, and through its timer callback when it next
// needs a CURL_SOCKET_TIMEOUT call; the worker's timerfd and a wake-up eventfd sit in the same
// epoll set. A wake-up then costs only the sockets that are ready, not a walk over every
// transfer (curl_multi_perform) and a poll() over every socket (curl_multi_poll).
//
// Registration is lazy, so a kept-alive connection costs no epoll_ctl per request: when libcurl
// stops watching a socket (CURL_POLL_REMOVE, after each response) it stays in the set for
// reading, and the next request on it, which wants reading again, needs no call. If such an
// idle socket becomes readable (the server closed it), it is taken out then. Sockets are opened
// and closed through the callbacks below so a reused descriptor number never inherits a stale
// registration.
typedef struct ccurl_loop {
    int epfd;
    CURLM *multi;
    /// libcurl's next timeout on CLOCK_MONOTONIC, in ns; 0 = now, UINT64_MAX = none.
    uint64_t deadline_ns;
    /// Set by the timer callback, to tell whether a call changed the deadline.
    int timer_set;
    /// Per descriptor: what is registered in the epoll set, and what libcurl wants
    /// (bit 0 readable, bit 1 writable). `cap` entries each.
    uint8_t *reg;
    uint8_t *want;
    int cap;
} ccurl_loop;

static inline uint64_t ccurl_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Makes room for descriptor s in the per-descriptor tables; 0 on success.
static inline int ccurl_loop_reserve(ccurl_loop *l, int s) {
    if (s < l->cap) return 0;
    int cap = l->cap ? l->cap : 1024;
    while (cap <= s) cap *= 2;
    uint8_t *r = (uint8_t *)realloc(l->reg, (size_t)cap);
    if (!r) return -1;
    l->reg = r;
    uint8_t *w = (uint8_t *)realloc(l->want, (size_t)cap);
    if (!w) return -1;
    l->want = w;
    memset(l->reg + l->cap, 0, (size_t)(cap - l->cap));
    memset(l->want + l->cap, 0, (size_t)(cap - l->cap));
    l->cap = cap;
    return 0;
}

static inline int ccurl_loop_ctl(ccurl_loop *l, int s, uint8_t from, uint8_t to) {
    struct epoll_event ev;
    ev.events = ((to & 1) ? EPOLLIN : 0) | ((to & 2) ? EPOLLOUT : 0);
    ev.data.u64 = 0;
    ev.data.fd = s;
    if (to == 0) return epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
    if (from == 0) {
        int rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
        if (rc != 0 && errno == EEXIST) rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev);
        return rc;
    }
    int rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev);
    if (rc != 0 && errno == ENOENT) rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
    return rc;
}

static int ccurl_loop_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)e; (void)socketp;
    ccurl_loop *l = (ccurl_loop *)userp;
    if (s < 0) return 0;
    uint8_t want = what == CURL_POLL_REMOVE ? 0 : (uint8_t)(((what & CURL_POLL_IN) ? 1 : 0) | ((what & CURL_POLL_OUT) ? 2 : 0));
    if (ccurl_loop_reserve(l, s) != 0) {
        // No table: plain registration, exactly what libcurl asks for.
        ccurl_loop_ctl(l, s, want ? 3 : 1, want);
        return 0;
    }
    uint8_t reg = l->reg[s];
    // Not wanted any more: keep reading registered (never writing: it would always be ready).
    uint8_t target = want ? want : (uint8_t)(reg & 1);
    l->want[s] = want;
    if (target != reg) {
        ccurl_loop_ctl(l, s, reg, target);
        l->reg[s] = target;
    }
    return 0;
}

static int ccurl_loop_timer_cb(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    ccurl_loop *l = (ccurl_loop *)userp;
    l->timer_set = 1;
    if (timeout_ms < 0) l->deadline_ns = UINT64_MAX;
    else if (timeout_ms == 0) l->deadline_ns = 0;
    else l->deadline_ns = ccurl_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
    return 0;
}

// A new descriptor is in no epoll set, whatever an earlier socket with its number was.
static curl_socket_t ccurl_loop_open_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
    (void)purpose;
    ccurl_loop *l = (ccurl_loop *)clientp;
    curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (s >= 0 && ccurl_loop_reserve(l, s) == 0) { l->reg[s] = 0; l->want[s] = 0; }
    return s;
}

static int ccurl_loop_close_cb(void *clientp, curl_socket_t s) {
    ccurl_loop *l = (ccurl_loop *)clientp;
    if (s >= 0 && s < l->cap) {
        if (l->reg[s]) epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
        l->reg[s] = 0;
        l->want[s] = 0;
    }
    return close(s);
}

/// Creates the epoll set and hands libcurl the socket and timer callbacks; 0 on success,
/// -1 (errno) if not.
static inline int ccurl_loop_init(ccurl_loop *l, CURLM *m) {
    l->multi = m;
    l->deadline_ns = UINT64_MAX;
    l->timer_set = 0;
    l->reg = NULL;
    l->want = NULL;
    l->cap = 0;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) return -1;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, ccurl_loop_socket_cb);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)l);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, ccurl_loop_timer_cb);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, (void *)l);
    return 0;
}

/// Frees the tables and closes the epoll set; after curl_multi_cleanup.
static inline void ccurl_loop_destroy(ccurl_loop *l) {
    close(l->epfd);
    free(l->reg);
    free(l->want);
    l->reg = NULL; l->want = NULL; l->cap = 0;
}

/// Per easy handle (again after curl_easy_reset): open and close its sockets through the loop.
static inline void ccurl_loop_attach(ccurl_loop *l, CURL *e) {
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, ccurl_loop_open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)l);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, ccurl_loop_close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, (void *)l);
}

/// Adds one of our own descriptors (timerfd, eventfd) to the set, readable.
static inline int ccurl_loop_watch(ccurl_loop *l, int fd) {
    struct epoll_event ev;
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    ev.data.fd = fd;
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/// libcurl's timer is due: let it run its expired timeouts (new transfers, connect and request
/// timeouts). If the call did not report a new deadline, ask libcurl for it.
static inline void ccurl_loop_timeout(ccurl_loop *l) {
    int running = 0;
    l->timer_set = 0;
    curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (!l->timer_set) {
        long ms = -1;
        curl_multi_timeout(l->multi, &ms);
        l->deadline_ns = ms < 0 ? UINT64_MAX : ms == 0 ? 0 : ccurl_monotonic_ns() + (uint64_t)ms * 1000000ull;
    }
}

enum { CCURL_LOOP_TIMER = 1, CCURL_LOOP_WAKE = 2 };

/// Waits up to timeout_ms (-1: no limit) for readiness, hands every ready socket to libcurl
/// and drains `timerfd` / `wakefd` when they fired. Returns CCURL_LOOP_TIMER | CCURL_LOOP_WAKE
/// for those that fired, 0 when only sockets (or nothing, or a signal) woke it.
static inline int ccurl_loop_wait(ccurl_loop *l, int timeout_ms, int timerfd, int wakefd) {
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, 256, timeout_ms);
    int fired = 0;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        uint32_t e = evs[i].events;
        if (fd == timerfd || fd == wakefd) {
            uint64_t v;
            ssize_t r = read(fd, &v, sizeof v);
            (void)r;
            fired |= fd == timerfd ? CCURL_LOOP_TIMER : CCURL_LOOP_WAKE;
            continue;
        }
        if (fd >= 0 && fd < l->cap && l->want[fd] == 0) {
            // An idle kept-alive connection became readable: the server closed it (or sent
            // something unasked). libcurl finds that out when it next picks the connection.
            if (l->reg[fd]) { epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL); l->reg[fd] = 0; }
            continue;
        }
        int flags = 0;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) flags |= CURL_CSELECT_IN;
        if (e & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (e & EPOLLERR) flags |= CURL_CSELECT_ERR;
        int running = 0;
        curl_multi_socket_action(l->multi, fd, flags, &running);
    }
    return fired;
}

/// Wakes a thread blocked in ccurl_loop_wait (thread-safe).
static inline int ccurl_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline void ccurl_eventfd_signal(int fd) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }
#endif
