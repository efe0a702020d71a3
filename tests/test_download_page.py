"""The static download page (releases/index.html), rendered by a real browser.

Headless Chromium loads the page over HTTP (``python -m http.server`` on
127.0.0.1) and from ``file://``, and dumps the DOM it built. The download
links are read out of that DOM, fetched, and their sha256 compared with the
checksum the page shows and with the release's SHA256SUMS.

Chromium is the Debian package ``chromium``. Without it these tests skip on a
developer machine and fail under CI (``CI`` set): a browser test that silently
does not run in CI cannot catch anything.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import select
import shutil
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from test_release_docs import DOCS, build_release, release_rows, second_release_rows

from dangjian.release_docs import index_html, write_index
from dangjian.schema import TABLES

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
BROWSER_TIMEOUT = 120


def chromium() -> str:
    """Path of the Chromium binary, or skip (fail under CI) with how to install it."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed: apt-get update && apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def dump_dom(url: str, profile: Path) -> str:
    """The DOM Chromium renders for ``url``, serialised."""
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--dump-dom", url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
    assert done.returncode == 0 and "</html>" in done.stdout, (
        f"chromium exited {done.returncode} for {url}; stderr:\n{done.stderr[-2000:]}"
    )
    return done.stdout


class PageLinks(HTMLParser):
    """Collects, per release section, its download links with the checksum shown
    in the same row, whether it is marked latest, and its document links."""

    def __init__(self):
        super().__init__()
        self.releases: list[dict] = []  # in page order
        self._row: dict | None = None
        self._in_sha = False
        self._in_badge = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "section" and "release" in classes:
            self.releases.append({"version": attrs["data-version"], "latest": False, "files": [], "docs": []})
        elif not self.releases:
            return
        elif tag == "tr" and "data-table" in attrs:
            self._row = {"table": attrs["data-table"], "href": None, "sha256": ""}
            self.releases[-1]["files"].append(self._row)
        elif tag == "a" and "download" in classes and self._row is not None:
            self._row["href"] = attrs["href"]
        elif tag == "a" and "doc" in classes:
            self.releases[-1]["docs"].append(attrs["href"])
        elif tag == "code" and "sha256" in classes:
            self._in_sha = True
        elif tag == "span" and "badge" in classes:
            self._in_badge = True

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        elif tag == "code":
            self._in_sha = False
        elif tag == "span":
            self._in_badge = False

    def handle_data(self, data):
        if self._in_sha and self._row is not None:
            self._row["sha256"] += data.strip()
        if self._in_badge and data.strip() == "latest":
            self.releases[-1]["latest"] = True


def parse_page(dom: str) -> list[dict]:
    parser = PageLinks()
    parser.feed(dom)
    return parser.releases


def sha256sums(release: Path) -> dict[str, str]:
    """File name → checksum, from the release's SHA256SUMS."""
    sums = {}
    for line in (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    return sums


@pytest.fixture()
def releases(tmp_path) -> tuple[Path, Path, Path]:
    """Two releases with descriptors and a validation report, and the index page."""
    root = tmp_path / "releases"
    first = build_release(root, release_rows(DOCS), dt.date(2026, 11, 22))
    second = build_release(root, second_release_rows(), dt.date(2026, 11, 23), previous=first,
                           validation_html="<!doctype html><title>validation</title><p>all checks passed</p>")
    write_index(root)
    return root, first, second


class StaticServer:
    """``python -m http.server`` on 127.0.0.1, on a port the OS picks.

    Port 0 lets the kernel choose a free port with no race; the server prints
    the port it got, which is read from its (unbuffered) standard output.
    """

    def __init__(self, directory: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(directory)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.url = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                # "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
                if "port" in line:
                    return f"http://127.0.0.1:{int(line.split('port')[1].split()[0])}/"
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"http.server did not start (exit status {self.proc.poll()})")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def test_download_links_over_http_match_the_checksums(releases, tmp_path):
    root, first, second = releases
    server = None
    try:
        server = StaticServer(root)
        page_url = urljoin(server.url, "index.html")
        page = parse_page(dump_dom(page_url, tmp_path / "profile-http"))

        assert [r["version"] for r in page] == [second.name, first.name]  # newest first
        assert [r["latest"] for r in page] == [True, False]
        for release_dir, shown in ((second, page[0]), (first, page[1])):
            sums = sha256sums(release_dir)
            assert sorted(f["table"] for f in shown["files"]) == sorted(t.name for t in TABLES)
            for f in shown["files"]:
                name = unquote(f["href"]).split("/")[-1]
                assert f["sha256"] == sums[name], (release_dir.name, name)
        # Fetch one download as a user would, by following the link from the page.
        numbers = next(f for f in page[0]["files"] if f["table"] == "numbers")
        with urllib.request.urlopen(urljoin(page_url, numbers["href"]), timeout=30) as response:
            body = response.read()
        assert hashlib.sha256(body).hexdigest() == numbers["sha256"] == sha256sums(second)["numbers.parquet"]
        assert body == (second / "numbers.parquet").read_bytes()
    finally:
        if server is not None:
            server.stop()


def test_page_from_file_url_has_relative_links_to_existing_files(releases, tmp_path):
    root, first, second = releases
    page = parse_page(dump_dom((root / "index.html").as_uri(), tmp_path / "profile-file"))
    hrefs = [f["href"] for r in page for f in r["files"]] + [h for r in page for h in r["docs"]]
    assert len(hrefs) >= 2 * len(TABLES)
    for href in hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not href.startswith("/"), href
        target = (root / unquote(parts.path)).resolve()
        assert target.is_file() and root.resolve() in target.parents, href
    # The validation report and dataset card are linked where they exist: the
    # second release has both, the first only the card.
    assert f"{second.name}/validation.html" in page[0]["docs"]
    assert f"{second.name}/README.md" in page[0]["docs"]
    assert f"{first.name}/README.md" in page[1]["docs"]
    assert f"{first.name}/validation.html" not in page[1]["docs"]


# --------------------------------------------------------------------------- without a browser


def test_page_is_static_and_bilingual(releases):
    root, _, second = releases
    text = (root / "index.html").read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text  # works without JS, from file://
    assert 'href="https://' not in text and "src=" not in text  # no external assets
    for table in TABLES:
        assert html.escape(table.zh) in text
        assert all(html.escape(c.zh) in text for c in table.columns)
    assert f'href="{second.name}/numbers.parquet"' in text


def test_latest_from_the_text_file_when_the_symlink_is_gone(releases):
    """Static hosts often drop symlinks; the LATEST file still marks the newest."""
    root, first, _ = releases
    (root / "latest").unlink()
    (root / "LATEST").write_text(first.name + "\n", encoding="utf-8")
    page = parse_page(index_html(root))
    assert [r["latest"] for r in page] == [False, True]


def test_everything_is_escaped(releases):
    root, _, second = releases
    meta_path = second / "release.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["pipeline"]["name"] = "<script>alert(1)</script>"
    meta["tables"]["numbers"]["file"] = '../"><img src=x onerror=alert(1)>.parquet'
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    text = index_html(root)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # The file name is one path segment: it cannot climb out of its release folder.
    assert f'href="{second.name}/..%2F%22%3E%3Cimg' in text


def test_folders_that_are_not_releases_are_left_out(releases):
    root, first, second = releases
    (root / ".staging-abc").mkdir()
    (root / ".staging-abc" / "release.json").write_text("{}", encoding="utf-8")
    (root / "broken").mkdir()
    (root / "broken" / "release.json").write_text("{not json", encoding="utf-8")
    (root / "empty").mkdir()
    assert [r["version"] for r in parse_page(index_html(root))] == [second.name, first.name]


def test_write_index_replaces_the_page_atomically(releases):
    root, _, _ = releases
    (root / "index.html").write_text("old", encoding="utf-8")
    path = write_index(root)
    assert path == root / "index.html" and path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_no_releases_yet(tmp_path):
    root = tmp_path / "releases"
    root.mkdir()
    assert "No releases yet." in index_html(root)
