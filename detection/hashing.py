"""PDQ image hashes (256 bits, sent as 64 hex characters) and their multi-index form.

A hash is cut into 16 slots of 16 bits, each keyed as `slot_index * 65536 + value`. Two hashes within
Hamming distance 31 differ in at most 31 bits spread over 16 slots, so at least one slot differs in at
most one bit (pigeonhole: 16 x 2 > 31). A bank hash therefore stores its `neighbourhood`: for every slot,
its value and the 16 values one bit away (16 x 17 = 272 keys, in an int[] column with a GIN index); a
listing's hash probes it with its 16 exact `slots` (`&&`), and the exact distance is then checked with
`bit_count`. The bank is written rarely and read on every ingest, so the 272 keys go on the bank side and
a probe costs 16 index lookups, not 272.
"""

import re

HEX_RE = re.compile(r"^[0-9a-fA-F]{64}$")
SLOTS = 16
SLOT_BITS = 16
#: PDQ's published match threshold (bits out of 256).
MAX_DISTANCE = 31


def parse_pdq(value: str) -> str:
    """The hash in lower-case hex; ValueError unless it is 64 hex characters."""
    if not isinstance(value, str) or not HEX_RE.match(value):
        raise ValueError("A PDQ hash is 64 hexadecimal characters (256 bits).")
    return value.lower()


def to_bits(hex_hash: str) -> str:
    """The hash as a string of 256 '0'/'1' characters (PostgreSQL's bit(256) literal)."""
    return bin(int(hex_hash, 16))[2:].zfill(256)


def from_bits(bits: str) -> str:
    return f"{int(bits, 2):064x}"


def slots(hex_hash: str) -> list[int]:
    """The 16 slot keys of a hash: slot index in the high bits, the slot's 16-bit value in the low ones."""
    return [i << SLOT_BITS | int(hex_hash[i * 4 : i * 4 + 4], 16) for i in range(SLOTS)]


def neighbourhood(hex_hash: str) -> list[int]:
    """Every slot key within one bit of the hash's own, slot by slot (272 keys): what a bank hash stores."""
    keys = []
    for key in slots(hex_hash):
        keys.append(key)
        keys.extend(key ^ (1 << bit) for bit in range(SLOT_BITS))
    return keys


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
