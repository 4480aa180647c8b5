/*
 * listen.h: (services) the stages' listening sockets: a "HOST:PORT"
 * config value bound to a libevent listener, and socket addresses as
 * text for log lines.
 */
#ifndef SERVER_LISTEN_H
#define SERVER_LISTEN_H

#include <stddef.h>

#include <event2/listener.h>

struct event_base;
struct sockaddr;

/* Room for an address as listen_format_addr writes it. */
#define LISTEN_ADDR_MAX 64

/* sa as "host:port" or "[host]:port" ("?" for another family) into
 * buf; returns its port (0 when none). */
int listen_format_addr(const struct sockaddr *sa, char *buf, size_t size);

/*
 * Bind a listener (close-on-free, reusable address, close-on-exec) on
 * value, the "HOST:PORT" of config key `key` (port 0: any free one),
 * calling cb with arg for each connection (cb NULL: set later, as
 * evhttp_bind_listener does).  Returns 0 with *out, the bound address in
 * bound (LISTEN_ADDR_MAX) and its port in *port; else ERR_CONFIG (value
 * does not parse or resolve) or -errno from bind/listen, logged as
 * "KEY ..." or "WHAT: cannot listen on VALUE: ...".
 */
int listen_bind(struct event_base *base, const char *what, const char *key,
    const char *value, evconnlistener_cb cb, void *arg,
    struct evconnlistener **out, char *bound, int *port);

#endif
