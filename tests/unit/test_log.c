/*
 * test_log.c: log_redact_url keeps the Finnhub token out of log lines.
 */
#include <config.h>

#include <string.h>

#include "server/log.h"
#include "tests/lib/tap.h"

int
main(void)
{
	char b[128];

	plan_lazy();
	is_str(log_redact_url("wss://ws.finnhub.io?token=SECRET", b, sizeof(b)),
	    "wss://ws.finnhub.io?token=***", "token masked");
	is_str(
	    log_redact_url("wss://x/?xtoken=a&token=SECRET&y=1", b, sizeof(b)),
	    "wss://x/?xtoken=a&token=***&y=1",
	    "a parameter ending in token= is left alone, the real one masked");
	is_str(log_redact_url("ws://x/p?a=1&token=S&token=T#f", b, sizeof(b)),
	    "ws://x/p?a=1&token=***&token=***#f", "every token= masked");
	is_str(log_redact_url("ws://127.0.0.1:9/", b, sizeof(b)),
	    "ws://127.0.0.1:9/", "a URL without a token is unchanged");
	log_redact_url("ws://x/?token=SECRETSECRET", b, 20);
	is_str(b, "ws://x/?token=***", "a long token masked to ***");
	log_redact_url("ws://x/?token=SECRETSECRET", b, 16);
	ok(strstr(b, "SECRET") == NULL && strlen(b) == 15,
	    "truncation never reveals the token (%s)", b);
	return done_testing();
}
