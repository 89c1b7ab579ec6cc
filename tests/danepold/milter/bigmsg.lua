-- tests/danepold/milter/bigmsg.lua - one transaction of 20,000 recipients of about
-- 900 bytes each (danepol issue 11 item 5): every RCPT answered and its
-- own rcpt line written, the one message line bounded (store/audit.h:
-- AUDIT_MSG_RCPTS_MAX entries, AUDIT_MSG_RCPT_BYTES bytes) with the rest
-- counted in "recipients_omitted" (the runner checks the line with
-- "expect omitted SENDER N" and the line length bound), and danepold's
-- memory not growing with the recipient count. Prints danepold's VmRSS
-- and VmHWM before and after as "# " lines.
dofile(os.getenv("MT_DIR") .. "/lib.lua")

-- Memory of the danepold started for our config, in kB ({rss, hwm}).
local function mem()
	local p = io.popen("pgrep -f -- '-c " .. os.getenv("MT_CONF") .. "$'")
	local pid = p:read("*l")
	p:close()
	local r = {}
	local f = pid and io.open("/proc/" .. pid .. "/status")
	if not f then return nil end
	for l in f:lines() do
		local k, v = l:match("^(Vm%u%u%u?):%s+(%d+) kB")
		if k == "VmRSS" then r.rss = tonumber(v) elseif k == "VmHWM" then r.hwm = tonumber(v) end
	end
	f:close()
	return r
end

T.run(function()
	local conn = T.start()
	local n = 20000
	local pad = string.rep("x", T.MAXARG - 40)
	T.want(T.mail(conn, "big@client.mt.test", "BIGQID"), SMFIR_CONTINUE, "MAIL FROM")
	-- a first recipient warms the decision cache and the thread's arena
	T.want(T.rcpt(conn, "<w" .. pad .. "@secure.example>"), SMFIR_CONTINUE, "first recipient")
	local before = mem()
	local bad = 0
	for i = 2, n do
		if T.rcpt(conn, string.format("<%d%s@secure.example>", i, pad)) ~= SMFIR_CONTINUE then
			bad = bad + 1
		end
	end
	T.check(bad == 0, n .. " recipients of " .. (#pad + 25) .. " bytes answered (" .. bad .. " wrong)")
	T.want(T.eom(conn, "BIGQID"), SMFIR_CONTINUE, "EOM after " .. n .. " recipients")
	local after = mem()
	T.check(before ~= nil and after ~= nil, "danepold's memory readable in /proc")
	if before and after then
		mt.echo(string.format("# danepold VmRSS %d kB -> %d kB, VmHWM %d kB -> %d kB",
			before.rss, after.rss, before.hwm, after.hwm))
		-- the old unbounded list: about 60 MB more for these recipients.
		-- Under ASan (quarantine, shadow memory) the figure says nothing.
		if os.getenv("DANEPOL_SANITIZERS") == "yes" then
			mt.echo("# peak memory bound not checked: sanitizer build")
		else
			T.check(after.hwm - before.hwm < 16384, "peak memory grew by less than 16 MB (" ..
				(after.hwm - before.hwm) .. " kB)")
		end
	end
	mt.disconnect(conn)
	mt.echo("expect rcpt " .. n)
	mt.echo("expect message 1")
	mt.echo("expect qid BIGQID")
	mt.echo("expect omitted big@client.mt.test " .. n)
end)
