#!/usr/bin/python3
# decrypt_reference.py — an independent decryptor of ripple_backup's encrypted objects,
# written from docs/encryption-format.md alone (not from the C code), on PyNaCl's
# bindings of libsodium's crypto_secretstream_xchacha20poly1305.  Test 102 runs it
# against objects the C encryptor wrote, to prove the document is enough.
#
#   decrypt_reference.py KEYFILE < object > plaintext   exit 0, or 1 with a reason
#   decrypt_reference.py --key-id KEYFILE               prints the key id (16 hex digits)
import base64
import binascii
import hashlib
import hmac
import re
import sys

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES as ABYTES,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL as TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE as TAG_MESSAGE,
    crypto_secretstream_xchacha20poly1305_init_pull as init_pull,
    crypto_secretstream_xchacha20poly1305_pull as pull,
    crypto_secretstream_xchacha20poly1305_state as State,
)
from nacl.exceptions import RuntimeError as NaclError

HEADER_LEN = 48


def fail(why):
    sys.stderr.write('decrypt_reference: %s\n' % why)
    sys.exit(1)


def read_key(path):
    text = open(path, 'rb').read()
    if text.endswith(b'\n'):
        text = text[:-1]
    if re.fullmatch(rb'[0-9a-fA-F]{64}', text):
        return binascii.unhexlify(text)
    if re.fullmatch(rb'[A-Za-z0-9+/]{43}=', text):
        key = base64.b64decode(text, validate=True)
        if len(key) == 32 and base64.b64encode(key) == text:
            return key
    fail('key file is not 64 hex digits or 44 base64 characters and a newline')


def key_id(key):
    return hmac.new(key, b'ripple_backup key id v1', hashlib.sha256).digest()[:8]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--key-id':
        print(key_id(read_key(sys.argv[2])).hex())
        return
    if len(sys.argv) != 2:
        fail('usage: decrypt_reference.py KEYFILE < object > plaintext')
    key = read_key(sys.argv[1])
    src = sys.stdin.buffer
    out = sys.stdout.buffer

    h = src.read(HEADER_LEN)
    if len(h) < HEADER_LEN or h[:8] != b'RIPBKENC':
        fail('not an encrypted object (or its header is cut)')
    if h[8] != 1 or h[9] != 1 or h[10:12] != b'\0\0':
        fail('version %d, algorithm %d or reserved bytes not of format version 1' % (h[8], h[9]))
    chunk = int.from_bytes(h[12:16], 'big')
    if not 64 <= chunk <= 4194304:
        fail('chunk size %d out of range' % chunk)
    if h[16:24] != key_id(key):
        fail('encrypted with key %s, not with this key (%s)' % (h[16:24].hex(), key_id(key).hex()))

    st = State()
    init_pull(st, h[24:48], key)
    n = 0
    tag = None
    piece = src.read(chunk + ABYTES)
    while piece:
        n += 1
        try:
            m, tag = pull(st, piece, h if n == 1 else None)
        except NaclError:
            fail('chunk %d failed authentication' % n)
        nxt = src.read(chunk + ABYTES)
        if tag == TAG_FINAL:
            if nxt:
                fail('data after the final chunk (chunk %d)' % n)
        elif tag != TAG_MESSAGE or len(piece) != chunk + ABYTES:
            fail('chunk %d: tag %d or length %d not allowed before the end' % (n, tag, len(piece)))
        out.write(m)
        piece = nxt
    if tag != TAG_FINAL:
        fail('truncated: no final chunk after chunk %d' % n)


main()
