/*
 * test_sockspec.c - splitting inet:/inet6: socket specs: family, port,
 * host with and without '@', bracketed IPv6 hosts, and specs that are not
 * inet at all.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "sockspec.h"

static void
split(const char *spec, int want_family, const char *want_port, const char *want_host)
{
	char *port, *host;
	int family = -1;

	cr_assert_eq(sockspec_inet(spec, &family, &port, &host), 0, "%s", spec);
	cr_expect_eq(family, want_family, "%s", spec);
	cr_expect_str_eq(port, want_port, "%s", spec);
	if (want_host)
		cr_expect_str_eq(host, want_host, "%s", spec);
	else
		cr_expect_null(host, "%s", spec);
	free(port);
	free(host);
}

Test(sockspec, inet)
{
	split("inet:8891@127.0.0.1", AF_INET, "8891", "127.0.0.1");
	split("inet:8891", AF_INET, "8891", NULL);
	split("inet:8891@localhost", AF_INET, "8891", "localhost");
	split("inet:@", AF_INET, "", "");
}

Test(sockspec, inet6)
{
	split("inet6:8891@[::1]", AF_INET6, "8891", "::1");
	split("inet6:8891@::1", AF_INET6, "8891", "::1");
	split("inet6:8891", AF_INET6, "8891", NULL);
	split("inet6:1@[]", AF_INET6, "1", "");
	split("inet6:1@[", AF_INET6, "1", "[");
}

Test(sockspec, not_inet)
{
	char *port = (char *)"x", *host = (char *)"y";
	int family = 0;

	cr_expect_eq(sockspec_inet("unix:/run/danepol/milter.sock", &family, &port, &host), -1);
	cr_expect_null(port);
	cr_expect_null(host);
	cr_expect_eq(sockspec_inet("inet", &family, &port, &host), -1);
	cr_expect_eq(sockspec_inet("", &family, &port, &host), -1);
}
