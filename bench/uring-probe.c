// uring-probe: what io_uring would save the fast transport (issue 17), measured before building
// it into Cicada. The same closed-loop HTTP/1.1 keep-alive GET generator in two modes:
//
//   epoll  the fast transport's design: epoll_wait, then per ready socket one read() and, when
//          the response is whole, one send() of the next request (2 syscalls a request plus a
//          share of epoll_wait);
//   uring  io_uring (liburing): per connection a send linked to a recv; completions of every
//          connection are reaped together and the next sends and recvs go back in one
//          io_uring_submit_and_wait (one syscall per batch, not per request).
//
// Both parse each response's head for Content-Length (no chunked: the benchmark nginx answers
// "ok\n"), count requests, and print req/s and their own CPU (user + system) per request.
//
//   cc -O2 -o /tmp/uring-probe bench/uring-probe.c -luring
//   /tmp/uring-probe epoll|uring HOST PORT CONNS SECONDS
//
// bench/uring-probe.sh runs both against bench/nginx.conf next to wrk, interleaved.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 16384
static const char REQ[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n";

typedef struct { int fd; char buf[BUF]; size_t have; } conn;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

// Bytes of one whole response at the start of b (0: not yet whole, -1: not understood).
static long whole(const char *b, size_t n) {
  const char *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end) return 0;
  const char *cl = memmem(b, end - b, "Content-Length:", 15);
  if (!cl) cl = memmem(b, end - b, "content-length:", 15);
  if (!cl) return -1;
  long len = strtol(cl + 15, NULL, 10);
  long total = (end + 4 - b) + len;
  return (long)n >= total ? total : 0;
}

// Takes n new bytes on c; returns how many responses completed (and keeps the rest).
static int take(conn *c, size_t n) {
  int done = 0;
  c->have += n;
  for (;;) {
    long w = whole(c->buf, c->have);
    if (w < 0) { fprintf(stderr, "response not understood\n"); exit(1); }
    if (w == 0) break;
    memmove(c->buf, c->buf + w, c->have - w);
    c->have -= w;
    done++;
  }
  return done;
}

static int dial(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static long run_epoll(conn *cs, int n, double secs) {
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    send(cs[i].fd, REQ, sizeof REQ - 1, MSG_NOSIGNAL);
  }
  struct epoll_event evs[256];
  long count = 0;
  double stop = now() + secs;
  while (now() < stop) {
    int k = epoll_wait(ep, evs, 256, 100);
    for (int j = 0; j < k; j++) {
      conn *c = &cs[evs[j].data.u32];
      ssize_t r = read(c->fd, c->buf + c->have, BUF - c->have);
      if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; fprintf(stderr, "read: %zd\n", r); exit(1); }
      int d = take(c, r);
      count += d;
      if (d) send(c->fd, REQ, sizeof REQ - 1, MSG_NOSIGNAL);
    }
  }
  close(ep);
  return count;
}

static void queue_recv(struct io_uring *r, conn *cs, int i) {
  struct io_uring_sqe *s = io_uring_get_sqe(r);
  io_uring_prep_recv(s, cs[i].fd, cs[i].buf + cs[i].have, BUF - cs[i].have, 0);
  io_uring_sqe_set_data64(s, (uint64_t)i << 1 | 1);
}

static void queue_send_recv(struct io_uring *r, conn *cs, int i) {
  struct io_uring_sqe *s = io_uring_get_sqe(r);
  io_uring_prep_send(s, cs[i].fd, REQ, sizeof REQ - 1, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, (uint64_t)i << 1);
  s->flags |= IOSQE_IO_LINK;
  queue_recv(r, cs, i);
}

static long run_uring(conn *cs, int n, double secs) {
  struct io_uring r;
  struct io_uring_params p = {0};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  int e = io_uring_queue_init_params(4 * n + 64, &r, &p);
  if (e < 0) {
    memset(&p, 0, sizeof p);  // older kernels: without the flags
    e = io_uring_queue_init_params(4 * n + 64, &r, &p);
  }
  if (e < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-e)); exit(3); }
  for (int i = 0; i < n; i++) queue_send_recv(&r, cs, i);
  long count = 0;
  double stop = now() + secs;
  while (now() < stop) {
    io_uring_submit_and_wait(&r, 1);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&r, head, cqe) {
      seen++;
      uint64_t d = io_uring_cqe_get_data64(cqe);
      int i = d >> 1;
      if (!(d & 1)) {  // a send
        if (cqe->res < 0) { fprintf(stderr, "send: %s\n", strerror(-cqe->res)); exit(1); }
        continue;
      }
      if (cqe->res <= 0) { fprintf(stderr, "recv: %d\n", cqe->res); exit(1); }
      int got = take(&cs[i], cqe->res);
      count += got;
      if (got) queue_send_recv(&r, cs, i); else queue_recv(&r, cs, i);
    }
    io_uring_cq_advance(&r, seen);
  }
  io_uring_queue_exit(&r);
  return count;
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: %s epoll|uring HOST PORT CONNS SECONDS\n", argv[0]); return 2; }
  int n = atoi(argv[4]);
  double secs = atof(argv[5]);
  conn *cs = calloc(n, sizeof *cs);
  for (int i = 0; i < n; i++) cs[i].fd = dial(argv[2], atoi(argv[3]));
  struct rusage u0, u1;
  getrusage(RUSAGE_SELF, &u0);
  double t0 = now();
  long count = strcmp(argv[1], "uring") == 0 ? run_uring(cs, n, secs) : run_epoll(cs, n, secs);
  double wall = now() - t0;
  getrusage(RUSAGE_SELF, &u1);
  double usr = (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) + (u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) / 1e6;
  double sys = (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e6;
  printf("mode=%s requests=%ld req_s=%.0f cpu_us_per_req=%.2f user_us=%.2f sys_us=%.2f cpu_share=%.2f\n", argv[1], count,
         count / wall, (usr + sys) * 1e6 / count, usr * 1e6 / count, sys * 1e6 / count, (usr + sys) / wall);
  return 0;
}
