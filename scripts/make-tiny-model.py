#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model for the test suite's llama.cpp server.

No model weights can be downloaded here, so the suite makes one: 2 layers, width 64, weights
from a fixed seed (the file is byte-identical run to run), and llama.cpp's own 32,000-token
SentencePiece vocabulary copied from a vocab-only GGUF in its sources. It is not a language
model worth reading: its answers are chains of English-looking words that depend on the whole
conversation (attention and feed-forward weights are random, not zero).

Two choices make it convenient to test against:
- Only "word" tokens (a leading space and 3 to 12 lowercase ASCII letters) can be generated:
  every embedding carries a constant in dimension 0 that no layer changes, and the output row of
  every other token (end of text, bytes, punctuation, pieces of words) has a large negative weight
  there. So every token is one whole word, no answer ever ends on its own (it runs to max_tokens
  or a stop sequence), and no token is an incomplete UTF-8 byte.
- A ChatML template is embedded (`tokenizer.chat_template`), so the server renders conversations.

Usage: make-tiny-model.py --vocab ggml-vocab-llama-spm.gguf --out tiny-llama.gguf
"""

import argparse
import re

import gguf
import numpy as np

SEED = 20261202
N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYER = 2
N_CTX_TRAIN = 8192
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
WORD = re.compile(r"^\u2581[a-z]{3,12}$")


def field(reader, name):
    """A scalar or array field of the vocabulary file, as Python values."""
    f = reader.fields[name]
    return f.contents()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    vocab = gguf.GGUFReader(args.vocab)
    tokens = field(vocab, "tokenizer.ggml.tokens")
    scores = field(vocab, "tokenizer.ggml.scores")
    types = field(vocab, "tokenizer.ggml.token_type")
    n_vocab = len(tokens)
    allowed = np.array([bool(WORD.match(t)) for t in tokens])

    rng = np.random.default_rng(SEED)

    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_name("fabstir tiny test model (random weights, not a language model)")
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model(field(vocab, "tokenizer.ggml.model"))
    writer.add_tokenizer_pre(field(vocab, "tokenizer.ggml.pre"))
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(field(vocab, "tokenizer.ggml.bos_token_id"))
    writer.add_eos_token_id(field(vocab, "tokenizer.ggml.eos_token_id"))
    writer.add_unk_token_id(field(vocab, "tokenizer.ggml.unknown_token_id"))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    # Dimension 0 of the residual stream is a constant 4 that no layer writes to (their output
    # rows 0 are zero), so after the final norm it acts as a bias input for the output layer.
    embd = normal(n_vocab, N_EMBD)
    embd[:, 0] = 4.0
    writer.add_tensor("token_embd.weight", embd.astype(np.float16))
    for layer in range(N_LAYER):
        p = f"blk.{layer}."
        writer.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v"):
            writer.add_tensor(p + name + ".weight", normal(N_EMBD, N_EMBD, scale=0.5).astype(np.float16))
        out = normal(N_EMBD, N_EMBD, scale=0.5)
        out[0, :] = 0.0
        writer.add_tensor(p + "attn_output.weight", out.astype(np.float16))
        writer.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(p + "ffn_gate.weight", normal(N_FF, N_EMBD, scale=0.5).astype(np.float16))
        writer.add_tensor(p + "ffn_up.weight", normal(N_FF, N_EMBD, scale=0.5).astype(np.float16))
        down = normal(N_EMBD, N_FF, scale=0.5)
        down[0, :] = 0.0
        writer.add_tensor(p + "ffn_down.weight", down.astype(np.float16))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = normal(n_vocab, N_EMBD, scale=2.0)
    output[:, 0] = np.where(allowed, 0.0, -1000.0)
    writer.add_tensor("output.weight", output.astype(np.float16))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {args.out}: {n_vocab} tokens, {int(allowed.sum())} of them can be generated")


if __name__ == "__main__":
    main()
