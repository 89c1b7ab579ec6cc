-- tests/danepol/sts_rcpt.lua - one milter session against danepold with
-- sts = yes (miltertest -s sts_rcpt.lua -D sock=inet:PORT@127.0.0.1), as
-- Postfix smtpd(8) sends it ({daemon_name}, {rcpt_mailer} smtp): a
-- recipient whose MTA-STS policy names none of the MX hosts is deferred
-- (SMFIR_REPLYCODE), one with an enforced policy that names them continues.
-- Prints "*** PASS" and exits 0, or prints the error and fails.
local ok, err = pcall(function()
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("mt.connect(" .. sock .. ") failed") end
	mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "mx.test", "j", "mx.test")
	assert(mt.conninfo(conn, "client.test", "192.0.2.7") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "connect")
	assert(mt.helo(conn, "client.test") == nil)
	assert(mt.mailfrom(conn, "<sender@client.test>") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail")
	local function rcpt(addr, want)
		mt.macro(conn, SMFIC_RCPT, "i", "QID1", "{rcpt_mailer}", "smtp")
		assert(mt.rcptto(conn, addr) == nil)
		local got = mt.getreply(conn)
		if got ~= want then
			error("RCPT " .. addr .. ": reply " .. tostring(got) .. ", want " .. tostring(want))
		end
	end
	rcpt("<a@stsok.example>", SMFIR_CONTINUE)
	rcpt("<b@stsmismatch.example>", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)
if not ok then
	mt.echo("FAIL: " .. tostring(err))
	os.exit(1)
end
mt.echo("*** PASS")
