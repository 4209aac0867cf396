/* sim/: the simulator's connection handling, with raw sockets on 127.0.0.1. Clients that
 * connect and send nothing, or send their request a byte at a time, do not lock out a normal
 * client, and are closed when their headers are late; WebSocket frames that RFC 6455 forbids
 * (unmasked client frames, invalid UTF-8 text, bad opcodes, reserved bits) close the
 * connection with the status code the RFC names. Every wait here is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "comeback/core.h"
#include "sim_fixture.h"

#define N_HALF_OPEN 1100
#define HEADER_S 10 /* SIM_HEADER_MS in src/sim/sim_int.h */

static double now_s(void) { return (double)cb_monotonic_ns() * 1e-9; }

/* A blocking TCP connection to 127.0.0.1:port with receive and send timeouts, or -1. */
static int tcp_connect(int port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the peer closes, the buffer is full or the socket's timeout; returns bytes. */
static size_t recv_until_close(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

/* GET path with Connection: close; the answer in buf. Returns the seconds it took. */
static double http_get(int port, const char *path, char *buf, size_t size)
{
    double t0 = now_s();
    int fd = tcp_connect(port, 3000);
    assert_true(fd >= 0);
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    assert_int_equal(send_all(fd, req, strlen(req)), 0);
    recv_until_close(fd, buf, size);
    close(fd);
    return now_s() - t0;
}

/* 1 when the server has closed fd (end of input or reset), 0 when it is still open. */
static int peer_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static size_t count_closed(const int *fds, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += fds[i] < 0 || peer_closed(fds[i]);
    return k;
}

/* The test process holds both ends of every connection (the simulator runs in it). */
static int enough_descriptors(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < 4 * N_HALF_OPEN && (rl.rlim_max == RLIM_INFINITY ||
                                          rl.rlim_max >= 4 * N_HALF_OPEN)) {
        rl.rlim_cur = 4 * N_HALF_OPEN;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur >= 4 * N_HALF_OPEN;
}

/* 1,100 connections that never send a request, half of them stopping inside their headers,
 * and two that send their headers a byte a second: a normal client is answered at once
 * (today's simulator reset it: its 1,020 connections were all taken), one address cannot keep
 * more than 64 connections waiting, and every late request is closed after 10 s. */
static void test_http_half_open(void **state)
{
    (void)state;
    if (!enough_descriptors()) {
        print_message("skipped: the limit of open files is below %d\n", 4 * N_HALF_OPEN);
        skip();
    }
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int port = cb_sim_port(f.sim);
    static int fds[N_HALF_OPEN];
    double t0 = now_s();
    for (size_t i = 0; i < N_HALF_OPEN; i++) {
        fds[i] = tcp_connect(port, 2000);
        assert_true(fds[i] >= 0);
        if (i % 2)
            assert_int_equal(send_all(fds[i], "GET /api/v3/ping HTTP/1.1\r\nHo", 29), 0);
    }
    int slow[2];
    const char *hdr = "GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890\r\n";
    for (int i = 0; i < 2; i++)
        assert_true((slow[i] = tcp_connect(port, 2000)) >= 0);

    char buf[4096];
    double took = http_get(port, "/api/v3/ping", buf, sizeof buf);
    print_message("normal client answered in %.3f s after %d half-open connections\n", took,
                  N_HALF_OPEN);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "\r\n\r\n{}"));
    assert_true(took < 2.0);
    /* the connector too */
    cb_diag_t d;
    int64_t t;
    check_ok(cb_exchange_server_time(f.ex, &t, &d), &d);

    /* One address keeps at most 64 connections waiting: the oldest went as new ones came. */
    size_t closed = 0;
    for (int k = 0; k < 40 && closed < N_HALF_OPEN - 64; k++) {
        closed = count_closed(fds, N_HALF_OPEN);
        if (closed < N_HALF_OPEN - 64)
            usleep(50 * 1000);
    }
    print_message("%zu of %d closed by the per-address limit\n", closed, N_HALF_OPEN);
    assert_true(closed >= N_HALF_OPEN - 64);

    /* The slow ones keep sending, but their headers are late: closed after 10 s. */
    size_t pos = 0;
    int cut[2] = {0, 0};
    double t_cut = 0;
    while (now_s() - t0 < HEADER_S + 4 && !(cut[0] && cut[1])) {
        for (int i = 0; i < 2; i++)
            if (!cut[i] && (send(slow[i], hdr + pos, 1, MSG_NOSIGNAL) != 1 || peer_closed(slow[i]))) {
                cut[i] = 1;
                t_cut = now_s() - t0;
            }
        pos = (pos + 1) % strlen(hdr);
        usleep(500 * 1000);
    }
    print_message("slow senders closed after %.1f s\n", t_cut);
    assert_true(cut[0] && cut[1]);
    assert_true(t_cut >= HEADER_S - 1);
    for (int k = 0; k < 20 && count_closed(fds, N_HALF_OPEN) < N_HALF_OPEN; k++)
        usleep(100 * 1000);
    assert_int_equal(count_closed(fds, N_HALF_OPEN), N_HALF_OPEN);
    for (size_t i = 0; i < N_HALF_OPEN; i++)
        close(fds[i]);
    close(slow[0]);
    close(slow[1]);
    assert_non_null(strstr(logbuf, "sent no complete request within 10 s"));
    /* and the server still serves */
    http_get(port, "/api/v3/ping", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_half_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
