/* HTTPS API server on libmicrohttpd (see server.h). */
#include "api/server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "access/auth.h"
#include "access/user.h"
#include "api/handlers.h"
#include "api/jobs.h"
#include "api/router.h"
#include "api/worker.h"
#include "base/buf.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/paths.h"
#include "crypto/hash.h"
#include "base/timefmt.h"

#define API_PREFIX "/api2/json"
/* Verified token secrets are remembered this long (crypt(3) costs milliseconds per request). */
#define TOKEN_CACHE_SIZE 64
#define TOKEN_CACHE_SECONDS 60.0

struct tp_server {
	struct MHD_Daemon *d;
	char *cert, *key;
	char fp[TP_TLS_FINGERPRINT_LEN];
	int created;
	unsigned port;
	size_t max_body;
	int interval;
	uint8_t ticket_key[32];
	pthread_t sched;
	int sched_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	char *shadow_path;          /* token.shadow: its change invalidates the token cache */
	pthread_mutex_t tc_mu;
	struct token_cache_entry {
		char tokenid[TP_AUTHID_MAX + 1];
		uint8_t secret_digest[32];
		struct timespec shadow_mtime;
		ino_t shadow_ino;
		double expires;     /* monotonic */
	} tc[TOKEN_CACHE_SIZE];
	unsigned tc_next;
	pthread_mutex_t conn_mu;
	unsigned nconn;             /* open connections */
};

typedef struct req_ctx {
	tp_buf body;
	int too_large;
} req_ctx;

int tp_server_parse_listen(const char *listen, void *ss, unsigned *socklen, int *loopback, tp_err *err)
{
	char host[128];
	const char *colon;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host))
			return tp_err_set(err, -EINVAL, "--listen '%s': expected [IPV6]:PORT", listen);
		memcpy(host, listen + 1, (size_t)(close - listen - 1));
		host[close - listen - 1] = 0;
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || (size_t)(colon - listen) >= sizeof(host) || memchr(listen, ':', (size_t)(colon - listen)))
			return tp_err_set(err, -EINVAL, "--listen '%s': expected ADDR:PORT (IPv6 as [ADDR]:PORT)", listen);
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = 0;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return tp_err_set(err, -EINVAL, "--listen '%s': bad port", listen);
	memset(ss, 0, sizeof(struct sockaddr_storage));
	struct sockaddr_in *s4 = ss;
	struct sockaddr_in6 *s6 = ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*socklen = sizeof(*s4);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*socklen = sizeof(*s6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		return tp_err_set(err, -EINVAL, "--listen '%s': '%s' is not a numeric IP address", listen, host);
	}
	return 0;
}

/* ---- request parsing ---- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	json_t *q = cls;
	json_t *v = json_string(value ? value : "");
	if (!v)
		return MHD_YES;   /* not UTF-8: the validator reports the missing/odd parameter */
	json_t *prev = json_object_get(q, key);
	if (!prev) {
		json_object_set_new(q, key, v);
	} else if (json_is_array(prev)) {
		json_array_append_new(prev, v);
	} else {
		json_t *arr = json_pack("[O,o]", prev, v);
		json_object_set_new(q, key, arr);
	}
	return MHD_YES;
}

/* application/x-www-form-urlencoded body into q (as query arguments). */
static int parse_form(char *s, json_t *q)
{
	char *save = NULL;
	for (char *it = strtok_r(s, "&", &save); it; it = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(it, '=');
		if (eq)
			*eq++ = 0;
		for (char *p = it; *p; p++)
			if (*p == '+')
				*p = ' ';
		for (char *p = eq; p && *p; p++)
			if (*p == '+')
				*p = ' ';
		MHD_http_unescape(it);
		if (eq)
			MHD_http_unescape(eq);
		if (strlen(it) == 0)
			return -1;
		collect_arg(q, MHD_GET_ARGUMENT_KIND, it, eq ? eq : "");
	}
	return 0;
}

/* ---- authentication ---- */

/*
 * tp_auth_token with a cache of recently verified secrets.  An entry counts
 * only while token.shadow is unchanged (a removed or regenerated token
 * changes it), and whether the token and its user are active is checked on
 * every request from user.json.
 */
static int token_cached(tp_server *s, const char *tokenid, const char *secret, tp_err *err)
{
	uint8_t dig[32];
	tp_sha256(secret, strlen(secret), dig);
	struct stat st;
	memset(&st, 0, sizeof(st));
	int have_stat = stat(s->shadow_path, &st) == 0;
	double now = tp_monotonic();
	int hit = 0;
	pthread_mutex_lock(&s->tc_mu);
	for (unsigned i = 0; i < TOKEN_CACHE_SIZE && !hit; i++) {
		struct token_cache_entry *e = &s->tc[i];
		hit = have_stat && e->expires > now && !strcmp(e->tokenid, tokenid) && !memcmp(e->secret_digest, dig, 32) &&
		      e->shadow_ino == st.st_ino && e->shadow_mtime.tv_sec == st.st_mtim.tv_sec &&
		      e->shadow_mtime.tv_nsec == st.st_mtim.tv_nsec;
	}
	pthread_mutex_unlock(&s->tc_mu);
	if (hit) {
		tp_user_config cfg;
		int r = tp_user_config_load(&cfg, err);
		if (r < 0)
			return r;
		r = tp_authid_active(&cfg, tokenid, tp_now(), err);
		tp_user_config_free(&cfg);
		return r;
	}
	int r = tp_auth_token(tokenid, secret, err);
	if (r < 0 || !have_stat)
		return r;
	pthread_mutex_lock(&s->tc_mu);
	struct token_cache_entry *e = &s->tc[s->tc_next++ % TOKEN_CACHE_SIZE];
	snprintf(e->tokenid, sizeof(e->tokenid), "%s", tokenid);
	memcpy(e->secret_digest, dig, 32);
	e->shadow_ino = st.st_ino;
	e->shadow_mtime = st.st_mtim;
	e->expires = now + TOKEN_CACHE_SECONDS;
	pthread_mutex_unlock(&s->tc_mu);
	return 0;
}

/*
 * 1 with authid set, 0 when no credentials were given, -1 when they were
 * wrong (401, message in err).
 */
static int authenticate(tp_server *s, struct MHD_Connection *conn, enum tp_http_method m, char *authid, tp_err *err)
{
	const char *hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (hdr) {
		char tokenid[TP_AUTHID_MAX + 1], secret[256];
		if (tp_auth_parse_token_header(hdr, tokenid, secret, err) < 0)
			return -1;
		if (token_cached(s, tokenid, secret, err) < 0)
			return -1;
		snprintf(authid, TP_AUTHID_MAX + 1, "%s", tokenid);
		return 1;
	}
	const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "PBSAuthCookie");
	if (!cookie)
		return 0;
	char ticket[TP_TICKET_MAX + 64];
	if (strlen(cookie) >= sizeof(ticket)) {
		tp_err_set(err, -TP_EPERM, "authentication failed: ticket too long");
		return -1;
	}
	snprintf(ticket, sizeof(ticket), "%s", cookie);
	MHD_http_unescape(ticket);
	int64_t now = tp_now();
	if (tp_ticket_verify_key(s->ticket_key, ticket, now, authid, err) < 0)
		return -1;
	tp_user_config cfg;
	if (tp_user_config_load(&cfg, err) < 0)
		return -1;
	int r = tp_authid_active(&cfg, authid, now, err);
	tp_user_config_free(&cfg);
	if (r < 0)
		return -1;
	/* state-changing calls with a ticket need the CSRF token (a browser sends cookies on its own) */
	if (m != TP_HTTP_GET) {
		const char *csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CSRFPreventionToken");
		if (tp_api_csrf_verify(authid, csrf, now, err) < 0)
			return -1;
	}
	return 1;
}

/* ---- responses ---- */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
	char *text = body ? tp_json_compact(body) : NULL;
	json_decref(body);
	if (!text)
		text = strdup("{\"data\":null,\"message\":\"out of memory\"}"), status = 500;
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json;charset=UTF-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return send_json(conn, status, json_pack("{s:n,s:s}", "data", "message", msg));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	tp_server *s = cls;
	req_ctx *rc = *con_cls;
	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return MHD_NO;
		*con_cls = rc;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->max_body) {
			char msg[128];
			snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->max_body);
			rc->too_large = 2;   /* answered */
			return send_error(conn, 413, msg);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rc->too_large && rc->body.len + *upload_data_size > s->max_body)
			rc->too_large = 1;
		if (!rc->too_large && tp_buf_append(&rc->body, upload_data, *upload_data_size) < 0)
			rc->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rc->too_large == 2)
		return MHD_YES;
	if (rc->too_large) {
		char msg[128];
		snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->max_body);
		return send_error(conn, 413, msg);
	}
	enum tp_http_method m = tp_http_method_parse(method);
	if (!m)
		return send_error(conn, 405, "method not allowed");
	size_t pl = strlen(API_PREFIX);
	if (strncmp(url, API_PREFIX, pl) || (url[pl] != '/' && url[pl] != 0))
		return send_error(conn, 404, "no such path (the API is below /api2/json/)");
	char path[4096];
	snprintf(path, sizeof(path), "%s", url[pl] ? url + pl + 1 : "");
	size_t n = strlen(path);
	while (n && path[n - 1] == '/')
		path[--n] = 0;

	tp_err err = { 0 };
	char authid[TP_AUTHID_MAX + 1] = "";
	int a = authenticate(s, conn, m, authid, &err);
	if (a < 0)
		return send_error(conn, 401, err.msg[0] ? err.msg : "authentication failed");

	json_t *query = json_object(), *body = NULL;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, query);
	if (rc->body.len) {
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
			if (parse_form((char *)tp_buf_cstr(&rc->body), query) < 0) {
				json_decref(query);
				return send_error(conn, 400, "request body: malformed form data");
			}
		} else {
			body = tp_json_parse(rc->body.data, rc->body.len, "request body", &err);
			if (!body || !json_is_object(body)) {
				json_decref(query);
				json_decref(body);
				return send_error(conn, 400, body ? "request body: expected a JSON object"
								  : err.msg[0] ? err.msg : "request body: malformed JSON");
			}
		}
	}
	tp_api_request req = { m, path, a > 0 ? authid : NULL, query, body };
	json_t *resp = NULL;
	int status = tp_api_dispatch(&req, &resp);
	json_decref(query);
	json_decref(body);
	return send_json(conn, (unsigned)status, resp);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	req_ctx *rc = *con_cls;
	if (rc) {
		tp_buf_free(&rc->body);
		free(rc);
		*con_cls = NULL;
	}
}

/*
 * With a thread per connection glibc spreads allocations over up to 8
 * arenas per CPU, and memory freed in an arena stays mapped: after a burst
 * of requests RSS sits at its high-water mark (bench/api_load.sh saw 17 ->
 * 19 MB, level over repeated rounds: no leak, ASan/LSan find none).  When
 * the last connection closes the server is idle, so the free pages go back
 * to the kernel then.
 */
static void conn_notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			enum MHD_ConnectionNotificationCode code)
{
	(void)conn;
	(void)socket_ctx;
	tp_server *s = cls;
	int trim = 0;
	pthread_mutex_lock(&s->conn_mu);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		s->nconn++;
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED && s->nconn > 0 && --s->nconn == 0)
		trim = 1;
	pthread_mutex_unlock(&s->conn_mu);
	if (trim)
		malloc_trim(0);
}

/* ---- scheduler ---- */

static void *sched_main(void *p)
{
	tp_server *s = p;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		pthread_mutex_unlock(&s->mu);
		/* the first pass right away: a job missed while the server was down runs now, once */
		tp_api_scheduler_tick(tp_now());
		pthread_mutex_lock(&s->mu);
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += s->interval;
		while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &dl) == 0) {
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- life cycle ---- */

int tp_server_start(const tp_server_opts *o, tp_server **out, tp_err *err)
{
	*out = NULL;
	struct sockaddr_storage ss;
	unsigned slen;
	int loopback, r;
	const char *listen = o->listen ? o->listen : TP_SERVER_DEFAULT_LISTEN;
	if ((r = tp_server_parse_listen(listen, &ss, &slen, &loopback, err)) < 0)
		return r;
	if (o->no_tls && !loopback)
		return tp_err_set(err, -EINVAL, "--no-tls is only allowed on a loopback address, not %s", listen);
	tp_server *s = calloc(1, sizeof(*s));
	if (!s)
		return tp_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->tc_mu, NULL);
	pthread_mutex_init(&s->conn_mu, NULL);
	if (!(s->shadow_path = tp_config_path("token.shadow"))) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	s->max_body = o->max_body ? o->max_body : TP_SERVER_DEFAULT_MAX_BODY;
	s->interval = o->scheduler_interval ? o->scheduler_interval : 60;
	if ((r = tp_auth_key_load(s->ticket_key, err)) < 0)
		goto fail;
	if (!o->no_tls && (r = tp_tls_cert_ensure(&s->cert, &s->key, s->fp, &s->created, err)) < 0)
		goto fail;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (!o->no_tls)
		flags |= MHD_USE_TLS;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	tp_api_workers_reset();
	if (o->no_tls)
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s,
					MHD_OPTION_CONNECTION_TIMEOUT,
					(unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
	else
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_HTTPS_MEM_CERT, s->cert,
					MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s,
					MHD_OPTION_CONNECTION_TIMEOUT,
					(unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
	if (!s->d) {
		r = tp_err_set(err, -EADDRINUSE, "cannot listen on %s (address in use or not available%s)", listen,
			       o->no_tls ? "" : ", or the TLS key was refused");
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	if (o->scheduler_interval >= 0) {
		if (pthread_create(&s->sched, NULL, sched_main, s) != 0) {
			r = tp_err_set(err, -EAGAIN, "cannot start the scheduler thread");
			goto fail;
		}
		s->sched_started = 1;
	}
	*out = s;
	return 0;
fail:
	if (s->d)
		MHD_stop_daemon(s->d);
	free(s->cert);
	free(s->key);
	free(s->shadow_path);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->tc_mu);
	pthread_mutex_destroy(&s->conn_mu);
	free(s);
	return r;
}

const char *tp_server_fingerprint(const tp_server *s) { return s->cert ? s->fp : ""; }
int tp_server_cert_created(const tp_server *s) { return s->created; }
unsigned tp_server_port(const tp_server *s) { return s->port; }

size_t tp_server_stop(tp_server *s, int timeout_ms)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->sched_started)
		pthread_join(s->sched, NULL);
	MHD_stop_daemon(s->d);
	size_t left = tp_api_workers_shutdown(timeout_ms);
	free(s->cert);
	free(s->key);
	free(s->shadow_path);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->tc_mu);
	pthread_mutex_destroy(&s->conn_mu);
	free(s);
	return left;
}
