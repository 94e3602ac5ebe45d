#!/usr/bin/env python3
"""Writes small fuzz seeds from the reference files: every GGUF and safetensors header kept (keys,
value types, tensor names, dtypes, ranks) but each tensor shrunk to one block of zeros, so that the
fuzzer's mutations land in the header instead of megabytes of weights.

usage: fuzz_seeds.py SHARED_DIR GGUF_OUT_DIR SAFETENSORS_OUT_DIR
"""
import glob
import hashlib
import json
import os
import struct
import sys

# ggml type number -> (elements per block, bytes per block)
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
          10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
          16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
          22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
          29: (256, 56), 30: (1, 2)}
SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def skip_value(buf, pos, vtype):
    if vtype in SCALARS:
        return pos + SCALARS[vtype]
    if vtype == 8:
        (n,) = struct.unpack_from('<Q', buf, pos)
        return pos + 8 + n
    (etype, count) = struct.unpack_from('<IQ', buf, pos)
    pos += 12
    if etype in SCALARS:
        return pos + count * SCALARS[etype]
    for _ in range(count):
        pos = skip_value(buf, pos, etype)
    return pos


def shrink_gguf(buf):
    (version, n_tensors, n_kv) = struct.unpack_from('<IQQ', buf, 4)
    pos = 24
    alignment = 32
    for _ in range(n_kv):
        (klen,) = struct.unpack_from('<Q', buf, pos)
        key = buf[pos + 8:pos + 8 + klen]
        pos += 8 + klen
        (vtype,) = struct.unpack_from('<I', buf, pos)
        if key == b'general.alignment':
            (alignment,) = struct.unpack_from('<I', buf, pos + 4)
        pos = skip_value(buf, pos + 4, vtype)
    kv_end = pos
    infos = b''
    offset = 0
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from('<Q', buf, pos)
        name = buf[pos:pos + 8 + nlen]
        pos += 8 + nlen
        (n_dims,) = struct.unpack_from('<I', buf, pos)
        pos += 4 + 8 * n_dims
        (ttype, _) = struct.unpack_from('<IQ', buf, pos)
        pos += 12
        elems, nbytes = BLOCKS[ttype]
        infos += name + struct.pack('<I', n_dims) + struct.pack('<q', elems) + struct.pack('<q', 1) * (n_dims - 1)
        infos += struct.pack('<IQ', ttype, offset)
        offset += (nbytes + alignment - 1) // alignment * alignment
    out = bytearray(buf[:kv_end]) + infos
    out += b'\0' * (-len(out) % alignment) + b'\0' * offset
    vocab_only = bytearray(buf[:kv_end])
    struct.pack_into('<Q', vocab_only, 8, 0)
    return [bytes(out), bytes(vocab_only)]


def shrink_safetensors(buf):
    (hlen,) = struct.unpack_from('<Q', buf, 0)
    header = json.loads(buf[8:8 + hlen])
    sizes = {'F32': 4, 'F16': 2, 'BF16': 2, 'I32': 4, 'I64': 8, 'F64': 8, 'I8': 1}
    offset = 0
    names = sorted((k for k in header if k != '__metadata__'), key=lambda k: header[k]['data_offsets'][0])
    for name in names:
        entry = header[name]
        shape = [1] * len(entry['shape'])
        if shape:
            shape[-1] = min(entry['shape'][-1], 2)
        n = sizes[entry['dtype']]
        for d in shape:
            n *= d
        entry['shape'] = shape
        entry['data_offsets'] = [offset, offset + n]
        offset += n
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    return [struct.pack('<Q', len(text)) + text + b'\0' * offset]


def write_seeds(seeds, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for seed in seeds:
        with open(os.path.join(out_dir, hashlib.sha1(seed).hexdigest()), 'wb') as f:
            f.write(seed)


def main():
    shared, gguf_out, st_out = sys.argv[1:4]
    # The vocab-only files (models/vocab) are megabytes of strings: too slow to mutate, so not seeds.
    ggufs = glob.glob(f'{shared}/fixtures/**/*.gguf', recursive=True) + glob.glob(f'{shared}/models/stories260K/*.gguf')
    seeds = []
    for path in sorted(ggufs):
        with open(path, 'rb') as f:
            seeds += shrink_gguf(f.read())
    write_seeds(seeds, gguf_out)
    seeds = []
    for path in sorted(glob.glob(f'{shared}/fixtures/hf/*/*.safetensors')):
        with open(path, 'rb') as f:
            seeds += shrink_safetensors(f.read())
    write_seeds(seeds, st_out)


if __name__ == '__main__':
    main()
