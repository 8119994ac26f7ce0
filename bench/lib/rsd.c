/* rsd: a tiny real-server farm for the checker benchmarks. One epoll thread listens on 0.0.0.0:PORT (give the
 * real-server addresses to an interface of its network namespace, e.g. lo) and, per connection, counts it under the
 * local address it was made to; if a request arrives it answers `HTTP/1.0 200 OK` with a 3-byte body and closes
 * (an HTTP_GET check), if the peer closes first it just closes (a TCP_CHECK). The counts are per address of
 * PREFIX.x.y (index x*256+y, so up to 65,536 addresses).
 *   SIGUSR1: write COUNTS_FILE: a line "total connections requests", then one line per address that was
 *            connected to since the start: "a.b.c.d connections requests".
 * Usage: rsd PORT COUNTS_FILE        Build: gcc -O2 -o rsd rsd.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 262144
static unsigned conns[65536], reqs[65536];
static unsigned char seen[65536], prefix[2];
static int have_prefix;
static unsigned short slot[MAXFD];
static volatile sig_atomic_t dump;
static unsigned long long total_conns, total_reqs;

static void on_usr1(int s) { (void)s; dump = 1; }

static void write_counts(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "total %llu %llu\n", total_conns, total_reqs);
    for (int i = 0; i < 65536; i++)
        if (seen[i]) fprintf(f, "%u.%u.%d.%d %u %u\n", prefix[0], prefix[1], i >> 8, i & 255, conns[i], reqs[i]);
    fclose(f);
    rename(tmp, path);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: rsd PORT COUNTS_FILE\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = INADDR_ANY};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 65535)) { perror("rsd: bind/listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    for (;;) {
        if (dump) { dump = 0; write_counts(argv[2]); }
        int n = epoll_wait(ep, evs, 256, 500);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                for (;;) {
                    int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0) break;
                    if (c >= MAXFD) { close(c); continue; }
                    struct sockaddr_in l; socklen_t ll = sizeof l;
                    getsockname(c, (struct sockaddr *)&l, &ll);
                    unsigned char *b = (unsigned char *)&l.sin_addr.s_addr;
                    if (!have_prefix) { prefix[0] = b[0]; prefix[1] = b[1]; have_prefix = 1; }
                    unsigned short k = (unsigned short)(b[2] << 8 | b[3]);
                    slot[c] = k; seen[k] = 1; conns[k]++; total_conns++;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            char buf[2048];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                /* one read holds a checker's whole request in practice; answer on the first bytes */
                reqs[slot[fd]]++; total_reqs++;
                if (write(fd, resp, sizeof resp - 1) < 0) { /* peer gone */ }
                shutdown(fd, SHUT_WR);
            }
            if (r > 0 || r == 0 || (r < 0 && errno != EAGAIN)) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd); }
        }
    }
}
