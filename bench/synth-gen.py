#!/usr/bin/env python3
"""Stream generator behind bench/synth-repo.sh (python3 stdlib only, no network).

`synth-gen.py stream COMMITS FILES SEED RAW_MANIFEST` writes a `git fast-import`
stream on stdout: a synthetic history with edits, adds, renames, deletes,
feature branches and merges, tags, two large-ish files, and secrets planted at
known commits. The planted rows go to RAW_MANIFEST with fast-import marks
(`:N`) instead of commit ids; `synth-gen.py manifest RAW MARKS OUT` resolves
them with fast-import's `--export-marks` file.

Everything is derived from SEED: same arguments, same stream, same commit ids.
Secret values are built here at run time (nothing secret-looking is written in
this file, so the repository itself stays clean for push protection and for
`secretgate history`).
"""

import base64
import math
import random
import sys
import zlib

# ---------------------------------------------------------------- secrets ---

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = BASE62
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def rand_str(rng, n, alphabet):
    return "".join(rng.choice(alphabet) for _ in range(n))


def anthropic_key(rng):
    # sk-ant-api03- + 93 URL-safe base64 chars + AA
    return "sk-ant-" + "api03-" + rand_str(rng, 93, URLSAFE) + "AA"


def github_pat(rng):
    # ghp_ + 30 random base62 + 6-char base62 CRC32 of those 30 (zero-padded):
    # the checksum secretgate's github-crc32 verifies (src/engine/checksum.rs).
    body = rand_str(rng, 30, BASE62)
    value = zlib.crc32(body.encode()) & 0xFFFFFFFF
    check = []
    for _ in range(6):
        check.append(BASE62[value % 62])
        value //= 62
    return "gh" + "p_" + body + "".join(reversed(check))


def aws_pair(rng):
    key_id = "AK" + "IA" + rand_str(rng, 16, BASE32)
    secret = rand_str(rng, 40, B64)
    return key_id, secret


def db_password(rng):
    return rand_str(rng, 20, ALNUM)


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def probable_prime(n, rng):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def gen_prime(rng, bits):
    while True:
        c = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if probable_prime(c, rng):
            return c


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + der_len(len(b)) + b


def rsa_private_key_pem(rng, bits=2048):
    """A real, valid RSA key in PKCS#1 PEM, derived from rng (deterministic;
    `openssl genpkey` cannot be seeded)."""
    e = 65537
    while True:
        p = gen_prime(rng, bits // 2)
        q = gen_prime(rng, bits // 2)
        if p == q:
            continue
        if p < q:
            p, q = q, p
        phi = (p - 1) * (q - 1)
        if math.gcd(e, phi) == 1:
            break
    n = p * q
    d = pow(e, -1, phi)
    fields = [0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    body = b"".join(der_int(f) for f in fields)
    der = b"\x30" + der_len(len(body)) + body
    b64 = base64.b64encode(der).decode()
    label = "RSA " + "PRIVATE KEY"
    lines = ["-----BEGIN " + label + "-----"]
    lines += [b64[i : i + 64] for i in range(0, len(b64), 64)]
    lines.append("-----END " + label + "-----")
    return lines


# ------------------------------------------------------------ filler text ---

# No word here may look like a credential name (no key/token/secret/pass/auth).
WORDS = """
account active adapter address agent alert amount archive array asset audit backlog balance batch
billing block branch buffer bundle cache calendar cancel capacity cart catalog channel chart check
client cluster column command comment config connect console content context counter coupon cursor
customer daily dashboard data debug default delivery deploy detail device digest draft driver entry
error event export feature field filter flag format frame gateway graph group handler header health
history image import index inventory invoice item job label layout ledger limit listener loader local
logger lookup manager mapper market member memory merge message metric migrate mirror model module
monitor notice number offset order owner package page panel parser patch payload pending period
pipeline plan plugin policy pool preview price printer process product profile progress project
query queue quota range reader record refund region release render report request resolver resource
result retry review route router rule runner sample schedule schema scope search section segment
select sender series server service session setting shard shipment signal snapshot source span
stage state status storage store stream summary supplier support switch table target task template
tenant theme thread ticket timer topic trace tracker transfer trigger update upload usage user value
vendor version view visitor volume warehouse webhook widget window worker zone
""".split()

VERBS = "add fix update refactor rename remove move tidy improve handle support bump clean adjust split merge document test".split()
AUTHORS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
    ("Donald Knuth", "don@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Frances Allen", "fran@example.com"),
    ("Ken Thompson", "ken@example.com"),
    ("Margaret Hamilton", "margaret@example.com"),
    ("Niklaus Wirth", "niklaus@example.com"),
    ("Radia Perlman", "radia@example.com"),
    ("Leslie Lamport", "leslie@example.com"),
]
EXTS = ["py"] * 5 + ["rs"] * 3 + ["js"] * 3 + ["go"] * 2 + ["md"] * 2 + ["yaml", "json", "txt", "toml", "sh"]


class Gen:
    templates = None  # set below, once TEMPLATES exists

    def __init__(self, seed):
        self.r = random.Random(seed)
        self._random = self.r.random

    def w(self):
        return WORDS[int(self._random() * len(WORDS))]

    def ident(self):
        return self.w() + "_" + self.w()

    def sentence(self, lo=4, hi=12):
        s = " ".join(self.w() for _ in range(self.r.randint(lo, hi)))
        return s[0].upper() + s[1:] + "."

    def line(self, ext):
        r = self.r
        n = r.randint(0, 999)
        opts = self.templates[ext]
        return opts[int(r.random() * len(opts))](self, n)

    def lines(self, ext, count):
        return [self.line(ext) for _ in range(count)]


def _templates():
    W = lambda g: g.w()  # noqa: E731
    C = lambda g: g.w().capitalize()  # noqa: E731
    I = lambda g: g.ident()  # noqa: E731
    S = lambda g, lo=4, hi=12: g.sentence(lo, hi)  # noqa: E731
    py = (
        lambda g, n: f"    {I(g)} = {W(g)}.{I(g)}({W(g)}, {n})",
        lambda g, n: f"def {I(g)}(self, {W(g)}, {W(g)}={n}):",
        lambda g, n: f"    # {S(g)}",
        lambda g, n: f"        return self.{W(g)}.get({W(g)!r}, {n})",
        lambda g, n: f"    if {W(g)}.{W(g)} > {n}:",
        lambda g, n: f"from {W(g)}.{W(g)} import {I(g)}",
        lambda g, n: "",
    )
    rs = (
        lambda g, n: f"    let {I(g)} = {W(g)}.{I(g)}({n});",
        lambda g, n: f"pub fn {I(g)}({W(g)}: &{C(g)}) -> usize {{",
        lambda g, n: f"    // {S(g)}",
        lambda g, n: f"        {W(g)}.push({I(g)}({n}));",
        lambda g, n: "    }",
        lambda g, n: f"use crate::{W(g)}::{C(g)};",
        lambda g, n: "",
    )
    js = (
        lambda g, n: f"  const {W(g)}{C(g)} = {W(g)}.{W(g)}({n});",
        lambda g, n: f"export function {W(g)}{C(g)}({W(g)}, {W(g)}) {{",
        lambda g, n: f"  // {S(g)}",
        lambda g, n: f"    return {W(g)}.map((x) => x.{W(g)} + {n});",
        lambda g, n: "  }",
        lambda g, n: f"import {{ {W(g)} }} from './{W(g)}';",
        lambda g, n: "",
    )
    go = (
        lambda g, n: f"\t{W(g)}{C(g)} := {W(g)}.{C(g)}({n})",
        lambda g, n: f"func ({W(g)[0]} *{C(g)}) {C(g)}() error {{",
        lambda g, n: f"\t// {S(g)}",
        lambda g, n: f"\tif err := {W(g)}.{C(g)}(ctx); err != nil {{",
        lambda g, n: "\t}",
        lambda g, n: "\treturn nil",
        lambda g, n: "",
    )
    text = (
        lambda g, n: S(g, 6, 18),
        lambda g, n: S(g, 3, 8),
        lambda g, n: f"- {S(g, 2, 6)}",
        lambda g, n: "",
        lambda g, n: f"## {C(g)} {W(g)}",
    )

    def conf(sep):
        return (
            lambda g, n: f"{W(g)}_{W(g)}{sep} {n}",
            lambda g, n: f"  {W(g)}{sep} {W(g)}-{W(g)}",
            lambda g, n: f"# {S(g)}",
            lambda g, n: f"{W(g)}{sep} {'true' if n % 2 else 'false'}",
        )

    json_ = (
        lambda g, n: f'  "{I(g)}": {n},',
        lambda g, n: f'  "{W(g)}": "{W(g)} {W(g)}",',
        lambda g, n: f'  "{W(g)}": [{n}, {n // 3}],',
    )
    sh = (
        lambda g, n: f"{W(g)}_{W(g)} --{W(g)} {n}",
        lambda g, n: f"# {S(g)}",
        lambda g, n: f'if [ -d "{W(g)}" ]; then',
        lambda g, n: "fi",
        lambda g, n: f'echo "{S(g, 2, 5)}"',
    )
    return {"py": py, "rs": rs, "js": js, "go": go, "md": text, "txt": text, "yaml": conf(":"), "toml": conf(" ="), "json": json_, "sh": sh}


TEMPLATES = _templates()
Gen.templates = TEMPLATES


def ext_of(path):
    return path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else "txt"


# ---------------------------------------------------------------- history ---


class Branch:
    def __init__(self, name, files, base_mark=None, remaining=0, merge=True):
        self.name = name
        self.files = files
        self.base_mark = base_mark  # `from` for the first commit, then None
        self.remaining = remaining
        self.merge = merge
        self.touched = set()
        self.mark = None


class Stream:
    def __init__(self, commits, files, seed, manifest_path):
        self.n = commits
        self.nfiles = files
        self.g = Gen(seed)
        self.r = self.g.r
        self.sr = random.Random(f"secrets/{seed}")
        self.out = sys.stdout.buffer
        self.buf = []
        self.buflen = 0
        self.mark = 0
        self.time = 1_500_000_000
        self.manifest = open(manifest_path, "w", encoding="utf-8")
        self.pinned = set()  # paths random operations leave alone
        self.protected = {}  # path -> set of lines random/scripted edits keep
        self.dirs = self.make_dirs()
        self.used_paths = set()
        self.main = Branch("main", {})
        self.features = []
        self.feature_seq = 0
        self.step = 0

    # -- output
    def write(self, b):
        self.buf.append(b)
        self.buflen += len(b)
        if self.buflen > (8 << 20):
            self.flush()

    def flush(self):
        self.out.write(b"".join(self.buf))
        self.buf = []
        self.buflen = 0

    def data(self, payload):
        self.write(b"data %d\n" % len(payload))
        self.write(payload)
        self.write(b"\n")

    # -- paths and content
    def make_dirs(self):
        g = self.g
        tops = ["src", "lib", "services", "web/src", "docs", "tests", "config", "scripts", "tools", "internal"]
        dirs = list(tops)
        for _ in range(max(20, self.nfiles // 12)):
            parent = self.r.choice(dirs)
            if parent.count("/") < 4:
                dirs.append(f"{parent}/{g.w()}")
        return sorted(set(dirs))

    def new_path(self, ext=None):
        while True:
            d = self.r.choice(self.dirs)
            e = ext or self.r.choice(EXTS)
            p = f"{d}/{self.g.ident()}.{e}"
            if p not in self.used_paths:
                self.used_paths.add(p)
                return p

    def new_content(self, path):
        size = min(2500, max(5, int(self.r.lognormvariate(4.2, 0.8))))
        return self.g.lines(ext_of(path), size)

    def edit(self, path, lines, hunks=None):
        """A few small hunks: replace, insert or delete 1-4 lines, never on or
        next to a protected line (so planted secrets and PEM blocks survive)."""
        r = self.r
        prot = self.protected.get(path)
        lines = list(lines)
        ext = ext_of(path)
        for _ in range(hunks or r.randint(1, 3)):
            for _attempt in range(8):
                n = len(lines)
                i = r.randrange(n + 1)
                k = r.randint(1, 4)
                if prot and any(lines[j] in prot for j in range(max(0, i - 1), min(n, i + k + 1))):
                    continue
                op = r.random()
                if op < 0.5 and i < n:
                    lines[i : i + k] = self.g.lines(ext, r.randint(1, k))
                elif op < 0.8 or n < 12:
                    lines[i:i] = self.g.lines(ext, k)
                else:
                    del lines[i : i + k]
                break
        if not lines:
            lines = self.g.lines(ext, 3)
        return lines

    @staticmethod
    def encode(lines):
        return ("\n".join(lines) + "\n").encode()

    # -- commits
    def commit(self, br, msg, changes, merge_marks=()):
        """changes: list of (path, lines) or (path, None) for a delete; applied to br.files."""
        self.mark += 1
        self.time += self.r.randint(120, 14000)
        name, email = self.r.choice(AUTHORS)
        ident = f"{name} <{email}> {self.time} +0000".encode()
        self.write(b"commit refs/heads/%s\nmark :%d\nauthor %s\ncommitter %s\n" % (br.name.encode(), self.mark, ident, ident))
        self.data(msg.encode())
        if br.base_mark is not None:
            self.write(b"from :%d\n" % br.base_mark)
            br.base_mark = None
        for m in merge_marks:
            self.write(b"merge :%d\n" % m)
        for path, lines in changes:
            if lines is None:
                if path in br.files:
                    del br.files[path]
                    self.write(b"D %s\n" % path.encode())
            else:
                br.files[path] = lines
                self.write(b"M 100644 inline %s\n" % path.encode())
                self.data(self.encode(lines))
            br.touched.add(path)
        self.write(b"\n")
        br.mark = self.mark
        self.step += 1
        return self.mark

    def message(self):
        g = self.g
        msg = f"{self.r.choice(VERBS).capitalize()} {g.w()} {g.w()}"
        if self.r.random() < 0.3:
            msg += "\n\n" + g.sentence(8, 20)
        return msg + "\n"

    def editable(self, br):
        return [p for p in br.files if p not in self.pinned]

    def random_commit(self, br):
        r = self.r
        files = br.files
        op = r.random()
        changes = []
        cand = None
        if op < 0.84 or not files:
            pass
        elif op < 0.92 and br is self.main:
            target = self.nfiles * (0.3 + 0.7 * self.step / self.n)
            deficit = int(target - len(files))
            count = max(1, min(40, deficit // 4 + 1)) if deficit > 0 else (1 if r.random() < 0.3 else 0)
            for _ in range(count):
                p = self.new_path()
                changes.append((p, self.new_content(p)))
            if changes:
                return self.commit(br, self.message(), changes)
        elif op < 0.95:
            cand = self.editable(br)
            if cand:
                old = r.choice(cand)
                d, base = old.rsplit("/", 1)
                new = f"{r.choice(self.dirs)}/{base}" if r.random() < 0.5 else f"{d}/{self.g.w()}_{base}"
                if new not in files and new not in self.used_paths:
                    self.used_paths.add(new)
                    lines = files[old]
                    if r.random() < 0.5:
                        lines = self.edit(new, lines, 1)
                    changes = [(old, None), (new, lines)]
                    return self.commit(br, f"Move {old.rsplit('/', 1)[-1]} to {new.rsplit('/', 2)[-2]}\n", changes)
        elif op < 0.97 and len(files) > 50:
            cand = self.editable(br)
            for p in r.sample(cand, min(len(cand), r.randint(1, 2))):
                changes.append((p, None))
            if changes:
                return self.commit(br, f"Remove {changes[0][0].rsplit('/', 1)[-1]}\n", changes)
        # default: edit some files
        x = r.random()
        if br is not self.main or x < 0.85:
            count = r.randint(1, 5)
        elif x < 0.97:
            count = r.randint(6, 20)
        else:
            count = r.randint(30, 150)
        cand = cand if cand is not None else self.editable(br)
        if not cand:
            p = self.new_path()
            return self.commit(br, self.message(), [(p, self.new_content(p))])
        for p in r.sample(cand, min(count, len(cand))):
            changes.append((p, self.edit(p, files[p])))
        return self.commit(br, self.message(), changes)

    def merge(self, feat):
        main = self.main
        changes = []
        for p in sorted(feat.touched):
            if p in self.pinned:
                continue  # scripted files follow their own plan
            mine, theirs = main.files.get(p), feat.files.get(p)
            if theirs is None:
                if mine is not None:
                    changes.append((p, None))
            elif mine != theirs:
                changes.append((p, theirs))
        return self.commit(main, f"Merge branch '{feat.name}'\n", changes, merge_marks=(feat.mark,))

    def tag(self, name, mark, annotated):
        if annotated:
            name_, email = AUTHORS[0]
            self.write(b"tag %s\nfrom :%d\ntagger %s <%s> %d +0000\n" % (name.encode(), mark, name_.encode(), email.encode(), self.time))
            self.data(f"Release {name}\n".encode())
        else:
            self.write(b"reset refs/tags/%s\nfrom :%d\n\n" % (name.encode(), mark))

    def plant(self, value, path, mark, kind, scenario):
        esc = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
        self.manifest.write(f"{esc}\t{path}\t:{mark}\t{kind}\t{scenario}\n")

    # -- the big files
    def big_jsonl(self, records):
        g = self.g
        out = []
        for i in range(records):
            out.append(
                '{"id": %d, "name": "%s %s", "qty": %d, "tags": ["%s", "%s"], "note": "%s"}'
                % (i, g.w(), g.w(), self.r.randint(0, 9999), g.w(), g.w(), g.sentence(6, 14))
            )
        return out

    def big_js(self, lines):
        g = self.g
        out = []
        for _ in range(lines):
            parts = [f"function {g.w()}{g.w().capitalize()}(a,b){{return a.{g.w()}+b.{g.w()}*{self.r.randint(0, 99)}}}" for _ in range(30)]
            out.append(";".join(parts) + ";")
        return out

    def edit_big(self, path, lines):
        lines = list(lines)
        prot = self.protected.get(path, set())
        for _ in range(self.r.randint(3, 12)):
            i = self.r.randrange(len(lines))
            if lines[i] in prot or (i > 0 and lines[i - 1] in prot):
                continue
            if path.endswith(".jsonl"):
                lines[i] = self.big_jsonl(1)[0].replace('"id": 0', f'"id": {i}')
            else:
                lines[i] = self.big_js(1)[0]
        if path.endswith(".jsonl"):
            extra = self.big_jsonl(self.r.randint(5, 40))
            lines += [x.replace('"id": ', '"id": 1', 1) for x in extra]
        return lines

    # -- the run
    def run(self):
        n = self.n
        r, sr, g = self.r, self.sr, self.g
        main = self.main
        at = lambda frac: max(1, min(n - 1, int(n * frac)))  # noqa: E731

        # Initial import: 30% of the files.
        init = {}
        for _ in range(max(10, int(self.nfiles * 0.3))):
            p = self.new_path()
            init[p] = self.new_content(p)
        init["README.md"] = g.lines("md", 40)
        self.used_paths.add("README.md")
        self.commit(main, "Initial import\n", sorted(init.items()))

        # Scripted events, keyed by step (one commit each, on main unless noted).
        ev = {}

        def on(step, fn):
            while step in ev:
                step += 1
            ev[step] = fn

        big_json, big_js = "data/fixtures/orders.jsonl", "web/vendor/charts.min.js"

        def add_big():
            self.pinned.update((big_json, big_js))
            self.commit(main, "Add order fixtures and vendored chart bundle\n", [(big_json, self.big_jsonl(14000)), (big_js, self.big_js(600))])

        on(at(0.02), add_big)
        for k in range(1, 30):
            on(at(0.02 + 0.96 * k / 30), lambda: self.commit(main, "Refresh order fixtures\n", [(big_json, self.edit_big(big_json, main.files[big_json]))]))
        for k in range(1, 10):
            on(at(0.02 + 0.96 * k / 10) + 1, lambda: self.commit(main, "Update vendored chart bundle\n", [(big_js, self.edit_big(big_js, main.files[big_js]))]))

        def protect(path, lines):
            self.pinned.add(path)
            self.protected.setdefault(path, set()).update(lines)

        def insert_at(lines, line, where=None):
            lines = list(lines)
            i = len(lines) // 2 if where is None else where
            lines[i:i] = line if isinstance(line, list) else [line]
            return lines

        # P1: only in history (added at 10%, the line removed at 13%).
        p1 = {}

        def p1_add():
            cand = sorted(p for p in main.files if p.endswith(".py") and p not in self.pinned)
            path = r.choice(cand)
            key = anthropic_key(sr)
            line = f'ANTHROPIC_API_KEY = "{key}"'
            p1.update(path=path, line=line)
            protect(path, [line])
            m = self.commit(main, "Add summarizer client\n", [(path, insert_at(main.files[path], line, 0))])
            self.plant(key, path, m, "anthropic-api-key", "history-only")

        def p1_remove():
            path = p1["path"]
            lines = [x for x in main.files[path] if x != p1["line"]]
            self.pinned.discard(path)
            self.protected.pop(path, None)
            self.commit(main, "Read the summarizer client settings from the environment\n", [(path, lines)])

        on(at(0.10), p1_add)
        on(at(0.13), p1_remove)

        # P2: in HEAD, in a file edited ~60 times after the secret was added.
        p2 = "config/settings/production.py"

        def p2_add():
            tok = github_pat(sr)
            line = f'GITHUB_TOKEN = "{tok}"'
            lines = g.lines("py", 90)
            lines = insert_at(lines, line, 30)
            protect(p2, [line])
            m = self.commit(main, "Add production settings\n", [(p2, lines)])
            self.plant(tok, p2, m, "github-classic-pat", "head+edited-60x")

        on(at(0.20), p2_add)
        for k in range(1, 61):
            on(at(0.20 + 0.75 * k / 60), lambda: self.commit(main, "Tune production settings\n", [(p2, self.edit(p2, main.files[p2]))]))

        # P3: a file renamed later (the planted blob moves unchanged).
        p3_old, p3_new = "services/billing/config/database.yaml", "services/payments/config/database.yaml"

        def p3_add():
            pw = db_password(sr)
            url = f"postgresql://billing_rw:{pw}@db-billing-2.prod.example.net:5432/billing"
            lines = [f"# {g.sentence()}", "database:", f"  url: {url}", "  pool: 20", "  timeout: 30"] + g.lines("yaml", 20)
            protect(p3_old, [f"  url: {url}"])
            m = self.commit(main, "Add billing database settings\n", [(p3_old, lines)])
            self.plant(pw, p3_old, m, "postgres-url-password", "renamed-later")

        def p3_rename():
            lines = main.files[p3_old]
            self.pinned.discard(p3_old)
            protect(p3_new, self.protected.pop(p3_old))
            self.commit(main, "Rename billing service to payments\n", [(p3_old, None), (p3_new, lines)])

        on(at(0.30), p3_add)
        on(at(0.45), p3_rename)

        # P4: a PEM private key, deleted later (history only).
        p4 = "deploy/tls/gateway-key.pem"

        def p4_add():
            pem = rsa_private_key_pem(sr)
            protect(p4, pem)
            m = self.commit(main, "Add gateway TLS key\n", [(p4, pem)])
            self.plant("\n".join(pem), p4, m, "private-key-rsa", "history-only")
            self.plant("-", p4, m, "private-key-file", "history-only")

        on(at(0.40), p4_add)
        on(at(0.70), lambda: self.commit(main, "Remove gateway TLS key from the repository\n", [(p4, None)]))

        # P5: in the middle of a big file (edited ~15 more times afterwards).
        def p5_add():
            key = anthropic_key(sr)
            line = '{"id": 7000, "name": "summarizer probe", "qty": 1, "tags": ["ai"], "note": "anthropic_api_key=%s"}' % key
            protect(big_json, [line])
            m = self.commit(main, "Add summarizer probe fixture\n", [(big_json, insert_at(main.files[big_json], line))])
            self.plant(key, big_json, m, "anthropic-api-key", "big-file-middle")

        on(at(0.50), p5_add)

        # P6: a .env file with a database URL and an AWS key pair, edited afterwards, in HEAD.
        p6 = "app/.env.production"

        def p6_add():
            pw = db_password(sr)
            kid, ksec = aws_pair(sr)
            secret_lines = [
                f"DATABASE_URL=postgresql://app_rw:{pw}@db-main-1.prod.example.net:5432/app",
                f"AWS_ACCESS_KEY_ID={kid}",
                f"AWS_SECRET_ACCESS_KEY={ksec}",
            ]
            lines = ["APP_ENV=production", "LOG_LEVEL=info"] + secret_lines + [f"{g.w().upper()}_{g.w().upper()}={r.randint(1, 99)}" for _ in range(8)]
            protect(p6, secret_lines)
            m = self.commit(main, "Add production environment\n", [(p6, lines)])
            self.plant("-", p6, m, "dotenv-file", "env-file")
            self.plant(pw, p6, m, "postgres-url-password", "env-file")
            self.plant(kid, p6, m, "aws-access-key-id", "env-file")
            self.plant(ksec, p6, m, "aws-secret-access-key", "env-file")

        def p6_edit():
            lines = list(main.files[p6])
            lines.append(f"{g.w().upper()}_{g.w().upper()}={r.randint(1, 99)}")
            self.commit(main, "Update production environment\n", [(p6, lines)])

        on(at(0.55), p6_add)
        for k in range(1, 11):
            on(at(0.55 + 0.4 * k / 10), p6_edit)

        # P7: an AWS key pair on a branch that is never merged.
        p7 = {}
        p7_path = "tools/s3_archive/credentials.py"

        def p7_start():
            br = Branch("experiment/s3-archive", dict(main.files), base_mark=main.mark, merge=False)
            p7["br"] = br
            self.random_commit(br)

        def p7_plant():
            br = p7["br"]
            kid, ksec = aws_pair(sr)
            lines = g.lines("py", 12) + [f'AWS_ACCESS_KEY_ID = "{kid}"', f'AWS_SECRET_ACCESS_KEY = "{ksec}"'] + g.lines("py", 12)
            self.pinned.add(p7_path)
            m = self.commit(br, "Archive exports to S3\n", [(p7_path, lines)])
            self.plant(kid, p7_path, m, "aws-access-key-id", "unmerged-branch")
            self.plant(ksec, p7_path, m, "aws-secret-access-key", "unmerged-branch")

        on(at(0.60), p7_start)
        on(at(0.60) + 3, p7_plant)
        on(at(0.60) + 7, lambda: self.random_commit(p7["br"]))
        on(at(0.60) + 12, lambda: self.random_commit(p7["br"]))

        # P8: a GitHub token added on a feature branch that is merged later
        # (attributed to the feature commit, not to the merge).
        p8 = {}
        p8_path = ".github/workflows/release.yml"

        def p8_start():
            br = Branch("feature/release-workflow", dict(main.files), base_mark=main.mark, merge=True)
            p8["br"] = br
            self.random_commit(br)

        def p8_plant():
            br = p8["br"]
            tok = github_pat(sr)
            line = f"          GH_TOKEN: {tok}"
            lines = ["name: release", "on:", "  push:", "    tags: ['v*']", "jobs:", "  release:", "    runs-on: ubuntu-latest", "    steps:",
                     "      - uses: actions/checkout@v4", "      - run: ./scripts/release.sh", "        env:", line]
            protect(p8_path, [line])
            m = self.commit(br, "Add release workflow\n", [(p8_path, lines)])
            self.plant(tok, p8_path, m, "github-classic-pat", "merged-branch")

        on(at(0.75), p8_start)
        on(at(0.75) + 2, p8_plant)
        on(at(0.75) + 5, lambda: self.random_commit(p8["br"]))
        on(at(0.75) + 9, lambda: self.merge(p8["br"]))

        # P9: plainly in HEAD, added near the end to an existing script.
        def p9_add():
            cand = sorted(p for p in main.files if p.endswith(".sh") and p not in self.pinned) or sorted(p for p in main.files if p not in self.pinned)
            path = r.choice(cand)
            tok = github_pat(sr)
            line = f"export GITHUB_TOKEN={tok}"
            protect(path, [line])
            m = self.commit(main, "Publish release artifacts\n", [(path, insert_at(main.files[path], line))])
            self.plant(tok, path, m, "github-classic-pat", "head")

        on(at(0.90), p9_add)

        # Tags on main.
        tag_every = max(50, n // 25)

        while self.step < n:
            s = self.step
            if s in ev:
                ev.pop(s)()
            else:
                due = [f for f in self.features if f.remaining <= 0]
                if due:
                    f = due[0]
                    self.features.remove(f)
                    self.merge(f)
                elif self.features and r.random() < 0.25:
                    f = r.choice(self.features)
                    self.random_commit(f)
                    f.remaining -= 1
                else:
                    if len(self.features) < 3 and s < n * 0.97 and r.random() < 1 / 120:
                        self.feature_seq += 1
                        self.features.append(
                            Branch(f"feature/{g.w()}-{self.feature_seq}", dict(main.files), base_mark=main.mark, remaining=r.randint(3, 30))
                        )
                    self.random_commit(main)
            if main.mark and self.step % tag_every == 0 and self.step != s:
                k = self.step // tag_every
                self.tag(f"v1.{k}.0", main.mark, annotated=(k % 2 == 0))
        # Whatever features are still open stay unmerged branches (so do the refs of merged ones).
        self.write(b"done\n")
        self.flush()
        self.manifest.close()
        if ev:
            sys.exit(f"synth-gen: {len(ev)} scripted events did not run (COMMITS too small?)")


def resolve_manifest(raw, marks, out):
    sha = {}
    with open(marks, encoding="utf-8") as f:
        for line in f:
            m, s = line.split()
            sha[m] = s
    rows = []
    with open(raw, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            cols[2] = sha[cols[2]]
            rows.append("\t".join(cols))
    with open(out, "w", encoding="utf-8") as f:
        f.write("# secret\tpath\tcommit\tkind\tscenario\n")
        f.write("\n".join(rows) + "\n")


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "stream":
        commits, files, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        if commits < 300:
            sys.exit("synth-gen: COMMITS must be at least 300")
        Stream(commits, files, seed, sys.argv[5]).run()
    elif len(sys.argv) == 5 and sys.argv[1] == "manifest":
        resolve_manifest(*sys.argv[2:])
    else:
        sys.exit("usage: synth-gen.py stream COMMITS FILES SEED RAW_MANIFEST | manifest RAW MARKS OUT")


if __name__ == "__main__":
    main()
