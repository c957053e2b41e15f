#!/usr/bin/env python3
"""A tiny Docker token-auth issuer for ferry's system tests.

Implements the registry token protocol that Distribution's `auth: token`
expects: GET /token (Basic auth or anonymous, optional offline_token=true)
and a minimal OAuth2 POST /token (password and refresh_token grants).
Tokens are ES256 JWTs carrying the signing certificate in `x5c`, which
Distribution verifies against its rootcertbundle.

The standard library has no ECDSA, so signing shells out to
`openssl dgst -sign`; its DER signature is converted to the raw R||S form
that JWS wants.

Every request is appended to --log as one JSON line (method, path, query,
kind of Authorization, authenticated user, scopes asked for and granted,
status) so tests can assert on what the client asked for. Secrets
(passwords, refresh tokens, the Authorization value) are never logged.

    token_issuer.py --key KEY.pem --cert CERT.pem --log LOG --port-file FILE
        [--service NAME] [--issuer NAME] [--expires SECONDS]
        [--user NAME:PASS:ACTIONS[:REPO_GLOB]]... [--users-file FILE]
        [--anonymous-pull]

ACTIONS is a comma list (pull, push, delete, catalog, or * for all);
REPO_GLOB (fnmatch, default *) limits the rule to matching repositories.
A user may have several rules. The users file holds the same specs, one
per line (# comments allowed).
"""

import argparse
import base64
import binascii
import datetime
import fnmatch
import hashlib
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def der_read(buf, pos, want_tag):
    """Reads one DER TLV at pos; returns (value, next_pos)."""
    if pos + 2 > len(buf) or buf[pos] != want_tag:
        raise ValueError("unexpected DER tag at %d" % pos)
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 2 or pos + n > len(buf):
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("truncated DER value")
    return buf[pos:pos + length], pos + length


def ecdsa_der_to_raw(sig, size=32):
    """DER SEQUENCE{INTEGER r, INTEGER s} -> fixed-width r||s (JWS ES256)."""
    seq, end = der_read(sig, 0, 0x30)
    if end != len(sig):
        raise ValueError("trailing bytes after ECDSA signature")
    r, pos = der_read(seq, 0, 0x02)
    s, pos = der_read(seq, pos, 0x02)
    if pos != len(seq):
        raise ValueError("trailing bytes inside ECDSA signature")
    out = b""
    for n in (r, s):
        n = n.lstrip(b"\x00")
        if len(n) > size:
            raise ValueError("ECDSA integer too large")
        out += n.rjust(size, b"\x00")
    return out


def libtrust_key_id(spki_der):
    """libtrust's key ID: base32 of the first 240 bits of SHA-256(SPKI),
    in groups of four joined by ':' (what Distribution matches `kid` to)."""
    digest = hashlib.sha256(spki_der).digest()[:30]
    enc = base64.b32encode(digest).decode("ascii").rstrip("=")
    return ":".join(enc[i:i + 4] for i in range(0, len(enc), 4))


def pem_body_der(pem_text, label):
    begin = "-----BEGIN %s-----" % label
    end = "-----END %s-----" % label
    start = pem_text.index(begin) + len(begin)
    stop = pem_text.index(end, start)
    return base64.b64decode("".join(pem_text[start:stop].split()))


class Signer:
    def __init__(self, key_path, cert_path):
        self.key_path = key_path
        with open(cert_path) as f:
            cert_der = pem_body_der(f.read(), "CERTIFICATE")
        spki = subprocess.run(
            ["openssl", "pkey", "-in", key_path, "-pubout", "-outform", "DER"],
            check=True, capture_output=True).stdout
        self.header = {
            "typ": "JWT",
            "alg": "ES256",
            "kid": libtrust_key_id(spki),
            "x5c": [base64.b64encode(cert_der).decode("ascii")],
        }

    def sign(self, claims):
        signing_input = (b64url(json.dumps(self.header, separators=(",", ":")).encode())
                         + "." + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        der = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key_path],
            input=signing_input.encode(), check=True, capture_output=True).stdout
        return signing_input + "." + b64url(ecdsa_der_to_raw(der))


def parse_user_spec(spec):
    parts = spec.split(":")
    if len(parts) not in (3, 4) or not parts[0]:
        raise ValueError("user spec %r is not NAME:PASS:ACTIONS[:REPO_GLOB]" % spec)
    actions = {a for a in parts[2].split(",") if a}
    glob = parts[3] if len(parts) == 4 and parts[3] else "*"
    return parts[0], parts[1], (glob, actions)


def parse_scope(scope):
    """'repository:a/b:pull,push' -> (type, name, [actions]); the name may
    itself contain ':' (e.g. a host:port prefix), so split at both ends."""
    first = scope.find(":")
    last = scope.rfind(":")
    if first <= 0 or last == first:
        return None
    actions = [a for a in scope[last + 1:].split(",") if a]
    return scope[:first], scope[first + 1:last], actions


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Issuer:
    def __init__(self, args):
        self.signer = Signer(args.key, args.cert)
        self.service = args.service
        self.issuer = args.issuer
        self.expires = args.expires
        self.anonymous_pull = args.anonymous_pull
        self.users = {}   # name -> (password, [(glob, actions)])
        specs = list(args.user or [])
        if args.users_file:
            with open(args.users_file) as f:
                specs += [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for spec in specs:
            name, password, rule = parse_user_spec(spec)
            known = self.users.setdefault(name, (password, []))
            known[1].append(rule)
        self.refresh_tokens = {}  # token -> user name
        self.lock = threading.Lock()
        self.log_file = open(args.log, "a", buffering=1)

    def log(self, record):
        with self.lock:
            self.log_file.write(json.dumps(record, sort_keys=True) + "\n")

    def check_password(self, name, password):
        known = self.users.get(name)
        return known is not None and secrets.compare_digest(
            known[0].encode("utf-8", "surrogateescape"), password.encode("utf-8", "surrogateescape"))

    def allowed(self, user, rtype, name, actions):
        """The subset of actions that user (None: anonymous) may perform."""
        if user is None:
            rules = [("*", {"pull"})] if self.anonymous_pull else []
        else:
            rules = self.users[user][1]
        granted = []
        for action in actions:
            for glob, acts in rules:
                if rtype == "repository" and fnmatch.fnmatchcase(name, glob) and (
                        action in acts or "*" in acts):
                    granted.append(action)
                    break
                if rtype == "registry" and name == "catalog" and (
                        "catalog" in acts or "*" in acts):
                    granted.append(action)
                    break
        return granted

    def grant(self, user, scopes):
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            rtype, name, actions = parsed
            # Strip a resource class ("repository(plugin)") for matching,
            # but echo the type back as asked.
            base_type = rtype.split("(", 1)[0]
            acts = self.allowed(user, base_type, name, actions)
            access.append({"type": rtype, "name": name, "actions": acts})
        return access

    def token(self, user, access):
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + self.expires,
            "nbf": now - 5,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        return self.signer.sign(claims), now

    def new_refresh_token(self, user):
        tok = secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[tok] = user
        return tok


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "ferry-token-issuer/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass  # requests go to the JSON log instead

    @property
    def issuer(self):
        return self.server.issuer

    def send_json(self, status, body, extra_headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def basic_credentials(self):
        """-> (kind, user, password); kind is none/basic/bearer/other/invalid."""
        header = self.headers.get("Authorization")
        if not header:
            return "none", None, None
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme != "basic":
            return (scheme if scheme == "bearer" else "other"), None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "invalid", None, None
        user, sep, password = decoded.partition(":")
        if not sep:
            return "invalid", None, None
        return "basic", user, password

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        record = {"method": "GET", "path": url.path,
                  "query": {k: v for k, v in query.items() if k != "refresh_token"}}
        if url.path in ("/", "/healthz"):
            record["status"] = 200
            self.send_json(200, {"ok": True})
            return
        if url.path != "/token":
            record["status"] = 404
            self.issuer.log(record)
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        kind, user, password = self.basic_credentials()
        record["auth"] = kind
        if kind == "invalid":
            return self.unauthorized(record, "malformed Basic credentials")
        if kind not in ("none", "basic"):
            return self.unauthorized(record, "unsupported Authorization scheme")
        if kind == "basic":
            if not self.issuer.check_password(user, password):
                record["user"] = user
                return self.unauthorized(record, "invalid username or password")
        record["user"] = user
        scopes = []
        for s in query.get("scope", []):
            scopes += s.split()
        record["scopes"] = scopes
        access = self.issuer.grant(user, scopes)
        record["granted"] = access
        tok, now = self.issuer.token(user, access)
        body = {"token": tok, "access_token": tok, "expires_in": self.issuer.expires,
                "issued_at": rfc3339(now)}
        if user is not None and query.get("offline_token", [""])[0] == "true":
            body["refresh_token"] = self.issuer.new_refresh_token(user)
            record["refresh_token_issued"] = True
        record["status"] = 200
        self.issuer.log(record)
        self.send_json(200, body)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        record = {"method": "POST", "path": url.path}
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > 65536:
            status = 400 if length < 0 else 413
            record["status"] = status
            self.issuer.log(record)
            self.send_json(status, {"error": "invalid_request"}, [("Connection", "close")])
            self.close_connection = True
            return
        raw = self.rfile.read(length).decode("utf-8", "replace")
        if url.path != "/token":
            record["status"] = 404
            self.issuer.log(record)
            self.send_json(404, {"error": "not_found"})
            return
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
        record["form"] = {k: ("<redacted>" if k in ("password", "refresh_token") else v)
                          for k, v in form.items()}
        record["auth"] = "form"
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            user = form.get("username", "")
            if not self.issuer.check_password(user, form.get("password", "")):
                record["user"] = user
                return self.oauth_error(record, 401, "invalid_grant")
        elif grant_type == "refresh_token":
            with self.issuer.lock:
                user = self.issuer.refresh_tokens.get(form.get("refresh_token", ""))
            if user is None:
                return self.oauth_error(record, 401, "invalid_grant")
        else:
            return self.oauth_error(record, 400, "unsupported_grant_type")
        record["user"] = user
        scopes = form.get("scope", "").split()
        record["scopes"] = scopes
        access = self.issuer.grant(user, scopes)
        record["granted"] = access
        tok, now = self.issuer.token(user, access)
        body = {"access_token": tok, "token_type": "Bearer", "scope": " ".join(scopes),
                "expires_in": self.issuer.expires, "issued_at": rfc3339(now)}
        if grant_type == "refresh_token":
            body["refresh_token"] = form["refresh_token"]
        elif form.get("access_type") == "offline":
            body["refresh_token"] = self.issuer.new_refresh_token(user)
            record["refresh_token_issued"] = True
        record["status"] = 200
        self.issuer.log(record)
        self.send_json(200, body)

    def unauthorized(self, record, message):
        record["status"] = 401
        self.issuer.log(record)
        self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                       [("WWW-Authenticate", 'Basic realm="ferry-test-issuer"')])

    def oauth_error(self, record, status, error):
        record["status"] = status
        self.issuer.log(record)
        self.send_json(status, {"error": error})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", help="written (atomically) once listening")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--service", default="ferry-test-registry")
    p.add_argument("--issuer", default="ferry-test-issuer")
    p.add_argument("--expires", type=int, default=300)
    p.add_argument("--user", action="append")
    p.add_argument("--users-file")
    p.add_argument("--anonymous-pull", action="store_true")
    args = p.parse_args()

    try:
        issuer = Issuer(args)
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        print("token_issuer: %s" % e, file=sys.stderr)
        return 2
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.issuer = issuer
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
