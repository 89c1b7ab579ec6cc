-- tests/danepold/milter/nonsmtp.lua - Postfix non_smtpd_milters mail (sendmail(1),
-- pickup): {daemon_name} at connect but no {rcpt_mailer} at RCPT means
-- non-SMTP mail, which must never be tempfailed at RCPT (milter/milter.c);
-- the same connection with {rcpt_mailer} is SMTP and deferred.
dofile(os.getenv("MT_DIR") .. "/lib.lua")
T.run(function()
	local conn = T.start({ "{daemon_name}", "cleanup" })
	T.want(T.mail(conn, "ns1@client.mt.test", ""), SMFIR_CONTINUE, "non-SMTP: MAIL FROM")
	T.want(T.rcpt(conn, "<a@bogus.example>"), SMFIR_CONTINUE, "non-SMTP: bogus.example is not tempfailed")
	T.want(T.eom(conn, "NSQID"), SMFIR_CONTINUE, "non-SMTP: EOM")
	mt.disconnect(conn)
	local c2 = T.connect({ "{daemon_name}", "smtpd" })
	T.want(T.mail(c2, "ns2@client.mt.test", ""), SMFIR_CONTINUE, "smtpd: MAIL FROM")
	T.want(T.rcpt(c2, "<b@bogus.example>", { "{rcpt_mailer}", "smtp", "{rcpt_host}", "bogus.example" }),
		SMFIR_REPLYCODE, "smtpd ({rcpt_mailer} set): bogus.example deferred")
	mt.disconnect(c2)
	T.check(T.wait_audit("message", 2), "the second connection's message line is written after its disconnect")
	mt.echo("expect rcpt 2")
	mt.echo("expect message 2")
	mt.echo("expect qid NSQID")
end)
