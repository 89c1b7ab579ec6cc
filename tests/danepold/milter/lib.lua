-- tests/danepold/milter/lib.lua - helpers shared by the miltertest scripts
-- (loaded with dofile(os.getenv("MT_DIR") .. "/lib.lua")).
--
-- The runner (tests/danepold/miltertest.sh) sets MT_DANEPOLD (binary),
-- MT_CONF (a danepol.conf for the offline world) and MT_SOCKET (the
-- config's inet milter socket). Results are printed with mt.echo as
-- "ok - ..." / "not ok - ..." lines, "expect EVENT N" lines (audit log
-- line counts the runner checks) and a final "DONE" (so a script that
-- stopped early is noticed: this miltertest prints no Lua errors).

T = {}
-- miltertest defines no SMFIC_BODYEOB: the end-of-message command is 'E'.
T.SMFIC_BODYEOB = SMFIC_BODYEOB or string.byte("E")
-- miltertest aborts ("buffer overflow detected") on a command longer than
-- its fixed buffer: hostile strings stay below this many bytes.
T.MAXARG = 900

function T.check(cond, desc)
	if cond then mt.echo("ok - " .. desc) else mt.echo("not ok - " .. desc) end
end

-- T.start([macros]): launch danepold on the runner's config (miltertest stops it at
-- the end) and connect to it, retrying while it starts (bounded: 20 s).
function T.start(macros)
	local bin, conf, sock = os.getenv("MT_DANEPOLD"), os.getenv("MT_CONF"), os.getenv("MT_SOCKET")
	assert(bin and conf and sock, "MT_DANEPOLD, MT_CONF and MT_SOCKET must be set")
	mt.startfilter(bin, "-f", "-c", conf)
	return T.connect(macros)
end

-- T.connect([macros]): a new milter connection, with connect info and HELO
-- when the filter negotiated them. macros: extra connect-stage macros.
function T.connect(macros)
	local conn = mt.connect(os.getenv("MT_SOCKET"), 200, 0.1)
	assert(conn ~= nil, "mt.connect() failed")
	if macros then mt.macro(conn, SMFIC_CONNECT, table.unpack(macros)) end
	T.opt(mt.conninfo, conn, "localhost", "127.0.0.1")
	T.opt(mt.helo, conn, "client.mt.test")
	return conn
end

-- T.opt(f, ...): call a stage the filter may have negotiated away.
function T.opt(f, ...)
	local ok, err = pcall(f, ...)
	if not ok then mt.echo("# (skipped: " .. tostring(err) .. ")") end
end

-- T.mail(conn, sender, qid): MAIL FROM with the "i" macro; returns the reply.
function T.mail(conn, sender, qid)
	mt.macro(conn, SMFIC_MAIL, "i", qid or "", "{mail_addr}", sender)
	assert(mt.mailfrom(conn, "<" .. sender .. ">") == nil, "mt.mailfrom failed")
	return mt.getreply(conn)
end

-- T.rcpt(conn, arg, macros): RCPT TO with arg exactly as given; returns
-- the reply code (SMFIR_*).
function T.rcpt(conn, arg, macros)
	if macros then mt.macro(conn, SMFIC_RCPT, table.unpack(macros)) end
	assert(mt.rcptto(conn, arg) == nil, "mt.rcptto failed for " .. #arg .. " bytes")
	return mt.getreply(conn)
end

-- T.eom(conn, qid): DATA (when negotiated) and end of message.
function T.eom(conn, qid)
	T.opt(mt.data, conn)
	mt.macro(conn, T.SMFIC_BODYEOB, "i", qid or "")
	assert(mt.eom(conn) == nil, "mt.eom failed")
	return mt.getreply(conn)
end

T.names = {
	[SMFIR_CONTINUE] = "CONTINUE", [SMFIR_REPLYCODE] = "REPLYCODE", [SMFIR_TEMPFAIL] = "TEMPFAIL",
	[SMFIR_REJECT] = "REJECT", [SMFIR_ACCEPT] = "ACCEPT", [SMFIR_DISCARD] = "DISCARD",
}
function T.name(r) return T.names[r] or tostring(r) end

-- T.want(got, want, desc): one result line comparing reply codes.
function T.want(got, want, desc)
	T.check(got == want, desc .. " -> " .. T.name(want) .. (got == want and "" or (" (got " .. T.name(got) .. ")")))
end

-- T.run(body): run the script body; a Lua error becomes a "not ok" line.
-- T.wait_audit(event, n): wait (polling, at most 10 s) until danepold's
-- audit log (beside MT_CONF) holds n lines of event. A line written by
-- danepold's close callback after a disconnect may come just after the
-- script's last command, and miltertest stops the filter when the script
-- ends: a script ending on such a disconnect waits for it here.
function T.wait_audit(event, n)
	local path = os.getenv("MT_CONF"):gsub("[^/]*$", "") .. "audit.log"
	local pat = '"event":"' .. event .. '"'
	for _ = 1, 200 do
		local f, got = io.open(path), 0
		if f then
			for line in f:lines() do
				if line:find(pat, 1, true) then got = got + 1 end
			end
			f:close()
		end
		if got >= n then return true end
		mt.sleep(0.05)
	end
	return false
end

function T.run(body)
	local ok, err = pcall(body)
	if not ok then mt.echo("not ok - script error: " .. tostring(err)) end
	mt.echo("DONE")
end
