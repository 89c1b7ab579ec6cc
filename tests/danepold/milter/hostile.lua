-- tests/danepold/milter/hostile.lua - hostile recipient, sender and HELO strings:
-- each RCPT is answered (CONTINUE, or REPLYCODE for a defer), the filter
-- survives, and every audit line stays valid JSON (the runner checks the
-- schema; raw control bytes would break it).
dofile(os.getenv("MT_DIR") .. "/lib.lua")
T.run(function()
	local conn = T.start()
	local long = string.rep("a", T.MAXARG - 20) .. "@secure.example"
	local longdom = "u@" .. string.rep("abcdefghij.", 30) .. "example"
	local label64 = "u@" .. string.rep("x", 64) .. ".example"
	local hostile = {
		long, longdom, label64,
		"<a\1b@secure.example>", "<x@sec\rure.example>", "<x@secure.example\r\nRCPT TO:<y@evil.example>>",
		"<\27[31mred\27[0m@secure.example>", "<u@\27]0;title\7.example>", "<\127@\8.example>",
		"<a@secure.example", "a@secure.example>", "<<a@secure.example>>", "<[>", "<]>", "<a@[127.0.0.1>",
		"<a@127.0.0.1]>", "<a@[IPv6:::1>", "<a@[]>", "<a@[secure.example]>", "<a@[999.1.1.1]>",
		"@", "<@>", "<>", "", " ", "<@secure.example>", "<a@>", "<a@@secure.example>", "@@@",
		"<\"q\\\"x@y\"@secure.example>", "<\"unterminated@secure.example>", "<@r1,@r2:u@bogus.example>",
		"<@:u@secure.example>", "<u@bücher.example>", "<\255\254@x.example>", "<u@\255\254.example>",
		"<%s%n%x@secure.example>", "<u@%s%n.example>", "<u@100%.example>", "<u@secure.example:25>",
		"<u@-.example>", "<u@.example>", "<u@example.>", "<u@secure.example..>", "<u@*.example>",
		"<u@xn--.example>", "<u@xn--zz-zzzz.example>", "<u@localhost>", "<u@127.0.0.1>",
		"<u@" .. string.rep("%", 300) .. ">", "<u@" .. string.rep("\\", 100) .. ">",
	}
	-- hostile HELO and sender first: they go into the audit lines
	T.opt(mt.helo, conn, "\27[2J" .. string.rep("h", T.MAXARG - 10))
	T.want(T.mail(conn, "evil\1\r\n\"\\%s@client.mt.test", ""), SMFIR_CONTINUE, "hostile sender accepted by the milter")
	local bad = 0
	for i, r in ipairs(hostile) do
		local got = T.rcpt(conn, r)
		local okr = (got == SMFIR_CONTINUE or got == SMFIR_REPLYCODE)
		if not okr then bad = bad + 1 end
		T.check(okr, string.format("hostile rcpt #%d (%d bytes) answered CONTINUE/REPLYCODE (got %s)", i, #r, T.name(got)))
	end
	T.want(T.rcpt(conn, "<a@a..b>"), SMFIR_REPLYCODE, "a..b after the hostile ones: defer invalid-domain")
	T.want(T.rcpt(conn, "<u@secure.example:25>"), SMFIR_REPLYCODE, "a port in a recipient domain: invalid-domain, not a next hop")
	T.want(T.rcpt(conn, "<z@bogus.example>"), SMFIR_REPLYCODE, "filter alive: bogus.example still deferred")
	T.want(T.rcpt(conn, "<z@secure.example>"), SMFIR_CONTINUE, "filter alive: secure.example still accepted")
	T.want(T.eom(conn, "HOSTILEQID"), SMFIR_CONTINUE, "EOM")
	mt.disconnect(conn)
	mt.echo("expect rcpt " .. (#hostile + 4))
	mt.echo("expect message 1")
	mt.echo("expect qid HOSTILEQID")
end)
