-- tests/danepold/rcpt.lua - one milter session against a running danepold
-- (miltertest -s rcpt.lua -D sock=inet:PORT@127.0.0.1 -D mode=smtp|nonsmtp).
--
-- mode=smtp: a session as Postfix smtpd(8) sends it ({daemon_name} at
-- connect, {rcpt_mailer} at RCPT): secure.example continues,
-- bogus.example is deferred (SMFIR_REPLYCODE: setreply + TEMPFAIL),
-- nullmx.example continues (the MTA bounces it), a local part and an
-- address literal continue, then RSET (abort) and a second transaction
-- that ends at EOM.
-- mode=nonsmtp: as Postfix cleanup(8) for sendmail(1) mail ({daemon_name}
-- but no {rcpt_mailer}): bogus.example must NOT be deferred.
-- mode=plain: no Postfix macros at all (like a bare miltertest).
-- Prints "*** PASS" and exits 0, or prints the error and fails.
local ok, err = pcall(function()
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("mt.connect(" .. sock .. ") failed") end
	local postfix = (mode ~= "plain")
	if postfix then
		mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "mx.test", "j", "mx.test")
	end
	assert(mt.conninfo(conn, "client.test", "192.0.2.7") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "connect")
	assert(mt.helo(conn, "client.test") == nil)
	mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
	assert(mt.mailfrom(conn, "<sender@probe.test>") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail")

	local function rcpt(addr, want, qid)
		local mailer = (mode == "smtp") and "smtp" or nil
		if mailer then
			mt.macro(conn, SMFIC_RCPT, "i", qid or "", "{rcpt_mailer}", mailer)
		elseif qid then
			mt.macro(conn, SMFIC_RCPT, "i", qid)
		end
		assert(mt.rcptto(conn, addr) == nil)
		local got = mt.getreply(conn)
		if got ~= want then
			error("RCPT " .. addr .. ": reply " .. tostring(got) .. ", want " .. tostring(want))
		end
	end

	local defer = (mode == "nonsmtp") and SMFIR_CONTINUE or SMFIR_REPLYCODE
	rcpt("<alice@secure.example>", SMFIR_CONTINUE)
	rcpt("<bob@bogus.example>", defer, "QID1")
	rcpt("<carol@nullmx.example>", SMFIR_CONTINUE, "QID1")
	rcpt("<postmaster>", SMFIR_CONTINUE, "QID1")
	rcpt("<dave@[192.0.2.1]>", SMFIR_CONTINUE, "QID1")
	assert(mt.abort(conn) == nil)

	-- second transaction: to EOM
	assert(mt.mailfrom(conn, "<>") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail 2")
	rcpt("<erin@secure.example>", SMFIR_CONTINUE, "QID2")
	assert(mt.eom(conn) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "eom")

	-- third transaction: every recipient deferred, connection closes
	if mode == "smtp" then
		assert(mt.mailfrom(conn, "<sender@probe.test>") == nil)
		assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail 3")
		rcpt("<frank@expired.example>", SMFIR_REPLYCODE)
	end
	mt.disconnect(conn)
end)
if not ok then
	mt.echo("FAIL: " .. tostring(err))
	os.exit(1)
end
mt.echo("*** PASS")
