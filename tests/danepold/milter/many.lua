-- tests/danepold/milter/many.lua - many recipients in one transaction, and many
-- transactions on one connection: every reply right, nothing lost.
dofile(os.getenv("MT_DIR") .. "/lib.lua")
T.run(function()
	local conn = T.start()
	local doms = { "secure.example", "bogus.example", "insecure.example", "nsec3.example", "expired.example" }
	local want = { SMFIR_CONTINUE, SMFIR_REPLYCODE, SMFIR_CONTINUE, SMFIR_CONTINUE, SMFIR_REPLYCODE }
	T.want(T.mail(conn, "many@client.mt.test", ""), SMFIR_CONTINUE, "MAIL FROM")
	local bad, n = 0, 250
	for i = 1, n do
		local k = (i % #doms) + 1
		local r = T.rcpt(conn, string.format("<u%d@%s>", i, doms[k]))
		if r ~= want[k] then
			bad = bad + 1
			if bad <= 5 then mt.echo("# rcpt " .. i .. " @" .. doms[k] .. ": " .. T.name(r)) end
		end
	end
	T.check(bad == 0, n .. " recipients in one transaction answered right (" .. bad .. " wrong)")
	T.want(T.eom(conn, "MANYQID"), SMFIR_CONTINUE, "EOM after " .. n .. " recipients")
	local tbad, m = 0, 40
	for i = 1, m do
		if T.mail(conn, "many" .. i .. "@client.mt.test", "") ~= SMFIR_CONTINUE then tbad = tbad + 1 end
		if T.rcpt(conn, "<x@bogus.example>") ~= SMFIR_REPLYCODE then tbad = tbad + 1 end
		if T.rcpt(conn, "<y@secure.example>") ~= SMFIR_CONTINUE then tbad = tbad + 1 end
		if i % 2 == 0 then
			if T.eom(conn, "") ~= SMFIR_CONTINUE then tbad = tbad + 1 end
		else
			assert(mt.abort(conn) == nil, "mt.abort failed")
		end
	end
	T.check(tbad == 0, m .. " transactions on one connection answered right (" .. tbad .. " wrong)")
	mt.disconnect(conn)
	mt.echo("expect rcpt " .. (n + 2 * m))
	mt.echo("expect message " .. (1 + m))
	mt.echo("expect qid MANYQID")
end)
