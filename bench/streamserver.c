// A schedule-keeping OpenAI chat SSE server for bench/streams.sh (issue 17's streaming benchmark).
//
// Every POST is answered at once with a 200 text/event-stream (chunked, keep-alive); token k
// (0-based) of the stream is due at t0 + TTFT + k * ITL, t0 being the moment the request was
// read. One thread, one epoll set, a min-heap of due tokens, and a sub-millisecond wait
// (epoll_pwait2) to the next due token. The server measures its own lateness: for each token,
// the time it was handed to the kernel minus the time it was due, in 1 us buckets up to 1 s
// (beyond that counted in the last bucket; the maximum is kept exactly). So a client's figures
// can be split into the server's error and the client's.
//
//   streamserver PORT TTFT_MS ITL_MS TOKENS      (PORT 0 picks one; prints "listening on 127.0.0.1:P")
//
// GET /lateness answers the figures since the last GET /lateness as JSON and resets them:
// tokens, first-token and all-token lateness p50/p99/max (us), streams started/finished, peak and
// time-averaged streams in flight, writes that found the socket buffer full. Any other GET
// answers a small JSON (a models list). Binds 127.0.0.1 only. Build: cc -O2 -o streamserver streamserver.c
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HBUCKETS 1000001 /* 0..1,000,000 us */

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
  if (h->n == 0) return -1;
  uint64_t rank = (uint64_t)(p * (double)h->n + 0.999999);
  if (rank < 1) rank = 1;
  uint64_t c = 0;
  for (uint64_t i = 0; i < HBUCKETS; i++) {
    c += h->b[i];
    if (c >= rank) return i == HBUCKETS - 1 ? (long long)h->max_us : (long long)i;
  }
  return (long long)h->max_us;
}
static void h_reset(hist_t *h) { memset(h->b, 0, sizeof(uint32_t) * HBUCKETS); h->n = 0; h->max_us = 0; }

typedef struct conn {
  int fd;
  int streaming;   // 1 while a stream is open
  int k;           // next token index
  int64_t t0, due; // ns, CLOCK_MONOTONIC
  int heap_i;
  char *in; size_t in_len, in_cap;
  char *out; size_t out_len, out_cap; // bytes the kernel did not take yet
  int want_out;
} conn_t;

static int64_t TTFT, ITL; static int TOKENS;
static int ep;
static conn_t **heap; static size_t heap_n, heap_cap;
static hist_t h_first, h_all;
static uint64_t started, finished, stalled_writes;
static int64_t inflight, peak_inflight, win_start, last_change; static double inflight_integral;

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static void inflight_change(int64_t now, int d) {
  inflight_integral += (double)inflight * (double)(now - last_change);
  last_change = now; inflight += d;
  if (inflight > peak_inflight) peak_inflight = inflight;
}

static void hswap(size_t a, size_t b) { conn_t *t = heap[a]; heap[a] = heap[b]; heap[b] = t; heap[a]->heap_i = (int)a; heap[b]->heap_i = (int)b; }
static void hup(size_t i) { while (i > 0) { size_t p = (i - 1) / 2; if (heap[p]->due <= heap[i]->due) break; hswap(p, i); i = p; } }
static void hdown(size_t i) {
  for (;;) { size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_n && heap[l]->due < heap[m]->due) m = l;
    if (r < heap_n && heap[r]->due < heap[m]->due) m = r;
    if (m == i) return;
    hswap(i, m); i = m; }
}
static void hpush(conn_t *c) {
  if (heap_n == heap_cap) { heap_cap = heap_cap ? heap_cap * 2 : 1024; heap = realloc(heap, heap_cap * sizeof *heap); }
  heap[heap_n] = c; c->heap_i = (int)heap_n++; hup(heap_n - 1);
}
static void hremove(conn_t *c) {
  size_t i = (size_t)c->heap_i; if (c->heap_i < 0) return;
  heap_n--; if (i != heap_n) { heap[i] = heap[heap_n]; heap[i]->heap_i = (int)i; hdown(i); hup(i); }
  c->heap_i = -1;
}

static void close_conn(conn_t *c) {
  if (c->streaming) { inflight_change(now_ns(), -1); c->streaming = 0; }
  hremove(c);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
  free(c->in); free(c->out); free(c);
}

static void set_out_interest(conn_t *c, int want) {
  if (c->want_out == want) return;
  struct epoll_event e = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e); c->want_out = want;
}

// Sends bytes (after anything still queued); returns -1 when the connection is gone.
static int send_bytes(conn_t *c, const char *p, size_t n) {
  if (c->out_len == 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) { if (errno != EAGAIN && errno != EWOULDBLOCK) return -1; w = 0; }
    p += w; n -= (size_t)w;
    if (n == 0) return 0;
    stalled_writes++;
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

static void emit_token(conn_t *c, int64_t now) {
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
  h_add(&h_all, late);
  if (k == 0) h_add(&h_first, late);
  c->k++;
  if (c->k < TOKENS) { c->due += ITL; hdown((size_t)c->heap_i); }
  else { hremove(c); c->streaming = 0; finished++; inflight_change(now, -1); }
}

static void answer_stats(conn_t *c) {
  int64_t now = now_ns(); inflight_change(now, 0);
  double win = (double)(now - win_start);
  char body[1024];
  int n = snprintf(body, sizeof body,
    "{\"window_s\":%.3f,\"streams_started\":%llu,\"streams_finished\":%llu,\"peak_inflight\":%lld,\"avg_inflight\":%.1f,"
    "\"tokens\":%llu,\"late_p50_us\":%lld,\"late_p99_us\":%lld,\"late_max_us\":%llu,"
    "\"first_tokens\":%llu,\"first_late_p50_us\":%lld,\"first_late_p99_us\":%lld,\"first_late_max_us\":%llu,\"stalled_writes\":%llu}\n",
    win / 1e9, (unsigned long long)started, (unsigned long long)finished, (long long)peak_inflight, win > 0 ? inflight_integral / win : 0.0,
    (unsigned long long)h_all.n, h_pct(&h_all, 0.5), h_pct(&h_all, 0.99), (unsigned long long)h_all.max_us,
    (unsigned long long)h_first.n, h_pct(&h_first, 0.5), h_pct(&h_first, 0.99), (unsigned long long)h_first.max_us,
    (unsigned long long)stalled_writes);
  char head[256];
  int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", n);
  send_bytes(c, head, (size_t)hn); send_bytes(c, body, (size_t)n);
  h_reset(&h_first); h_reset(&h_all); started = finished = stalled_writes = 0;
  peak_inflight = inflight; win_start = last_change = now; inflight_integral = 0;
}

// Parses complete requests in c->in; returns -1 to close.
static int handle_input(conn_t *c) {
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
    if (is_stats) { answer_stats(c); continue; }
    if (!is_post) {
      static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r\n{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"obj\":1}]}";
      if (send_bytes(c, r, sizeof r - 1) < 0) return -1;
      continue;
    }
    static const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    if (send_bytes(c, h, sizeof h - 1) < 0) return -1;
    int64_t now = now_ns();
    c->streaming = 1; c->k = 0; c->t0 = now; c->due = now + TTFT; started++; inflight_change(now, +1);
    hpush(c);
  }
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: streamserver PORT TTFT_MS ITL_MS TOKENS\n"); return 2; }
  int port = atoi(argv[1]); TTFT = (int64_t)(atof(argv[2]) * 1e6); ITL = (int64_t)(atof(argv[3]) * 1e6); TOKENS = atoi(argv[4]);
  if (TOKENS < 1 || TTFT < 0 || ITL < 0) { fprintf(stderr, "streamserver: TOKENS must be >= 1, TTFT and ITL >= 0\n"); return 2; }
  signal(SIGPIPE, SIG_IGN);
  h_first.b = calloc(HBUCKETS, sizeof(uint32_t)); h_all.b = calloc(HBUCKETS, sizeof(uint32_t));
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 65535) < 0) { perror("streamserver: bind/listen 127.0.0.1"); return 1; }
  socklen_t al = sizeof a; getsockname(ls, (struct sockaddr *)&a, &al);
  printf("listening on 127.0.0.1:%d (TTFT %s ms, ITL %s ms, %d tokens)\n", ntohs(a.sin_port), argv[2], argv[3], TOKENS); fflush(stdout);
  ep = epoll_create1(0);
  struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL }; epoll_ctl(ep, EPOLL_CTL_ADD, ls, &le);
  win_start = last_change = now_ns();
  struct epoll_event evs[1024];
  for (;;) {
    int64_t now = now_ns();
    while (heap_n > 0 && heap[0]->due <= now) { emit_token(heap[0], now); now = now_ns(); }
    struct timespec to = { 1, 0 };
    if (heap_n > 0) { int64_t w = heap[0]->due - now; if (w < 0) w = 0; to.tv_sec = w / 1000000000LL; to.tv_nsec = w % 1000000000LL; }
    int n = epoll_pwait2(ep, evs, 1024, &to, NULL);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) { if (errno == EMFILE || errno == ENFILE) fprintf(stderr, "streamserver: accept: %s\n", strerror(errno)); break; }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *nc = calloc(1, sizeof *nc); nc->fd = fd; nc->heap_i = -1;
          struct epoll_event e = { .events = EPOLLIN, .data.ptr = nc }; epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { close_conn(c); continue; }
        if (w > 0) { memmove(c->out, c->out + w, c->out_len - (size_t)w); c->out_len -= (size_t)w; }
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
        if (gone || handle_input(c) < 0) { close_conn(c); continue; }
      }
    }
  }
}
