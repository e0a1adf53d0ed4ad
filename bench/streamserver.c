// A schedule-keeping OpenAI chat SSE server for bench/streams.sh (issue 17's streaming benchmark).
//
// Every POST is answered at once with a 200 text/event-stream (chunked, keep-alive); token k
// (0-based) of the stream is due at t0 + TTFT + k * ITL, t0 being the moment the request was
// read. THREADS threads (default 1), each with its own listening socket on the same port
// (SO_REUSEPORT: the kernel spreads new connections over them), its own epoll set, its own
// min-heap of due tokens and a sub-millisecond wait (epoll_pwait2) to its next due token; a
// connection stays on the thread that accepted it. The server measures its own lateness: for
// each token, the time it was handed to the kernel minus the time it was due, in 1 us buckets up
// to 1 s (beyond that counted in the last bucket; the maximum is kept exactly), one histogram per
// thread, merged when read. So a client's figures can be split into the server's error and the
// client's.
//
//   streamserver PORT TTFT_MS ITL_MS TOKENS [THREADS]   (PORT 0 picks one; prints
//                                                       "listening on 127.0.0.1:P ...")
//   THREADS may also come from the environment (THREADS=2 streamserver ...); the argument wins.
//
// GET /lateness answers the figures since the last GET /lateness as JSON and resets them:
// tokens, first-token and all-token lateness p50/p99/max (us), streams started/finished, peak and
// time-averaged streams in flight (all threads together), writes that found the socket buffer
// full, and the server's own CPU time over the window (getrusage(RUSAGE_SELF): every thread) with
// CPU per token. Any other GET answers a small JSON (a models list). Binds 127.0.0.1 only.
// Build: cc -O2 -pthread -o streamserver streamserver.c
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HBUCKETS 1000001 /* 0..1,000,000 us */
#define MAX_THREADS 256

typedef struct {
  uint32_t *b;
  uint64_t n, max_us;
} hist_t;

static void h_add(hist_t *h, int64_t late_ns) {
  uint64_t us = late_ns > 0 ? (uint64_t)(late_ns / 1000) : 0;
  if (us > h->max_us) h->max_us = us;
  h->b[us < HBUCKETS - 1 ? us : HBUCKETS - 1]++;
  h->n++;
}
static long long h_pct(const hist_t *h, double p) {
  uint64_t rank = (uint64_t)(p * (double)h->n + 0.999999);
  if (rank < 1) rank = 1;
  uint64_t c = 0;
  for (uint64_t i = 0; i < HBUCKETS; i++) {
    c += h->b[i];
    if (c >= rank) return i == HBUCKETS - 1 ? (long long)h->max_us : (long long)i;
  }
  return (long long)h->max_us;
}
// a percentile as JSON: null when the histogram is empty (no token: absent, not 0)
static const char *h_json(const hist_t *h, double p, char *buf) {
  if (h->n == 0) return "null";
  snprintf(buf, 24, "%lld", h_pct(h, p)); return buf;
}
// the buckets in use: none above max_us's (so a reset or a merge touches only those)
static size_t h_used(const hist_t *h) { return h->n == 0 ? 0 : (h->max_us < HBUCKETS - 1 ? (size_t)h->max_us : HBUCKETS - 1) + 1; }
static void h_reset(hist_t *h) { memset(h->b, 0, sizeof(uint32_t) * h_used(h)); h->n = 0; h->max_us = 0; }
// into += from (bucket by bucket; the maximum is the larger one)
static void h_merge(hist_t *into, const hist_t *from) {
  for (size_t i = 0, u = h_used(from); i < u; i++) into->b[i] += from->b[i];
  into->n += from->n;
  if (from->max_us > into->max_us) into->max_us = from->max_us;
}

struct worker;
typedef struct conn {
  struct worker *w;
  int fd;
  int streaming;   // 1 while a stream is open
  int k;           // next token index
  int64_t t0, due; // ns, CLOCK_MONOTONIC
  int heap_i;
  char *in; size_t in_len, in_cap;
  char *out; size_t out_len, out_cap; // bytes the kernel did not take yet
  int want_out;
} conn_t;

// One per thread. The thread holds `mu` while it works (emitting due tokens, handling events)
// and drops it while it waits in epoll; GET /lateness takes every worker's `mu` in turn to read
// and reset the figures below.
typedef struct worker {
  int id, ls, ep;
  conn_t **heap; size_t heap_n, heap_cap;
  pthread_mutex_t mu;
  hist_t h_first, h_all;
  uint64_t started, finished, stalled_writes;
  int64_t inflight, last_change; double inflight_integral; // this thread's streams, for the time average
} worker_t;

static int64_t TTFT, ITL; static int TOKENS, NTHREADS = 1;
static worker_t workers[MAX_THREADS];
// All threads: streams in flight now and the window's peak (atomics, so the peak is of the sum).
static atomic_llong g_inflight, g_peak;
// The window (since the last GET /lateness): guarded by stats_mu, which also guards the merge buffers.
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t win_start; static struct rusage win_ru;
static hist_t m_first, m_all;

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static void inflight_change(worker_t *w, int64_t now, int d) {
  w->inflight_integral += (double)w->inflight * (double)(now - w->last_change);
  w->last_change = now; w->inflight += d;
  if (d > 0) {
    long long v = atomic_fetch_add(&g_inflight, d) + d, p = atomic_load(&g_peak);
    while (v > p && !atomic_compare_exchange_weak(&g_peak, &p, v)) {}
  } else if (d < 0) {
    atomic_fetch_add(&g_inflight, d);
  }
}

static void hswap(worker_t *w, size_t a, size_t b) { conn_t **h = w->heap, *t = h[a]; h[a] = h[b]; h[b] = t; h[a]->heap_i = (int)a; h[b]->heap_i = (int)b; }
static void hup(worker_t *w, size_t i) { while (i > 0) { size_t p = (i - 1) / 2; if (w->heap[p]->due <= w->heap[i]->due) break; hswap(w, p, i); i = p; } }
static void hdown(worker_t *w, size_t i) {
  for (;;) { size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < w->heap_n && w->heap[l]->due < w->heap[m]->due) m = l;
    if (r < w->heap_n && w->heap[r]->due < w->heap[m]->due) m = r;
    if (m == i) return;
    hswap(w, i, m); i = m; }
}
static void hpush(worker_t *w, conn_t *c) {
  if (w->heap_n == w->heap_cap) { w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 1024; w->heap = realloc(w->heap, w->heap_cap * sizeof *w->heap); }
  w->heap[w->heap_n] = c; c->heap_i = (int)w->heap_n++; hup(w, w->heap_n - 1);
}
static void hremove(worker_t *w, conn_t *c) {
  size_t i = (size_t)c->heap_i; if (c->heap_i < 0) return;
  w->heap_n--; if (i != w->heap_n) { w->heap[i] = w->heap[w->heap_n]; w->heap[i]->heap_i = (int)i; hdown(w, i); hup(w, i); }
  c->heap_i = -1;
}

static void close_conn(conn_t *c) {
  worker_t *w = c->w;
  if (c->streaming) { inflight_change(w, now_ns(), -1); c->streaming = 0; }
  hremove(w, c);
  epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
  free(c->in); free(c->out); free(c);
}

static void set_out_interest(conn_t *c, int want) {
  if (c->want_out == want) return;
  struct epoll_event e = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
  epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e); c->want_out = want;
}

// Sends bytes (after anything still queued); returns -1 when the connection is gone.
static int send_bytes(conn_t *c, const char *p, size_t n) {
  if (c->out_len == 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) { if (errno != EAGAIN && errno != EWOULDBLOCK) return -1; w = 0; }
    p += w; n -= (size_t)w;
    if (n == 0) return 0;
    c->w->stalled_writes++;
  }
  if (c->out_len + n > c->out_cap) { c->out_cap = (c->out_len + n) * 2; c->out = realloc(c->out, c->out_cap); }
  memcpy(c->out + c->out_len, p, n); c->out_len += n;
  set_out_interest(c, 1);
  return 0;
}

static int send_chunk(conn_t *c, const char *payload, size_t n, int last) {
  char buf[1024]; int len = snprintf(buf, sizeof buf, "%zx\r\n", n);
  if ((size_t)len + n + 8 > sizeof buf) return -1;
  memcpy(buf + len, payload, n); len += (int)n; memcpy(buf + len, "\r\n", 2); len += 2;
  if (last) { memcpy(buf + len, "0\r\n\r\n", 5); len += 5; }
  return send_bytes(c, buf, (size_t)len);
}

static int handle_input(conn_t *c);
static void answer_stats(conn_t *c);

static void emit_token(conn_t *c, int64_t now) {
  worker_t *w = c->w;
  int k = c->k; char ev[768]; int n;
  if (k < TOKENS - 1) {
    n = snprintf(ev, sizeof ev, "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{%s\"content\":\" the\"},\"finish_reason\":null}]}\n\n",
                 k == 0 ? "\"role\":\"assistant\"," : "");
  } else {
    n = snprintf(ev, sizeof ev, "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{%s\"content\":\" the\"},\"finish_reason\":\"stop\"}]}\n\n"
                 "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":{\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n",
                 k == 0 ? "\"role\":\"assistant\"," : "", TOKENS);
  }
  int64_t late = now - c->due;
  if (send_chunk(c, ev, (size_t)n, k == TOKENS - 1) < 0) { close_conn(c); return; }
  h_add(&w->h_all, late);
  if (k == 0) h_add(&w->h_first, late);
  c->k++;
  if (c->k < TOKENS) { c->due += ITL; hdown(w, (size_t)c->heap_i); }
  else {
    hremove(w, c); c->streaming = 0; w->finished++; inflight_change(w, now, -1);
    // a request pipelined behind the stream waited in c->in: answer it now
    if (c->in_len > 0) { int h; while ((h = handle_input(c)) == 1) answer_stats(c); if (h < 0) close_conn(c); }
  }
}

static double tv_s(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

// The answer to GET /lateness (head and body, into out; returns its length): every thread's
// figures merged, then reset. Called with no worker's lock held (the caller dropped its own), so
// threads answering at once cannot deadlock; the caller sends it once it holds its lock again.
static int stats_response(char *out, size_t cap) {
  pthread_mutex_lock(&stats_mu);
  for (int i = 0; i < NTHREADS; i++) pthread_mutex_lock(&workers[i].mu);
  int64_t now = now_ns();
  struct rusage ru; getrusage(RUSAGE_SELF, &ru);
  h_reset(&m_first); h_reset(&m_all);
  uint64_t started = 0, finished = 0, stalled = 0; double integral = 0;
  for (int i = 0; i < NTHREADS; i++) {
    worker_t *w = &workers[i];
    inflight_change(w, now, 0);
    h_merge(&m_first, &w->h_first); h_merge(&m_all, &w->h_all);
    started += w->started; finished += w->finished; stalled += w->stalled_writes; integral += w->inflight_integral;
    h_reset(&w->h_first); h_reset(&w->h_all); w->started = w->finished = w->stalled_writes = 0;
    w->last_change = now; w->inflight_integral = 0;
  }
  long long peak = atomic_exchange(&g_peak, atomic_load(&g_inflight));
  for (int i = NTHREADS - 1; i >= 0; i--) pthread_mutex_unlock(&workers[i].mu);
  double win = (double)(now - win_start);
  double cu = tv_s(ru.ru_utime) - tv_s(win_ru.ru_utime), cs = tv_s(ru.ru_stime) - tv_s(win_ru.ru_stime);
  char per_tok[32];
  if (m_all.n) snprintf(per_tok, sizeof per_tok, "%.3f", (cu + cs) / (double)m_all.n * 1e6); else strcpy(per_tok, "null");
  char body[1400], b1[24], b2[24], b3[24], b4[24], b5[24], b6[24];
  int n = snprintf(body, sizeof body,
    "{\"threads\":%d,\"window_s\":%.3f,\"streams_started\":%llu,\"streams_finished\":%llu,\"peak_inflight\":%lld,\"avg_inflight\":%.1f,"
    "\"tokens\":%llu,\"late_p50_us\":%s,\"late_p99_us\":%s,\"late_max_us\":%s,"
    "\"first_tokens\":%llu,\"first_late_p50_us\":%s,\"first_late_p99_us\":%s,\"first_late_max_us\":%s,\"stalled_writes\":%llu,"
    "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_us_per_token\":%s}\n",
    NTHREADS, win / 1e9, (unsigned long long)started, (unsigned long long)finished, peak, win > 0 ? integral / win : 0.0,
    (unsigned long long)m_all.n, h_json(&m_all, 0.5, b1), h_json(&m_all, 0.99, b2), h_json(&m_all, 1.0, b3),
    (unsigned long long)m_first.n, h_json(&m_first, 0.5, b4), h_json(&m_first, 0.99, b5), h_json(&m_first, 1.0, b6),
    (unsigned long long)stalled, cu, cs, per_tok);
  win_start = now; win_ru = ru;
  pthread_mutex_unlock(&stats_mu);
  return snprintf(out, cap, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", n, body);
}

// Answers a GET /lateness on c; w->mu is held on entry and on return.
static void answer_stats(conn_t *c) {
  char r[1700];
  pthread_mutex_unlock(&c->w->mu);
  int n = stats_response(r, sizeof r);
  pthread_mutex_lock(&c->w->mu);
  send_bytes(c, r, (size_t)n);
}

// Parses complete requests in c->in; returns -1 to close, 1 when a GET /lateness waits to be
// answered (the caller answers it without its lock, then calls again for what follows), else 0.
static int handle_input(conn_t *c) {
  worker_t *w = c->w;
  for (;;) {
    if (c->streaming) return 0; // one request at a time per connection
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return c->in_len > 65536 ? -1 : 0;
    size_t head_len = (size_t)(end - c->in) + 4, body_len = 0;
    for (char *p = c->in; p < end; ) {
      char *nl = memmem(p, (size_t)(end - p) + 2, "\r\n", 2); if (!nl) break;
      if ((size_t)(nl - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) body_len = strtoul(p + 15, NULL, 10);
      p = nl + 2;
    }
    if (c->in_len < head_len + body_len) return 0;
    int is_post = strncmp(c->in, "POST ", 5) == 0, is_stats = strncmp(c->in, "GET /lateness", 13) == 0;
    memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len); c->in_len -= head_len + body_len;
    if (is_stats) return 1;
    if (!is_post) {
      static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r\n{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"obj\":1}]}";
      if (send_bytes(c, r, sizeof r - 1) < 0) return -1;
      continue;
    }
    static const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    if (send_bytes(c, h, sizeof h - 1) < 0) return -1;
    int64_t now = now_ns();
    c->streaming = 1; c->k = 0; c->t0 = now; c->due = now + TTFT; w->started++; inflight_change(w, now, +1);
    hpush(w, c);
  }
}

static void *worker_run(void *arg) {
  worker_t *w = arg;
  struct epoll_event evs[1024];
  conn_t *stats_wait[1024]; int n_stats;
  int one = 1;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    int64_t now = now_ns();
    while (w->heap_n > 0 && w->heap[0]->due <= now) { emit_token(w->heap[0], now); now = now_ns(); }
    struct timespec to = { 1, 0 };
    if (w->heap_n > 0) { int64_t d = w->heap[0]->due - now; if (d < 0) d = 0; to.tv_sec = d / 1000000000LL; to.tv_nsec = d % 1000000000LL; }
    pthread_mutex_unlock(&w->mu);
    int n = epoll_pwait2(w->ep, evs, 1024, &to, NULL);
    pthread_mutex_lock(&w->mu);
    n_stats = 0;
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(w->ls, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) { if (errno == EMFILE || errno == ENFILE) fprintf(stderr, "streamserver: accept: %s\n", strerror(errno)); break; }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *nc = calloc(1, sizeof *nc); nc->w = w; nc->fd = fd; nc->heap_i = -1;
          struct epoll_event e = { .events = EPOLLIN, .data.ptr = nc }; epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        ssize_t s = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (s < 0 && errno != EAGAIN) { close_conn(c); continue; }
        if (s > 0) { memmove(c->out, c->out + s, c->out_len - (size_t)s); c->out_len -= (size_t)s; }
        if (c->out_len == 0) set_out_interest(c, 0);
      }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        int gone = 0;
        for (;;) {
          if (c->in_cap - c->in_len < 4096) { c->in_cap = c->in_cap ? c->in_cap * 2 : 8192; c->in = realloc(c->in, c->in_cap); }
          ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
          if (r > 0) { c->in_len += (size_t)r; continue; }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = 1;
          break;
        }
        int h = gone ? -1 : handle_input(c);
        if (h < 0) { close_conn(c); continue; }
        if (h == 1) stats_wait[n_stats++] = c; // each connection comes once per epoll batch
      }
    }
    // GET /lateness: read without this thread's lock (stats_response takes every thread's).
    for (int i = 0; i < n_stats; i++) {
      conn_t *c = stats_wait[i];
      int h;
      do { answer_stats(c); } while ((h = handle_input(c)) == 1);
      if (h < 0) close_conn(c);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) { fprintf(stderr, "usage: streamserver PORT TTFT_MS ITL_MS TOKENS [THREADS]   (or THREADS in the environment)\n"); return 2; }
  int port = atoi(argv[1]); TTFT = (int64_t)(atof(argv[2]) * 1e6); ITL = (int64_t)(atof(argv[3]) * 1e6); TOKENS = atoi(argv[4]);
  if (TOKENS < 1 || TTFT < 0 || ITL < 0) { fprintf(stderr, "streamserver: TOKENS must be >= 1, TTFT and ITL >= 0\n"); return 2; }
  const char *th = argc == 6 ? argv[5] : getenv("THREADS");
  if (th && *th) {
    char *e; long t = strtol(th, &e, 10);
    if (*e || t < 1 || t > MAX_THREADS) { fprintf(stderr, "streamserver: THREADS must be a whole number from 1 to %d, got \"%s\"\n", MAX_THREADS, th); return 2; }
    NTHREADS = (int)t;
  }
  signal(SIGPIPE, SIG_IGN);
  m_first.b = calloc(HBUCKETS, sizeof(uint32_t)); m_all.b = calloc(HBUCKETS, sizeof(uint32_t));
  int one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  for (int i = 0; i < NTHREADS; i++) {
    worker_t *w = &workers[i];
    w->id = i;
    pthread_mutex_init(&w->mu, NULL);
    w->h_first.b = calloc(HBUCKETS, sizeof(uint32_t)); w->h_all.b = calloc(HBUCKETS, sizeof(uint32_t));
    w->ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(w->ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(w->ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // the first listener picks the port (PORT 0); the others bind the same one
    if (bind(w->ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(w->ls, 65535) < 0) { perror("streamserver: bind/listen 127.0.0.1"); return 1; }
    if (i == 0) { socklen_t al = sizeof a; getsockname(w->ls, (struct sockaddr *)&a, &al); }
    w->ep = epoll_create1(0);
    struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL }; epoll_ctl(w->ep, EPOLL_CTL_ADD, w->ls, &le);
  }
  win_start = now_ns(); getrusage(RUSAGE_SELF, &win_ru);
  for (int i = 0; i < NTHREADS; i++) workers[i].last_change = win_start;
  printf("listening on 127.0.0.1:%d (TTFT %s ms, ITL %s ms, %d tokens, %d thread%s)\n", ntohs(a.sin_port), argv[2], argv[3], TOKENS, NTHREADS, NTHREADS == 1 ? "" : "s"); fflush(stdout);
  for (int i = 1; i < NTHREADS; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker_run, &workers[i]) != 0) { fprintf(stderr, "streamserver: cannot start thread %d\n", i); return 1; }
  }
  worker_run(&workers[0]);
  return 0;
}
