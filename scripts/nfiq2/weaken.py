"""Marks an ELF library's need for one glibc symbol version as weak (VER_FLG_WEAK), so the
dynamic loader no longer refuses to load it where that version is missing; the symbols then
resolve to the preloaded shim (shim.c). Prints how many needs it changed."""

import struct
import sys

VER_FLG_WEAK = 0x2
SHT_GNU_VERNEED = 0x6FFFFFFE


def weaken(path, version):
    b = bytearray(open(path, "rb").read())
    if b[:4] != b"\x7fELF" or b[4] != 2 or b[5] != 1:
        sys.exit(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", b, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    changed = 0
    for s in sections:
        if s[1] != SHT_GNU_VERNEED:
            continue
        strings = sections[s[6]][4]
        need = s[4]
        while True:
            _, count, _, aux, next_need = struct.unpack_from("<HHIII", b, need)
            entry = need + aux
            for _ in range(count):
                _, flags, _, name, next_entry = struct.unpack_from("<IHHII", b, entry)
                start = strings + name
                if bytes(b[start:b.index(b"\0", start)]) == version:
                    struct.pack_into("<H", b, entry + 4, flags | VER_FLG_WEAK)
                    changed += 1
                entry += next_entry
            if next_need == 0:
                break
            need += next_need
    open(path, "wb").write(b)
    return changed


if __name__ == "__main__":
    version = sys.argv[1].encode()
    for p in sys.argv[2:]:
        print(p, weaken(p, version))
