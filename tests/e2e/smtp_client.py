#!/usr/bin/env python3
"""tests/e2e/smtp_client.py - a scripted SMTP client for the end-to-end tests.

  smtp_client.py PORT STEP...

Opens one SMTP session to 127.0.0.1:PORT and runs the steps in order, so a
test can interleave SMTP commands with signals to a daemon inside ONE open
session (what swaks cannot do). Steps (one argument each, words split on
spaces):
  ehlo NAME
  mail ADDR [ESMTP-PARAM...]      e.g. "mail a@b SMTPUTF8"
  rcpt ADDR                       prints "rcpt<TAB>ADDR<TAB>REPLY"
  data                            prints "queued<TAB>QID" (or "data<TAB>REPLY")
  rset | noop | quit
  signal PID SIG                  os.kill(PID, SIG), SIG a name like HUP
  poll ADDR CODE MS               new sessions (EHLO, MAIL poll@..., RCPT ADDR,
                                  QUIT) until RCPT ADDR's reply starts with
                                  CODE, at most MS milliseconds; prints
                                  "poll<TAB>N<TAB>REPLY" (N sessions used)
  waitfor PATH TEXT MS            until file PATH contains TEXT (bounded);
                                  prints "waitfor<TAB>ok|timeout"
REPLY is the last line of the server's reply, "CODE text" (enhanced code
included). Exit 0 when every step ran (replies are for the caller to
judge), 1 on a connection or usage error.
"""
import os
import signal
import smtplib
import sys
import time


def reply_line(code, msg):
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return "%d %s" % (code, text.split("\n")[-1])


def poll(port, addr, code, ms):
    t_end = time.monotonic() + ms / 1000.0
    n = 0
    last = ""
    while True:
        n += 1
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        s.ehlo("poll.e2e.test")
        s.mail("poll@client.e2e.test")
        last = reply_line(*s.rcpt(addr))
        s.quit()
        if last.startswith(code) or time.monotonic() >= t_end:
            return n, last
        time.sleep(0.05)


def waitfor(path, text, ms):
    t_end = time.monotonic() + ms / 1000.0
    while time.monotonic() < t_end:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    port = int(argv[1])
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    for step in argv[2:]:
        w = step.split(" ")
        op = w[0]
        if op == "ehlo":
            s.ehlo(w[1])
        elif op == "mail":
            print("mail\t%s" % reply_line(*s.mail(w[1], w[2:])))
        elif op == "rcpt":
            print("rcpt\t%s\t%s" % (w[1], reply_line(*s.rcpt(w[1]))))
        elif op == "data":
            code, msg = s.data(b"Subject: danepol e2e\r\n\r\ndanepol end-to-end test message\r\n")
            line = reply_line(code, msg)
            if "queued as " in line:
                print("queued\t%s" % line.split("queued as ")[1].split()[0])
            else:
                print("data\t%s" % line)
        elif op == "rset":
            s.rset()
        elif op == "noop":
            s.noop()
        elif op == "quit":
            s.quit()
        elif op == "signal":
            os.kill(int(w[1]), getattr(signal, "SIG" + w[2]))
        elif op == "poll":
            n, last = poll(port, w[1], w[2], int(w[3]))
            print("poll\t%d\t%s" % (n, last))
        elif op == "waitfor":
            print("waitfor\t%s" % ("ok" if waitfor(w[1], " ".join(w[2:-1]), int(w[-1])) else "timeout"))
        else:
            sys.stderr.write("smtp_client.py: unknown step %r\n" % step)
            return 1
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, smtplib.SMTPException) as e:
        print("error\t%s: %s" % (type(e).__name__, e))
        sys.exit(1)
