#!/usr/bin/env python3
"""Archive-heavy synthetic history for bench/synth-archives.sh (python3
stdlib only, no network).

`synth-archives.py COMMITS SEED MANIFEST` writes a `git fast-import` stream
on stdout: a history where most commits add a new version of an archive or
compressed file, the way backups, build outputs and dumps pile up in a
repository: zip backups of a config directory, jar-like zips of many small
binary classes and a properties file, `.tar.gz` config bundles, `.sql.gz`
dumps, `.docx` runbooks, `.log.bz2` and `.json.xz` exports, a zip inside a
zip; plus ordinary text edits. Secrets are planted inside archives (one
commit in 23) at known commits; each planted row goes to MANIFEST as

    secret <TAB> path <TAB> inner path (`!`-joined) <TAB> commit mark

with the commit as a fast-import mark (`:N`); synth-archives.sh resolves
marks to commit ids. Everything is derived from SEED: same arguments, same
stream. Keys are random values of the right shape made here at run time.
"""

import bz2
import gzip
import io
import lzma
import random
import sys
import tarfile
import zipfile

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DATE = 1700000000
# Fixed timestamps inside archives: the same seed gives the same bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def anthropic_key(rng):
    return "sk-ant-api" + "03-" + "".join(rng.choice(URLSAFE) for _ in range(93)) + "AA"


def text_lines(rng, n, width=60):
    words = ["alpha", "beta", "gamma", "delta", "config", "value", "retry",
             "timeout", "region", "bucket", "replica", "cache", "user", "order"]
    return "".join(
        " ".join(rng.choice(words) for _ in range(width // 7)) + f" {rng.randrange(10**6)}\n"
        for _ in range(n)
    )


def zip_bytes(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def tar_gz_bytes(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = DATE
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class History:
    def __init__(self, seed, manifest):
        self.rng = random.Random(seed)
        self.mark = 0
        self.manifest = manifest
        self.out = sys.stdout.buffer

    def blob(self, data):
        self.mark += 1
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (self.mark, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        return self.mark

    def commit(self, n, message, changes, planted=()):
        marks = [(path, None if data is None else self.blob(data)) for path, data in changes]
        self.mark += 1
        commit = self.mark
        who = b"Bench <bench@example.com> %d +0000" % (DATE + n * 60)
        msg = message.encode()
        self.out.write(b"commit refs/heads/main\nmark :%d\n" % commit)
        self.out.write(b"author " + who + b"\ncommitter " + who + b"\n")
        self.out.write(b"data %d\n%s\n" % (len(msg), msg))
        for path, mark in marks:
            if mark is None:
                self.out.write(b"D %s\n" % path.encode())
            else:
                self.out.write(b"M 100644 :%d %s\n" % (mark, path.encode()))
        self.out.write(b"\n")
        for secret, path, inner in planted:
            self.manifest.write(f"{secret}\t{path}\t{inner}\t:{commit}\n")


def main():
    commits, seed, manifest_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(manifest_path, "w") as manifest:
        h = History(seed, manifest)
        rng = h.rng
        h.commit(0, "initial import", [
            ("README.md", b"# archives everywhere\n"),
            ("src/app.py", text_lines(rng, 200).encode()),
        ])
        classes = [(f"com/example/C{i}.class", bytes(rng.randrange(256) for _ in range(600)))
                   for i in range(300)]
        for n in range(1, commits):
            kind = n % 10
            planted = []
            # One commit in 23 hides a key somewhere inside what it adds
            # (23 and 10 are coprime: every kind gets some).
            plant = n % 23 == 0
            key = anthropic_key(rng) if plant else None
            secret_line = f"ANTHROPIC_API_KEY={key}\n" if plant else ""
            if kind == 0:
                path = f"backups/env-backup-{n}.zip"
                files = [(f"config/{name}.conf", text_lines(rng, 40).encode())
                         for name in ("app", "db", "cache", "queue")]
                files.append(("config/.env", ("DEBUG=false\n" + secret_line).encode()))
                changes = [(path, zip_bytes(files))]
                if plant:
                    planted.append((key, path, "config/.env"))
            elif kind == 1:
                path = f"dist/app-1.{n}.jar"
                props = "app.name=demo\n" + secret_line
                files = classes[: 100 + n % 200] + [("META-INF/app.properties", props.encode())]
                changes = [(path, zip_bytes(files))]
                if plant:
                    planted.append((key, path, "META-INF/app.properties"))
            elif kind == 2:
                path = f"releases/config-{n}.tar.gz"
                files = [(f"etc/svc{i}.yaml", text_lines(rng, 30).encode()) for i in range(8)]
                files.append(("etc/secrets.yaml", ("token: none\n" + secret_line).encode()))
                changes = [(path, tar_gz_bytes(files))]
                if plant:
                    planted.append((key, path, "etc/secrets.yaml"))
            elif kind == 3:
                path = f"db/dump-{n}.sql.gz"
                body = text_lines(rng, 1000) + (f"insert into keys values ('{key}');\n" if plant else "")
                changes = [(path, gzip.compress(body.encode(), mtime=0))]
                if plant:
                    planted.append((key, path, f"dump-{n}.sql"))
            elif kind == 4:
                path = "docs/runbook.docx"
                body = "<w:document><w:body>" + text_lines(rng, 80).replace("\n", "</w:t><w:t>")
                body += (f"<w:t>deploy with {key}</w:t>" if plant else "") + "</w:body></w:document>"
                changes = [(path, zip_bytes([("[Content_Types].xml", b"<Types/>"),
                                             ("word/document.xml", body.encode())]))]
                if plant:
                    planted.append((key, path, "word/document.xml"))
            elif kind == 5:
                path = f"logs/app-{n}.log.bz2"
                changes = [(path, bz2.compress((text_lines(rng, 800) + secret_line).encode()))]
                if plant:
                    planted.append((key, path, f"app-{n}.log"))
            elif kind == 6:
                path = f"data/export-{n}.json.xz"
                body = text_lines(rng, 800) + (f'{{"api_key": "{key}"}}\n' if plant else "")
                changes = [(path, lzma.compress(body.encode()))]
                if plant:
                    planted.append((key, path, f"export-{n}.json"))
            elif kind == 7:
                path = f"backups/nested-{n}.zip"
                inner = zip_bytes([("deep/settings.env", ("X=1\n" + secret_line).encode())])
                changes = [(path, zip_bytes([("inner.zip", inner), ("notes.txt", b"nested\n")]))]
                if plant:
                    planted.append((key, path, "inner.zip!deep/settings.env"))
            else:
                changes = [("src/app.py", text_lines(rng, 200).encode())]
                if plant:
                    changes.append((f"src/conf_{n}.py", f'KEY = "{key}"\n'.encode()))
                    planted.append((key, f"src/conf_{n}.py", ""))
            # Old versions are deleted now and then, as people do.
            if n % 10 == 9 and n > 30:
                changes.append((f"backups/env-backup-{n - 29}.zip", None))
            h.commit(n, f"commit {n}", changes, planted)


if __name__ == "__main__":
    main()
