/*
 * listen.c: (services) binding the stages' listeners (listen.h).
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/listener.h>
#include <event2/util.h>

#include "base/err.h"
#include "server/config.h"
#include "server/listen.h"
#include "server/log.h"

int
listen_format_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, size, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, size, "[%s]:%d", host, port);
	} else {
		snprintf(buf, size, "?");
	}
	return port;
}

int
listen_bind(struct event_base *base, const char *what, const char *key,
    const char *value, evconnlistener_cb cb, void *arg,
    struct evconnlistener **out, char *bound, int *port)
{
	struct evutil_addrinfo hints, *res = NULL;
	struct evconnlistener *lis;
	struct sockaddr_storage ss;
	ev_socklen_t sslen = sizeof(ss);
	char host[256], portstr[16];
	int want, gai, rc;

	*out = NULL;
	if (config_split_hostport(value, host, sizeof(host), &want) != 0) {
		log_err("%s \"%s\" is not HOST:PORT", key, value);
		return ERR_CONFIG;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", want);
	if ((gai = evutil_getaddrinfo(host, portstr, &hints, &res)) != 0) {
		log_err("%s %s: %s", key, value, evutil_gai_strerror(gai));
		return ERR_CONFIG;
	}
	lis = evconnlistener_new_bind(base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, res->ai_addr, (int)res->ai_addrlen);
	evutil_freeaddrinfo(res);
	if (lis == NULL) {
		rc = errno != 0 ? -errno : -EADDRNOTAVAIL;
		log_err(
		    "%s: cannot listen on %s: %s", what, value, err_str(rc));
		return rc;
	}
	if (getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&ss,
	        &sslen) == 0) {
		*port = listen_format_addr(
		    (struct sockaddr *)&ss, bound, LISTEN_ADDR_MAX);
	} else {
		snprintf(bound, LISTEN_ADDR_MAX, "%s", value);
		*port = want;
	}
	*out = lis;
	return 0;
}
