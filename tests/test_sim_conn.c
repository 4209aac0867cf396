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
    if (rl.rlim_cur < 5 * N_HALF_OPEN && (rl.rlim_max == RLIM_INFINITY ||
                                          rl.rlim_max >= 5 * N_HALF_OPEN)) {
        rl.rlim_cur = 5 * N_HALF_OPEN;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur >= 5 * N_HALF_OPEN;
}

/* Opens N_HALF_OPEN connections to port that never finish a request (every other one stops
 * inside its headers) and two that will send theirs a byte at a time. */
static void open_half(int port, const char *partial, int *fds, int *slow)
{
    for (size_t i = 0; i < N_HALF_OPEN; i++) {
        fds[i] = tcp_connect(port, 2000);
        assert_true(fds[i] >= 0);
        if (i % 2)
            assert_int_equal(send_all(fds[i], partial, strlen(partial)), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_true((slow[i] = tcp_connect(port, 2000)) >= 0);
}

/* Waits until at least `want` of fds are closed by the server, at most max_s seconds. */
static size_t wait_closed(const int *fds, size_t n, size_t want, double max_s)
{
    double t0 = now_s();
    size_t closed = count_closed(fds, n);
    while (closed < want && now_s() - t0 < max_s) {
        usleep(50 * 1000);
        closed = count_closed(fds, n);
    }
    return closed;
}

/* A WebSocket handshake on port for path; returns the connected socket. The answer must be
 * 101 with the Sec-WebSocket-Accept of RFC 6455's own example key. */
static int ws_open(int port, const char *path)
{
    int fd = tcp_connect(port, 3000);
    assert_true(fd >= 0);
    char req[512];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
             path);
    assert_int_equal(send_all(fd, req, strlen(req)), 0);
    char buf[1024];
    size_t n = 0;
    while (n + 1 < sizeof buf) {
        ssize_t r = recv(fd, buf + n, 1, 0); /* byte by byte: not a byte of a frame */
        assert_true(r == 1);
        n++;
        buf[n] = '\0';
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    if (!strstr(buf, "101 Switching Protocols"))
        print_message("handshake answer: %s\n", buf);
    assert_non_null(strstr(buf, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    return fd;
}

/* Sends one frame: first byte b0 (FIN, RSV, opcode) as given, masked unless mask is 0. */
static void ws_send(int fd, unsigned b0, int mask, const void *payload, size_t n)
{
    unsigned char f[16 + 4096];
    assert_true(n <= 4096);
    size_t hl = 2;
    f[0] = (unsigned char)b0;
    if (n < 126) {
        f[1] = (unsigned char)n;
    } else {
        f[1] = 126;
        f[2] = (unsigned char)(n >> 8);
        f[3] = (unsigned char)n;
        hl = 4;
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (mask) {
        f[1] |= 0x80;
        memcpy(f + hl, key, 4);
        hl += 4;
    }
    for (size_t i = 0; i < n; i++)
        f[hl + i] = (unsigned char)(((const unsigned char *)payload)[i] ^ (mask ? key[i & 3] : 0));
    assert_int_equal(send_all(fd, f, hl + n), 0);
}

static int recv_exact(int fd, unsigned char *b, size_t n)
{
    for (size_t k = 0; k < n;) {
        ssize_t r = recv(fd, b + k, n - k, 0);
        if (r <= 0)
            return -1;
        k += (size_t)r;
    }
    return 0;
}

/* Reads one frame from the server (never masked); returns its opcode, or -1 at the end. */
static int ws_recv(int fd, unsigned char *payload, size_t size, size_t *n)
{
    unsigned char h[10];
    if (recv_exact(fd, h, 2))
        return -1;
    assert_int_equal(h[1] & 0x80, 0);
    uint64_t len = h[1] & 127;
    if (len == 126) {
        if (recv_exact(fd, h + 2, 2))
            return -1;
        len = (uint64_t)h[2] << 8 | h[3];
    } else if (len == 127) {
        if (recv_exact(fd, h + 2, 8))
            return -1;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
    }
    assert_true(len < size);
    if (recv_exact(fd, payload, (size_t)len))
        return -1;
    payload[len] = 0;
    *n = (size_t)len;
    return h[0] & 15;
}

/* After a frame RFC 6455 forbids: a close frame with `code`, then the end of the connection. */
static void expect_close(int fd, unsigned code)
{
    unsigned char p[256];
    size_t n;
    int op;
    while ((op = ws_recv(fd, p, sizeof p, &n)) == 1) /* messages already on their way */
        ;
    if (op != 8)
        print_message("expected a close frame with %u, got opcode %d\n", code, op);
    assert_int_equal(op, 8);
    assert_true(n >= 2);
    assert_int_equal((unsigned)p[0] << 8 | p[1], code);
    assert_int_equal(ws_recv(fd, p, sizeof p, &n), -1); /* and the server ended it */
    close(fd);
}

/* 1,100 connections that never send a request, half of them stopping inside their headers,
 * and two that send their headers a byte at a time, to the REST port and to the WebSocket
 * port at once: a normal client is answered at once on both (the simulator of before reset
 * the REST one: libmicrohttpd's 1,020 select() slots were all taken), one address cannot keep
 * more than 64 connections waiting, and every late request is closed after 10 s. */
static void test_half_open(void **state)
{
    (void)state;
    if (!enough_descriptors()) {
        print_message("skipped: the limit of open files is below %d\n", 5 * N_HALF_OPEN);
        skip();
    }
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int port = cb_sim_port(f.sim), ws_port = cb_sim_ws_port(f.sim);
    static int fds[2][N_HALF_OPEN];
    int slow[2][2];
    double t0 = now_s();
    open_half(port, "GET /api/v3/ping HTTP/1.1\r\nHo", fds[0], slow[0]);
    open_half(ws_port, "GET /ws-api/v3 HTTP/1.1\r\nUpgrade: webs", fds[1], slow[1]);

    char buf[4096];
    double took = http_get(port, "/api/v3/ping", buf, sizeof buf);
    print_message("REST client answered in %.3f s beside %d half-open connections\n", took,
                  N_HALF_OPEN);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "\r\n\r\n{}"));
    assert_true(took < 3.0);
    cb_diag_t d;
    int64_t t;
    check_ok(cb_exchange_server_time(f.ex, &t, &d), &d); /* the connector too */
    double t1 = now_s();
    int ws = ws_open(ws_port, "/ws-api/v3");
    ws_send(ws, 0x81, 1, "{\"id\":7,\"method\":\"ping\"}", 24);
    unsigned char p[512];
    size_t n;
    assert_int_equal(ws_recv(ws, p, sizeof p, &n), 1);
    assert_string_equal((char *)p, "{\"id\":7,\"status\":200,\"result\":{}}");
    print_message("WebSocket client answered in %.3f s beside %d half-open connections\n",
                  now_s() - t1, N_HALF_OPEN);
    assert_true(now_s() - t1 < 3.0);

    /* One address keeps at most 64 connections waiting: the oldest went as new ones came. */
    for (int k = 0; k < 2; k++) {
        size_t closed = wait_closed(fds[k], N_HALF_OPEN, N_HALF_OPEN - 64, 5.0);
        print_message("%s: %zu of %d closed by the per-address limit\n", k ? "ws" : "rest",
                      closed, N_HALF_OPEN);
        assert_true(closed >= N_HALF_OPEN - 64);
    }

    /* The slow ones keep sending, but their headers are late: closed after 10 s. */
    const char *hdr[2] = {"GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890\r\n",
                          "GET /ws-api/v3 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890\r\n"};
    size_t pos = 0;
    int cut[4] = {0, 0, 0, 0}, n_cut = 0;
    double t_cut[4] = {0, 0, 0, 0};
    while (now_s() - t0 < HEADER_S + 4 && n_cut < 4) {
        for (int i = 0; i < 4; i++) {
            int fd = slow[i / 2][i % 2];
            if (!cut[i] && (send(fd, hdr[i / 2] + pos, 1, MSG_NOSIGNAL) != 1 || peer_closed(fd))) {
                cut[i] = 1;
                n_cut++;
                t_cut[i] = now_s() - t0;
            }
        }
        pos = (pos + 1) % strlen(hdr[0]);
        usleep(250 * 1000);
    }
    for (int i = 0; i < 4; i++) {
        print_message("slow sender %d closed after %.1f s\n", i, t_cut[i]);
        assert_true(cut[i]);
        assert_true(t_cut[i] >= HEADER_S - 1);
    }
    for (int k = 0; k < 2; k++) {
        assert_int_equal(wait_closed(fds[k], N_HALF_OPEN, N_HALF_OPEN, 5.0), N_HALF_OPEN);
        for (size_t i = 0; i < N_HALF_OPEN; i++)
            close(fds[k][i]);
        close(slow[k][0]);
        close(slow[k][1]);
    }
    assert_non_null(strstr(logbuf, "sent no complete request within 10 s"));
    /* and both still serve; the open WebSocket was not touched */
    http_get(port, "/api/v3/ping", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    ws_send(ws, 0x81, 1, "{\"id\":8,\"method\":\"ping\"}", 24);
    assert_int_equal(ws_recv(ws, p, sizeof p, &n), 1);
    assert_string_equal((char *)p, "{\"id\":8,\"status\":200,\"result\":{}}");
    close(ws);
    fx_stop(&f);
}

/* RFC 6455 5.1: "The server MUST close the connection upon receiving a frame that is not
 * masked", with 1002 (protocol error); 8.1: text that is not UTF-8 fails the connection with
 * 1007. libwebsockets 4.1 let both through (the unmasked request was answered). */
static void test_ws_unmasked_and_utf8(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int port = cb_sim_ws_port(f.sim);
    unsigned char p[512];
    size_t n;

    int fd = ws_open(port, "/ws-api/v3");
    ws_send(fd, 0x81, 0, "{\"id\":1,\"method\":\"ping\"}", 24);
    expect_close(fd, 1002);
    fd = ws_open(port, "/ws/btcusdt@kline_1h"); /* a market stream too */
    ws_send(fd, 0x81, 0, "hello", 5);
    expect_close(fd, 1002);
    fd = ws_open(port, "/ws-api/v3"); /* an unmasked control frame too */
    ws_send(fd, 0x89, 0, "", 0);
    expect_close(fd, 1002);

    /* invalid UTF-8: a lone byte, a truncated sequence, an overlong '/', a surrogate, beyond
     * U+10FFFF */
    const char *bad[] = {"{\"id\":1,\"x\":\"\xff\"}", "\xc3", "\xc0\xaf", "\xed\xa0\x80",
                         "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = ws_open(port, i % 2 ? "/ws/btcusdt@kline_1h" : "/ws-api/v3");
        ws_send(fd, 0x81, 1, bad[i], strlen(bad[i]));
        expect_close(fd, 1007);
    }
    /* a character split over two fragments is whole UTF-8: answered */
    fd = ws_open(port, "/ws-api/v3");
    const char *m = "{\"id\":\"\xc3\xa9\",\"method\":\"ping\"}";
    ws_send(fd, 0x01, 1, m, 9); /* ends inside the two bytes of U+00E9 */
    ws_send(fd, 0x80, 1, m + 9, strlen(m) - 9);
    assert_int_equal(ws_recv(fd, p, sizeof p, &n), 1);
    assert_string_equal((char *)p, "{\"id\":\"\xc3\xa9\",\"status\":200,\"result\":{}}");
    /* ... but a close reason that is not UTF-8 is 1007 */
    ws_send(fd, 0x88, 1, "\x03\xe8\xff", 3);
    expect_close(fd, 1007);
    assert_non_null(strstr(logbuf, "websocket closed with 1002: an unmasked frame"));
    assert_non_null(strstr(logbuf, "websocket closed with 1007: a text message that is not"));
    fx_stop(&f);
}

/* The rest of RFC 6455's framing rules, each on a fresh connection. */
static void test_ws_framing(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int port = cb_sim_ws_port(f.sim);
    unsigned char p[512];
    size_t n;
    static const struct {
        unsigned b0;
        const char *payload;
        size_t len;
        unsigned code;
        const char *why;
    } bad[] = {
        {0xc1, "{}", 2, 1002, "RSV1 without an extension"},
        {0x83, "x", 1, 1002, "opcode 3 (reserved)"},
        {0x8b, "", 0, 1002, "opcode 11 (reserved)"},
        {0x09, "", 0, 1002, "a fragmented ping"},
        {0x80, "x", 1, 1002, "a continuation with no message"},
        {0x88, "\x03", 1, 1002, "a close frame of one byte"},
        {0x88, "\x03\xed", 2, 1002, "close code 1005 (never sent)"},
        {0x88, "\x03\xe7", 2, 1002, "close code 999"},
        {0x82, "\x01\x02", 2, 1003, "a binary message"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("%s\n", bad[i].why);
        int fd = ws_open(port, "/ws-api/v3");
        ws_send(fd, bad[i].b0, 1, bad[i].payload, bad[i].len);
        expect_close(fd, bad[i].code);
    }
    char big[200];
    memset(big, 'a', sizeof big);
    int fd = ws_open(port, "/ws-api/v3");
    ws_send(fd, 0x89, 1, big, sizeof big); /* a control frame over 125 bytes */
    expect_close(fd, 1002);
    fd = ws_open(port, "/ws-api/v3"); /* a new message inside a fragmented one */
    ws_send(fd, 0x01, 1, "{", 1);
    ws_send(fd, 0x81, 1, "{}", 2);
    expect_close(fd, 1002);

    /* What is allowed: a ping is answered with its payload, even between two fragments; a
     * close is echoed with its code and the server ends the connection. */
    fd = ws_open(port, "/ws-api/v3");
    ws_send(fd, 0x01, 1, "{\"id\":3,", 8);
    ws_send(fd, 0x89, 1, "are you there", 13);
    assert_int_equal(ws_recv(fd, p, sizeof p, &n), 10);
    assert_int_equal(n, 13);
    assert_memory_equal(p, "are you there", 13);
    ws_send(fd, 0x80, 1, "\"method\":\"ping\"}", 16);
    assert_int_equal(ws_recv(fd, p, sizeof p, &n), 1);
    assert_string_equal((char *)p, "{\"id\":3,\"status\":200,\"result\":{}}");
    ws_send(fd, 0x88, 1, "\x03\xe8" "bye", 5);
    expect_close(fd, 1000);

    /* Handshakes that are not WebSocket upgrades are refused with HTTP statuses. */
    char buf[2048];
    http_get(port, "/ws-api/v3", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 426 Upgrade Required"));
    int k = tcp_connect(port, 3000);
    const char *req = "GET /ws/xrpusdt@trade HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(send_all(k, req, strlen(req)), 0);
    recv_until_close(k, buf, sizeof buf);
    close(k);
    assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found"));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_unmasked_and_utf8),
        cmocka_unit_test(test_ws_framing),
        cmocka_unit_test(test_half_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
