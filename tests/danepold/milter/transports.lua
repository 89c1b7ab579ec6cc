-- tests/danepold/milter/transports.lua - which recipients danepold judges, by
-- Postfix's {rcpt_mailer} (transport) and {rcpt_host} (next hop), with
-- the defaults use_rcpt_host = yes and milter_smtp_transports = smtp plus
-- one custom SMTP transport (danepol issue 11 item 2, milter/milter.c).
-- The operator's own domains (local, virtual, relay, pipe, lmtp, error,
-- discard transports) are never deferred, even when their zone is bogus;
-- SMTP transports are decided on the next hop in each form Postfix writes.
-- conf: # use_rcpt_host: the default (yes), see tests/e2e/lib.sh
-- conf: milter_smtp_transports = smtp, smtp-out
dofile(os.getenv("MT_DIR") .. "/lib.lua")
T.run(function()
	local conn = T.start({ "{daemon_name}", "smtpd" })
	local n = 0
	local function case(rcpt, mailer, host, want, desc)
		local m = { "{rcpt_mailer}", mailer }
		if host then m = { "{rcpt_mailer}", mailer, "{rcpt_host}", host } end
		T.want(T.rcpt(conn, rcpt, m), want, desc)
		n = n + 1
	end
	T.want(T.mail(conn, "tr@client.mt.test", ""), SMFIR_CONTINUE, "MAIL FROM")
	-- the operator's own domains, zones bogus or expired: accepted
	case("<a@bogus.example>", "local", "bogus.example", SMFIR_CONTINUE, "local (mydestination), bogus zone: accepted")
	case("<b@expired.example>", "virtual", "expired.example", SMFIR_CONTINUE, "virtual, expired zone: accepted")
	case("<c@bogus.example>", "relay", "[127.0.0.1]:2525", SMFIR_CONTINUE, "relay (relay_domains): accepted")
	case("<d@bogus.example>", "relay", "bogus.example", SMFIR_CONTINUE, "relay with MX next hop: accepted")
	case("<e@expired.example>", "dovecot", "expired.example", SMFIR_CONTINUE, "pipe service dovecot: accepted")
	case("<f@bogus.example>", "lmtp", "unix:private/dovecot-lmtp", SMFIR_CONTINUE, "lmtp unix socket: accepted")
	case("<g@bogus.example>", "lmtp", "inet:mx1.bogus.example:24", SMFIR_CONTINUE, "lmtp inet: accepted")
	case("<h@bogus.example>", "error", "bogus.example", SMFIR_CONTINUE, "error transport: accepted (Postfix bounces)")
	case("<i@bogus.example>", "discard", "bogus.example", SMFIR_CONTINUE, "discard transport: accepted")
	case("<j@bogus.example>", "retry", "bogus.example", SMFIR_CONTINUE, "retry transport: accepted")
	case("<jj@bogus.example>", string.rep("t", 300), "bogus.example", SMFIR_CONTINUE,
		"300-byte transport name: accepted (audited as \"(too long)\", schema maxLength 255)")
	-- SMTP transports: the next hop decides
	case("<k@bogus.example>", "smtp", "bogus.example", SMFIR_REPLYCODE, "smtp, next hop bogus.example: deferred")
	case("<l@expired.example>", "smtp-out", "expired.example", SMFIR_REPLYCODE, "custom smtp-out in the list: deferred")
	case("<m@implicit.example>", "smtp", "[mx1.tampered.example]", SMFIR_REPLYCODE,
		"smtp:[host] (no MX lookup), host's address bogus: deferred")
	case("<n@secure.example>", "smtp", "[mx1.tampered.example]:587", SMFIR_REPLYCODE, "smtp:[host]:port, bogus host: deferred")
	case("<o@bogus.example>", "smtp", "[127.0.0.1]:2525", SMFIR_CONTINUE,
		"relayhost = [127.0.0.1]:2525 (address literal, no DANE): accepted")
	case("<p@bogus.example>", "smtp", "[mx1.secure.example]", SMFIR_CONTINUE, "relayhost = [mx1.secure.example] (DANE host): accepted")
	case("<q@secure.example>", "smtp", "expired.example:587", SMFIR_REPLYCODE, "smtp:domain:port (MX lookup), expired: deferred")
	case("<r@bogus.example>", "smtp", "secure.example:26", SMFIR_CONTINUE, "smtp:domain:port, secure domain: accepted")
	case("<s@secure.example>", "smtp", "inet:[mx1.tampered.example]:25", SMFIR_REPLYCODE, "inet: prefix removed: deferred")
	case("<t@secure.example>", "smtp", "unix:/run/x.sock", SMFIR_CONTINUE, "unix-domain next hop: accepted")
	case("<u@bogus.example>", "smtp", nil, SMFIR_REPLYCODE, "smtp without {rcpt_host}: the domain, deferred")
	case("<v@secure.example>", "smtp", "secure.example", SMFIR_CONTINUE, "smtp, secure.example: accepted")
	mt.disconnect(conn)
	-- another MTA (no {daemon_name}, no {rcpt_mailer}): the recipient's domain
	local c2 = T.connect()
	T.want(T.mail(c2, "tr2@client.mt.test", ""), SMFIR_CONTINUE, "no macros: MAIL FROM")
	T.want(T.rcpt(c2, "<w@bogus.example>"), SMFIR_REPLYCODE, "no macros: bogus.example deferred")
	T.want(T.rcpt(c2, "<x@secure.example>"), SMFIR_CONTINUE, "no macros: secure.example accepted")
	mt.disconnect(c2)
	mt.echo("expect rcpt " .. (n + 2))
	mt.echo("expect message 2")
end)
