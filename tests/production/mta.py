"""A real MTA on loopback for the production-profile tests: a private Postfix instance (Debian's
package) that accepts mail only after STARTTLS and SASL authentication and delivers every
recipient of the agency's domain into one Maildir.

Postfix runs from its own configuration, queue and data folders under the test's folder; the
default instance is never started. Two things are system-wide because Postfix reads them there:
the folder is listed in `alternate_config_directories` of /etc/postfix/main.cf, and the SASL
user lives in /etc/sasldb2 (Cyrus's default database). Needs root (Postfix starts as root and
drops to the `postfix` user)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SASLDB = Path("/etc/sasldb2")


def available() -> str:
    """Why Postfix cannot run here, or '' when it can."""
    if os.geteuid() != 0:
        return "Postfix needs root"
    for tool in ("postfix", "postconf", "saslpasswd2", "openssl"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (scripts/production-test.sh installs postfix)"
    return ""


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=True, capture_output=True, text=True,
                          **kwargs)  # type: ignore[call-overload]


@dataclass
class Postfix:
    root: Path
    port: int
    maildir: Path
    domains: tuple[str, ...] = ("contoh.go.id",)
    username: str = "kinerja@kinerja.test"
    password: str = "rahasia-relay"

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def cert(self) -> Path:
        """The relay's certificate (self-signed, for 127.0.0.1 and localhost): the client's CA."""
        return self.conf / "cert.pem"

    @property
    def log(self) -> Path:
        return self.root / "maillog"

    def start(self) -> None:
        pw = pwd.getpwnam("postfix")
        for sub in ("conf", "queue", "data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chown(self.root / "data", pw.pw_uid, pw.pw_gid)
        # the Maildir belongs to postfix's user, which delivers into it; readers need only read
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        for folder in (self.maildir, *(self.maildir / sub for sub in ("new", "cur", "tmp"))):
            os.chown(folder, pw.pw_uid, pw.pw_gid)
        _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.conf / "key.pem"), "-out", str(self.cert),
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        master = []
        for line in Path("/etc/postfix/master.cf").read_text().splitlines():
            fields = line.split()
            if line[:1] not in ("", "#", " ", "\t") and len(fields) >= 8:
                fields[4] = "n"  # no chroot: the queue is not a chroot jail
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = f"127.0.0.1:{self.port}"
                line = " ".join(fields)
            master.append(line)
        (self.conf / "master.cf").write_text("\n".join(master) + "\n")
        realm = self.username.split("@", 1)[1]
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.root / 'queue'}
data_directory = {self.root / 'data'}
mail_owner = postfix
myhostname = mta.{realm}
mydomain = {realm}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file_prefixes = {self.root}
maillog_file = {self.log}
virtual_mailbox_domains = {', '.join(self.domains)}
virtual_mailbox_base = {self.maildir.parent}
virtual_mailbox_maps = static:{self.maildir.name}/
virtual_uid_maps = static:{pw.pw_uid}
virtual_gid_maps = static:{pw.pw_gid}
virtual_mailbox_limit = 0
virtual_destination_concurrency_limit = 20
smtpd_tls_cert_file = {self.cert}
smtpd_tls_key_file = {self.conf / 'key.pem'}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = {realm}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
message_size_limit = 20480000
""")
        _run("postconf", "-e", f"alternate_config_directories = {self.conf}")
        user, _, realm = self.username.partition("@")
        subprocess.run(["saslpasswd2", "-p", "-c", "-u", realm, user],
                       input=self.password, text=True, check=True, capture_output=True)
        os.chown(SASLDB, 0, pw.pw_gid)
        SASLDB.chmod(0o640)
        self._postfix("start")
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._listening():
                return
            time.sleep(0.2)
        raise RuntimeError(f"Postfix did not listen on {self.port}: {self.tail()}")

    def stop(self) -> None:
        self._postfix("stop")

    def start_again(self) -> None:
        """After `stop`: the same configuration, queue and Maildir."""
        self._postfix("start")
        self._wait_listening()

    def _postfix(self, command: str) -> None:
        # postfix-script reports only to a terminal or its log: read the log on failure
        proc = subprocess.run(["postfix", "-c", str(self.conf), command], capture_output=True,
                              text=True)
        if proc.returncode != 0 and command != "stop":
            raise RuntimeError(f"postfix {command} failed: {proc.stderr}{self.tail()}")

    def _listening(self) -> bool:
        import socket

        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def queued(self) -> int:
        """Messages still in Postfix's queue (incoming, active, deferred, hold)."""
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            folder = self.root / "queue" / sub
            if folder.exists():
                n += sum(len(files) for _, _, files in os.walk(folder))
        return n

    def tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def env(self) -> dict[str, str]:
        """Kinerja's SMTP settings for this relay: STARTTLS, authentication, its CA."""
        return {"KINERJA_SMTP_HOST": "127.0.0.1", "KINERJA_SMTP_PORT": str(self.port),
                "KINERJA_SMTP_STARTTLS": "true", "KINERJA_SMTP_USERNAME": self.username,
                "KINERJA_SMTP_PASSWORD": self.password, "KINERJA_SMTP_CA_FILE": str(self.cert),
                "KINERJA_SMTP_DEV_SERVER": "false"}
