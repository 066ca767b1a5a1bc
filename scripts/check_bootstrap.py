#!/usr/bin/env python3
"""Check the Lambda artifact `cargo lambda build` produced, by reading its ELF headers.

    python3 scripts/check_bootstrap.py [--arch arm64|x86-64] [PATH]

PATH defaults to target/lambda/harbor-flashduty/bootstrap (under CARGO_TARGET_DIR
when that is set). --arch says what the build was asked for: arm64 (the
default; the SAM template's Architectures) or x86-64 (the fallback when the
aarch64 standard library cannot be installed).

Checks, each printed as PASS or FAIL:

* the file exists, is executable (Lambda's provided.al2023 runtime runs it as
  /var/task/bootstrap) and is not empty;
* ELF magic, 64-bit class, little-endian, an executable or PIE (ET_EXEC/ET_DYN);
* e_machine is 183 (EM_AARCH64) for arm64, 62 (EM_X86_64) for x86-64;
* the program interpreter is glibc's loader for that architecture
  (/lib/ld-linux-aarch64.so.1, /lib64/ld-linux-x86-64.so.2);
* every GLIBC_2.x version the binary requires exists in Amazon Linux 2023's
  glibc (2.34), read from the .gnu.version_r section;
* the size stays under Lambda's 250 MB limit for an unzipped package.

Prints the size in bytes and MB and ends with `N passed, M failed`; exits 1
when anything failed. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = "harbor-flashduty"

ARCHES = {
    # --arch: (e_machine, name, program interpreter)
    "arm64": (183, "aarch64 (EM_AARCH64)", "/lib/ld-linux-aarch64.so.1"),
    "x86-64": (62, "x86-64 (EM_X86_64)", "/lib64/ld-linux-x86-64.so.2"),
}
MACHINE_NAMES = {3: "i386", 40: "arm (32-bit)", 62: "x86-64", 183: "aarch64", 243: "riscv"}
AL2023_GLIBC = (2, 34)
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024

ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3
SHT_GNU_VERNEED = 0x6FFFFFFE


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {what}{': ' + detail if detail else ''}")
        return ok


def default_path() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    return target / "lambda" / BIN / "bootstrap"


def c_string(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset : end if end >= 0 else len(data)].decode("ascii", "replace")


def interpreter(data: bytes, phoff: int, phentsize: int, phnum: int) -> str | None:
    """The PT_INTERP path of a 64-bit little-endian ELF, if it has one."""
    for i in range(phnum):
        base = phoff + i * phentsize
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, base)
        if p_type == PT_INTERP:
            return c_string(data[p_offset : p_offset + p_filesz], 0)
    return None


def required_glibc(data: bytes, shoff: int, shentsize: int, shnum: int) -> list[tuple[int, ...]] | None:
    """The GLIBC_x.y versions named by .gnu.version_r (None when there is no such section)."""
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
        sections.append(struct.unpack_from("<IIQQQQIIQQ", data, base))
    verneed = [s for s in sections if s[1] == SHT_GNU_VERNEED]
    if not verneed:
        return None
    versions: set[tuple[int, ...]] = set()
    for _name, _type, _flags, _addr, offset, _size, link, count, _align, _entsize in verneed:
        strtab = sections[link]
        strings = data[strtab[4] : strtab[4] + strtab[5]]
        entry = offset
        for _ in range(count):  # Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _version, aux_count, _file, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            aux_at = entry + aux
            for _ in range(aux_count):  # Elf64_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _hash, _vflags, _other, name, aux_next = struct.unpack_from("<IHHII", data, aux_at)
                label = c_string(strings, name)
                if label.startswith("GLIBC_2."):
                    try:
                        versions.add(tuple(int(p) for p in label[len("GLIBC_") :].split(".")))
                    except ValueError:
                        pass
                if not aux_next:
                    break
                aux_at += aux_next
            if not next_entry:
                break
            entry += next_entry
    return sorted(versions)


def main() -> int:
    ap = argparse.ArgumentParser(description="Check the cargo lambda build artifact (see the module docstring).")
    ap.add_argument("--arch", choices=sorted(ARCHES), default="arm64", help="the architecture the build was asked for (default arm64)")
    ap.add_argument("path", nargs="?", type=Path, help="the bootstrap file (default target/lambda/harbor-flashduty/bootstrap)")
    args = ap.parse_args()
    path: Path = args.path or default_path()
    want_machine, want_name, want_interp = ARCHES[args.arch]
    checks = Checks()

    print(f"checking {path} (expected: 64-bit ELF for {want_name})")
    if not checks.check(path.is_file(), "the bootstrap file exists", str(path)):
        print(f"{checks.passed} passed, {checks.failed} failed")
        return 1
    data = path.read_bytes()
    size = len(data)
    print(f"size: {size} bytes ({size / 1_000_000:.2f} MB, {size / 1024 / 1024:.2f} MiB)")
    checks.check(size > 0, "the file is not empty")
    checks.check(os.access(path, os.X_OK), "the file is executable", oct(path.stat().st_mode & 0o777))
    checks.check(size < LAMBDA_UNZIPPED_LIMIT, "smaller than Lambda's 250 MB unzipped limit")

    if not checks.check(data[:4] == b"\x7fELF", "ELF magic", repr(data[:4])) or len(data) < 64:
        print(f"{checks.passed} passed, {checks.failed} failed")
        return 1
    ei_class, ei_data = data[4], data[5]
    checks.check(ei_class == 2, "64-bit ELF (EI_CLASS 2)", f"EI_CLASS {ei_class}")
    if not checks.check(ei_data == 1, "little-endian (EI_DATA 1)", f"EI_DATA {ei_data}") or ei_class != 2:
        print(f"{checks.passed} passed, {checks.failed} failed")
        return 1

    (e_type, e_machine, _version, _entry, e_phoff, e_shoff, _flags, _ehsize,
     e_phentsize, e_phnum, e_shentsize, e_shnum, _shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    checks.check(e_type in (ET_EXEC, ET_DYN), "an executable (ET_EXEC or ET_DYN)", f"e_type {e_type}")
    got_name = MACHINE_NAMES.get(e_machine, "unknown")
    checks.check(e_machine == want_machine, f"e_machine {want_machine} = {want_name}", f"e_machine {e_machine} ({got_name})")

    interp = interpreter(data, e_phoff, e_phentsize, e_phnum)
    checks.check(interp == want_interp, f"program interpreter {want_interp} (glibc, as on provided.al2023)", f"{interp}")

    versions = required_glibc(data, e_shoff, e_shentsize, e_shnum) if e_shnum else None
    if versions is None:
        checks.check(interp is None, "no glibc version requirements (statically linked)")
    else:
        newest = versions[-1] if versions else None
        shown = ".".join(map(str, newest)) if newest else "none"
        checks.check(newest is None or newest <= AL2023_GLIBC,
                     f"required glibc <= {'.'.join(map(str, AL2023_GLIBC))} (Amazon Linux 2023)",
                     f"newest required GLIBC_{shown}")

    print(f"architecture: {got_name}{' (x86-64 fallback build, not arm64)' if args.arch == 'x86-64' else ''}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
