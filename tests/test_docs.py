"""The docs build check: links resolve, code blocks run, API pages are current.

* Every internal link in ``docs/`` (API pages included) and ``README.md``
  points at an existing file inside the repository, and its ``#anchor`` at
  a heading of the target page (GitHub's heading slugs).
* Every ```` ```python ```` block in ``docs/*.md`` and ``README.md`` runs as
  a script in a fresh interpreter, in an empty temporary working directory,
  with the repository on ``PYTHONPATH``, within a timeout. A block directly
  preceded by ``<!-- no-run: reason -->`` (output listings, fragments) is
  skipped; the reason must be given. When the next fenced block is directly
  preceded by ``<!-- output -->``, the script's stdout must equal it.
* ``docs/index.md`` links every page of ``docs/`` and ``docs/api/``.
* The pages in ``docs/api/`` are exactly what ``python docs/api/generate.py``
  writes from the live package, so they cannot go stale, and the public names
  have docstrings.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import warnings

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
BLOCK_TIMEOUT = 300  # seconds; the first run of a block may compile kernels

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_HREF = re.compile(r"""<(?:a|img)\s[^>]*(?:href|src)=["']([^"']+)["']""")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
NO_RUN = re.compile(r"^<!--\s*no-run:\s*(.*?)\s*-->\s*$")
OUTPUT = re.compile(r"^<!--\s*output\s*-->\s*$")
EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


def _markdown_files(api: bool = True) -> list[str]:
    """README.md and docs/*.md (and docs/api/*.md when ``api``), sorted."""
    files = [os.path.join(ROOT, "README.md")]
    for dirpath, dirnames, filenames in os.walk(DOCS):
        dirnames.sort()
        if not api and dirpath != DOCS:
            continue
        files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".md")]
    return files


def _rel(path: str) -> str:
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def _parse(path: str) -> tuple[list[tuple[int, str]], list[dict]]:
    """(prose lines with their line numbers, fenced code blocks) of a page.

    A block is ``{"line": first code line, "lang", "code", "no_run": reason or
    None, "output": True if marked as the output of the block before it}``.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    prose, blocks = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        fence, lang = m.group(2), m.group(3).lower()
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        prev_line = lines[j].strip() if j >= 0 else ""
        prev = NO_RUN.match(prev_line)
        body, k = [], i + 1
        while k < len(lines) and not lines[k].strip().startswith(fence):
            body.append(lines[k])
            k += 1
        blocks.append({"line": i + 2, "lang": lang, "code": "\n".join(body) + "\n",
                       "no_run": prev.group(1) if prev else None,
                       "output": bool(OUTPUT.match(prev_line))})
        i = k + 1
    return prose, blocks


def _strip_code_spans(line: str) -> str:
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lowercase, punctuation
    removed, spaces -> hyphens (duplicates get ``-1``, ``-2`` from the caller)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: str) -> set[str]:
    """Every heading anchor of a Markdown page (plus explicit ``<a name/id>``)."""
    prose, _ = _parse(path)
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose:
        for m in re.finditer(r"""<a\s+(?:name|id)=["']([^"']+)["']""", line):
            out.add(m.group(1))
        h = HEADING.match(line)
        if not h:
            continue
        slug = github_slug(h.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else "%s-%d" % (slug, n))
    return out


def _links(path: str) -> list[tuple[int, str]]:
    prose, _ = _parse(path)
    out = []
    for lineno, line in prose:
        text = _strip_code_spans(line)
        for rx in (LINK, IMAGE, HTML_HREF):
            out += [(lineno, m.group(1)) for m in rx.finditer(text)]
    return out


def _broken_links(path: str) -> list[str]:
    problems = []
    for lineno, target in _links(path):
        if target.startswith(EXTERNAL):
            continue
        where = "%s:%d: %s" % (_rel(path), lineno, target)
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part \
            else path
        if not (dest == ROOT or dest.startswith(ROOT + os.sep)):
            problems.append(where + " (outside the repository)")
        elif not os.path.exists(dest):
            problems.append(where + " (no such file)")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            problems.append(where + " (no heading with anchor #%s in %s)" % (anchor, _rel(dest)))
    return problems


@pytest.mark.parametrize("path", _markdown_files(), ids=_rel)
def test_internal_links_resolve(path):
    assert not _broken_links(path), "\n".join(_broken_links(path))


def test_link_checker_catches_bad_links(tmp_path, monkeypatch):
    """The checker itself: a missing file, a missing anchor and a link inside a
    code span or block (ignored) are told apart."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    (tmp_path / "b.md").write_text("# Title\n\n## Some `code` heading!\n\n## Some code heading\n")
    page = tmp_path / "a.md"
    page.write_text("[ok](b.md#title) [ok](b.md#some-code-heading-1) [ok](#top)\n"
                     "# Top\n[bad](missing.md) [bad](b.md#nope) `[code](x.md)`\n"
                     "```\n[in block](y.md)\n```\n[out](../../etc/passwd)\n")
    problems = _broken_links(str(page))
    assert [p.split(": ", 1)[1].split(" (")[0] for p in problems] == \
        ["missing.md", "b.md#nope", "../../etc/passwd"]


def _python_blocks() -> list:
    params = []
    for path in _markdown_files(api=False):
        blocks = _parse(path)[1]
        for i, block in enumerate(blocks):
            if block["lang"] not in ("python", "py"):
                continue
            ident = "%s:%d" % (_rel(path), block["line"])
            marks = [pytest.mark.skip(reason="no-run: " + block["no_run"])] \
                if block["no_run"] else []
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            expected = nxt["code"] if nxt is not None and nxt["output"] else None
            params.append(pytest.param(block["code"], expected, ident, id=ident, marks=marks))
    return params


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.mark.parametrize("code,expected,where", _python_blocks())
def test_python_block_runs(code, expected, where, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(code)
    work = tmp_path / "cwd"
    work.mkdir()
    try:
        out = subprocess.run([sys.executable, str(script)], cwd=str(work), env=_env(),
                             capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("%s: the block did not finish within %d s" % (where, BLOCK_TIMEOUT))
    assert out.returncode == 0, "%s failed (exit %d):\n%s%s" % (
        where, out.returncode, out.stdout[-2000:], out.stderr[-4000:])
    if expected is not None:
        def norm(text):
            return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))
        assert norm(out.stdout) == norm(expected), \
            "%s: the output shown after the block is not what it prints:\n%s" % (
                where, out.stdout)


def test_no_run_markers_give_a_reason():
    for path in _markdown_files():
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if "no-run" in line and line.lstrip().startswith("<!--"):
                    m = NO_RUN.match(line.strip())
                    assert m and m.group(1), "%s:%d: write <!-- no-run: reason -->" % (
                        _rel(path), lineno)


def test_output_blocks_follow_a_python_block():
    """An ``<!-- output -->`` listing is checked only after a Python block."""
    for path in _markdown_files(api=False):
        blocks = _parse(path)[1]
        for prev, block in zip([None] + blocks, blocks):
            if block["output"]:
                assert prev is not None and prev["lang"] in ("python", "py"), \
                    "%s:%d: <!-- output --> must follow a ```python block" % (
                        _rel(path), block["line"])


def test_index_lists_every_page():
    """docs/index.md links every page in docs/ and docs/api/; README links the index."""
    index = os.path.join(DOCS, "index.md")
    linked = {os.path.normpath(os.path.join(DOCS, t.partition("#")[0]))
              for _, t in _links(index) if not t.startswith(EXTERNAL)}
    pages = [p for p in _markdown_files() if p.startswith(DOCS + os.sep) and p != index]
    missing = [_rel(p) for p in pages if p not in linked]
    assert not missing, "docs/index.md does not link: " + ", ".join(missing)
    readme = [t for _, t in _links(os.path.join(ROOT, "README.md"))]
    assert "docs/index.md" in readme


# --- API reference ----------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location(
        "docs_api_generate", os.path.join(DOCS, "api", "generate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_api_pages_are_current():
    """The committed docs/api/*.md equal what generate.py writes now; if this
    fails, run ``python docs/api/generate.py`` and commit the pages."""
    gen = _generator()
    pages = gen.render_all()
    api_dir = os.path.join(DOCS, "api")
    committed = {f for f in os.listdir(api_dir) if f.endswith(".md")}
    assert committed == set(pages), "run python docs/api/generate.py: pages %s" % sorted(
        committed ^ set(pages))
    stale = []
    for name, text in sorted(pages.items()):
        with open(os.path.join(api_dir, name), encoding="utf-8") as f:
            if f.read() != text:
                stale.append(name)
    assert not stale, "stale API pages (run python docs/api/generate.py): " + ", ".join(stale)


def test_api_pages_are_deterministic():
    gen = _generator()
    assert gen.render_all() == gen.render_all()


def test_public_names_have_docstrings():
    """Every public function and class of the documented namespaces has a
    docstring. Missing ones in modules listed in generate.STRICT_MODULES fail
    the test; elsewhere (work in progress) they are reported as a warning."""
    gen = _generator()
    missing = gen.missing_docstrings()
    strict = [m for m in missing if m.startswith(gen.STRICT_PREFIXES)]
    other = [m for m in missing if m not in strict]
    if other:
        warnings.warn("public names without a docstring: " + ", ".join(other))
    assert not strict, "public names without a docstring:\n" + "\n".join(strict)
