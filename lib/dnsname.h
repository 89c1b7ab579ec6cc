/*
 * dnsname.h - domain names from outside, made safe and canonical.
 *
 * Canonical form used everywhere inside danepol: A-labels (IDNA2008 via
 * libidn2), lower case, no trailing dot, total length <= DNSNAME_MAX - 1
 * presentation characters, each label 1..63 octets. The root is "".
 * Callers own every buffer; nothing here allocates except where said.
 *
 * Not here: e-mail address parsing (the milter's job) or DNS lookups.
 */
#ifndef DANEPOL_DNSNAME_H
#define DANEPOL_DNSNAME_H

#include <stddef.h>
#include <stdint.h>

#define DNSNAME_MAX 254 /* 253 characters + NUL */

/**
 * Normalise a domain given by a user, a config file or an SMTP peer.
 * Accepts U-labels (UTF-8, converted to A-labels) and A-labels, any case,
 * one optional trailing dot. Labels must be LDH (letters, digits, hyphen,
 * not at either end); '_' is accepted only when allow_underscore is set
 * (TLSA owner names). Writes the canonical form into out (size >= DNSNAME_MAX).
 * Returns 0, or -1 with *why set to a static English reason
 * ("empty name", "label too long", "name too long", "invalid character",
 * "invalid IDN: ...").
 */
int dnsname_normalize(const char *in, int allow_underscore, char *out, const char **why);

/**
 * Decode an uncompressed wire-format name starting at rdata[*off] (rdata
 * has len octets) into canonical presentation form in out (>= DNSNAME_MAX).
 * Labels with bytes outside LDH/'_' are rejected (-1), as are compression
 * pointers, over-long names and truncation. On success *off points past
 * the name and 0 is returned; the root name decodes to "".
 */
int dnsname_from_wire(const uint8_t *rdata, size_t len, size_t *off, char *out);

/** Case-insensitive comparison ignoring one trailing dot: 1 if equal. */
int dnsname_equal(const char *a, const char *b);

/**
 * Is s an SMTP address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]")?
 * Returns 1 for a well-formed literal, 0 otherwise.
 */
int dnsname_is_address_literal(const char *s);

/** This machine's host name (gethostname()), or "localhost" when it has none. Caller frees. */
char *dnsname_host(void);

/**
 * Whether the IPv4 or IPv6 address in text is one of this network's or
 * this host's rather than the Internet's: unspecified, loopback, RFC 1918,
 * shared (100.64/10), link-local, unique local (fc00::/7), multicast,
 * reserved (240/4), or an IPv4-mapped one of those. 1 such, 0 a public
 * address, -1 not an address. Used to refuse fetches an outside party
 * chose (an OCSP URL in a certificate) to internal services.
 */
int dnsname_addr_internal(const char *text);

#endif
