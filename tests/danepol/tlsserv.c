/*
 * tlsserv.c - a minimal SMTP STARTTLS server for tests/danepol/probe.sh:
 * what Postfix's smtpd cannot do (staple an OCSP response) and what no
 * well-behaved server does (hostile replies).
 *
 *   tlsserv -a ADDR -p PORT [-c CHAIN.pem -k KEY.pem] [-o OCSP.der] [-m MODE]
 *
 * Listens on ADDR:PORT (-p 0 picks a port), prints "PORT n" on stdout once
 * listening, serves one connection at a time until SIGTERM/SIGINT. Modes:
 *   normal      220 banner, EHLO offers STARTTLS, 220, TLS (CHAIN, KEY,
 *               the DER OCSP response of -o stapled when the client asks),
 *               then answers EHLO/QUIT inside TLS
 *   notls       EHLO without STARTTLS; QUIT answered
 *   refuse      STARTTLS offered, answered "454 4.7.0 TLS not available"
 *   longline    a banner line of 100000 octets without a line end
 *   nocrlf      "220 banner" without any line end, then silence
 *   garbage     binary garbage instead of a banner
 *   drip        the banner one octet every 200 ms (never finishes in time)
 *   tlsgarbage  a normal dialogue up to STARTTLS, then garbage instead of
 *               a TLS handshake
 *   badcode     a multi-line banner whose code changes between lines
 * Test code: plain stdio/OpenSSL, errors to stderr, exit 1 on set-up failure.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static volatile sig_atomic_t stop;
static unsigned char *ocsp_der;
static long ocsp_len;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Read one line (up to '\n') from fd into line[size]; length, or -1. */
static int
get_line(int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			line[n++] = c;
	}
	line[n] = 0;
	return (int)n;
}

static int
status_cb(SSL *ssl, void *arg)
{
	unsigned char *copy;

	(void)arg;
	if (ocsp_der == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if ((copy = OPENSSL_malloc((size_t)ocsp_len)) == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	memcpy(copy, ocsp_der, (size_t)ocsp_len);
	SSL_set_tlsext_status_ocsp_resp(ssl, copy, ocsp_len);
	return SSL_TLSEXT_ERR_OK;
}

static void
tls_part(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	char buf[1024];
	int n;

	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		goto out;
	}
	while ((n = SSL_read(ssl, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		if (strncasecmp(buf, "QUIT", 4) == 0) {
			SSL_write(ssl, "221 2.0.0 bye\r\n", 15);
			break;
		}
		SSL_write(ssl, "250 tlsserv.test\r\n", 18);
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
}

/* The plaintext dialogue of mode; returns 1 when TLS should start. */
static int
dialogue(int fd, const char *mode)
{
	char line[1024];

	put(fd, "220 tlsserv.test ESMTP\r\n");
	while (get_line(fd, line, sizeof(line)) >= 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			put(fd, "250-tlsserv.test\r\n250-PIPELINING\r\n");
			put(fd, strcmp(mode, "notls") == 0 ? "250 8BITMIME\r\n" : "250 STARTTLS\r\n");
		} else if (strncasecmp(line, "STARTTLS", 8) == 0) {
			if (strcmp(mode, "refuse") == 0 || strcmp(mode, "notls") == 0) {
				put(fd, "454 4.7.0 TLS not available\r\n");
				continue;
			}
			put(fd, "220 2.0.0 go ahead\r\n");
			return 1;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			put(fd, "221 2.0.0 bye\r\n");
			return 0;
		} else {
			put(fd, "502 5.5.2 no\r\n");
		}
	}
	return 0;
}

/* Wait until the client closes (bounded by 30 s). */
static void
drain(int fd)
{
	struct timeval tv = { 30, 0 };
	char c[256];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!stop && read(fd, c, sizeof(c)) > 0)
		;
}

static void
serve(SSL_CTX *ctx, int fd, const char *mode)
{
	if (strcmp(mode, "longline") == 0) {
		char *s = malloc(100001);

		memset(s, 'x', 100000);
		memcpy(s, "220 ", 4);
		s[100000] = 0;
		put(fd, s);
		free(s);
		drain(fd);
	} else if (strcmp(mode, "nocrlf") == 0) {
		put(fd, "220 tlsserv.test no line end");
		drain(fd);
	} else if (strcmp(mode, "garbage") == 0) {
		put(fd, "\x16\x03\x01\xff\xfe garbage \x01\x02\r\n\x80\x81\r\n");
		drain(fd);
	} else if (strcmp(mode, "badcode") == 0) {
		put(fd, "220-tlsserv.test\r\n250 changed\r\n");
		drain(fd);
	} else if (strcmp(mode, "drip") == 0) {
		const char *b = "220 tlsserv.test a very slow banner indeed\r\n";
		struct timespec ts = { 0, 200 * 1000000L };

		for (; *b && !stop; b++) {
			if (write(fd, b, 1) != 1)
				break;
			nanosleep(&ts, NULL);
		}
	} else if (dialogue(fd, mode)) {
		if (strcmp(mode, "tlsgarbage") == 0) {
			put(fd, "this is not a TLS server hello\r\n\x01\x02\x03");
			drain(fd);
		} else {
			tls_part(ctx, fd);
		}
	}
}

static SSL_CTX *
make_ctx(const char *chain, const char *key, const char *ocsp)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	FILE *fp;

	if (ctx == NULL)
		return NULL;
	if (chain && (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
		ERR_print_errors_fp(stderr);
		return NULL;
	}
	if (ocsp) {
		if ((fp = fopen(ocsp, "rb")) == NULL) {
			perror(ocsp);
			return NULL;
		}
		ocsp_der = malloc(65536);
		ocsp_len = (long)fread(ocsp_der, 1, 65536, fp);
		fclose(fp);
	}
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	return ctx;
}

static int
listen_on(const char *addr, unsigned port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		perror("bind/listen");
		return -1;
	}
	printf("PORT %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *chain = NULL, *key = NULL, *ocsp = NULL, *mode = "normal";
	struct sigaction sa;
	unsigned port = 0;
	SSL_CTX *ctx;
	int ch, lfd;

	while ((ch = getopt(argc, argv, "a:p:c:k:o:m:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case 'o': ocsp = optarg; break;
		case 'm': mode = optarg; break;
		default:
			fprintf(stderr, "usage: tlsserv -a ADDR -p PORT [-c CHAIN -k KEY] [-o OCSP.der] [-m MODE]\n");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = make_ctx(chain, key, ocsp)) == NULL || (lfd = listen_on(addr, port)) < 0)
		return 1;
	while (!stop) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		serve(ctx, fd, mode);
		close(fd);
	}
	close(lfd);
	SSL_CTX_free(ctx);
	free(ocsp_der);
	return 0;
}
