"""Regenerates test/tokenizer/hf-reference/reference.json: token ids produced by Hugging Face
transformers' BertTokenizer (backed by the Rust `tokenizers` library, = BertTokenizerFast) for the
tricky-case table and for seeded random strings that mix every character class BERT's normalizer
treats specially, under each BertTokenizer option combination.

Optional developer tool, not run by the tests (which only read the JSON it writes). Needs
`pip install transformers tokenizers` (transformers 5.18.0 / tokenizers 0.23.2 were used).
Usage: python test/tokenizer/hf-reference/make_reference.py
"""
import json
import os
import random
import tempfile

import tokenizers
import transformers
from transformers import BertTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
VOCAB_DIR = os.path.join(ROOT, "test", "fixtures", "tiny-bert")
TRICKY = os.path.join(HERE, "..", "tricky-cases.json")

with open(os.path.join(VOCAB_DIR, "vocab.txt"), encoding="utf-8") as f:
    VOCAB = [line.rstrip("\n") for line in f]
WORDS = [t for t in VOCAB if not t.startswith("[") and not t.startswith("##") and len(t) > 1]
CONTINUATIONS = [t[2:] for t in VOCAB if t.startswith("##") and len(t) > 2]
CJK_COMMON = [t for t in VOCAB if len(t) == 1 and 0x4E00 <= ord(t) <= 0x9FFF]


def r(a, b):
    return [chr(c) for c in range(a, b + 1)]


CLASSES = {
    "cjk_common": CJK_COMMON,
    "cjk_rare": r(0x3400, 0x3410) + r(0x9FF0, 0x9FFF) + r(0xF900, 0xF90F) + r(0xFA60, 0xFA6F)
    + [chr(c) for c in (0x20000, 0x20001, 0x2A6DF, 0x2A700, 0x2B73F, 0x2B740, 0x2B81F, 0x2B820, 0x2B850,
                         0x2B91F, 0x2B920, 0x2CEAF, 0x2CEB0, 0x2EBE0, 0x30000, 0x2F800, 0x2FA1D)],
    "ascii_lower": r(0x61, 0x7A),
    "ascii_upper": r(0x41, 0x5A),
    "digits": r(0x30, 0x39),
    "ascii_punct": r(0x21, 0x2F) + r(0x3A, 0x40) + r(0x5B, 0x60) + r(0x7B, 0x7E),
    "latin_accented": r(0xC0, 0xFF) + r(0x100, 0x17F) + list("ǅǈǋǲẞİıſﬀﬁ"),
    "combining": r(0x300, 0x36F) + [chr(c) for c in (0x1AB0, 0x1AC0, 0x1AC1, 0x1DFA, 0x898, 0x89F, 0x20D0, 0x20E3, 0xFE0F, 0xFE00, 0x302A)],
    "greek_cyrillic": list("ΑΒΓΔΕΣσςΩάέήίόύώΐΰϊϋ") + r(0x410, 0x44F) + list("ЁёЇїІі"),
    "fullwidth": r(0xFF01, 0xFF5E) + r(0x3001, 0x3003) + r(0x3008, 0x3011) + list("…—–‘’“”·•‰※〜～"),
    "unicode_punct": r(0x2010, 0x2027) + r(0x2030, 0x205E) + [chr(c) for c in (0xA1, 0xA7, 0xAB, 0xB6, 0xB7, 0xBB, 0xBF, 0x37E, 0x387, 0x55A, 0x589, 0x5BE, 0x61D, 0x61F, 0x66A, 0x6D4, 0x964, 0xE4F, 0x1800, 0x2E43, 0x2E4F, 0x2E52, 0x2E5D, 0xFE10, 0xFE30, 0xFE50, 0x1056F, 0x11140, 0x16FE2, 0x1E95E, 0x10EAD)],
    "symbols": list("^$`=+<>|~¢£¥©®°±µ×÷€™←→∑√∞≠≤≥≮≯῾῭´¨¯˜ˆ℃№") + [chr(c) for c in (0x1FEF, 0x1FFD, 0x2126, 0x212A, 0x212B)],
    "whitespace": list(" \t\n\r\u3000\u00a0\u2028\u2029\u1680\u2000\u2003\u200a\u202f\u205f\x0b\x0c\x85\x1c\x1f"),
    "control": ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x80", "\x9f", "\xad", "\u200b", "\u200c", "\u200d", "\u200e",
                "\u202a", "\u2060", "\u2066", "\ufeff", "\ufffd", "\ufff9", "\ue000", "\uf8ff", "\U000F0000",
                "\U00100000", "\U000E0001", "\U000E0041", "\u0600", "\u061c", "\u180e", "\u0890", "\u08e2",
                "\U00013430", "\U0001BCA0", "\U0001D173", "\u0378", "\ufffe", "\uffff", "\U0001FFFF", "\U0010FFFF"],
    "emoji": ["😀", "🥰", "👍", "👍🏽", "👨‍👩‍👧", "🇨🇳", "❤️", "1️⃣", "🫠", "🪿", "✓", "★", "☺", "🀄"],
    "other_scripts": list("가나다한국어각힣ㄱㅏあいうアイウカタカナ한ไทยภาษา्िक्षعربيहिन्दी") + [chr(c) for c in (0x105C9, 0x11383, 0x16121, 0x1109A, 0x1D15E)],
    "special": ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[SEP", "[[CLS]]", "[unused1]", "##", "#", "###"],
}
WEIGHTS = {"cjk_common": 8, "ascii_lower": 6, "ascii_upper": 2, "digits": 2, "whitespace": 4}


def random_text(rng, max_len):
    pieces = []
    n = rng.randint(0, max_len)
    names = list(CLASSES)
    weights = [WEIGHTS.get(k, 1) for k in names]
    while len("".join(pieces)) < n:
        roll = rng.random()
        if roll < 0.12:
            # Real vocabulary words, sometimes glued to continuation pieces or upper-cased, so that the
            # greedy longest-match and "##" paths are exercised rather than only [UNK].
            w = rng.choice(WORDS) + "".join(rng.choice(CONTINUATIONS) for _ in range(rng.randint(0, 3)))
            pieces.append(w.upper() if rng.random() < 0.2 else w)
        elif roll < 0.14:
            pieces.append(rng.choice("aé1中") * rng.randint(95, 105))
        else:
            cls = rng.choices(names, weights)[0]
            run = rng.randint(1, 4)
            pieces.append("".join(rng.choice(CLASSES[cls]) for _ in range(run)))
    return "".join(pieces)


def encode_all(tok, texts, max_length):
    return [tok(t, max_length=max_length, truncation=True)["input_ids"] for t in texts]


def main():
    rng = random.Random(20240611)
    configs = [
        ("default", {}, 900),
        ("no_lower_case", {"do_lower_case": False}, 250),
        ("lower_keep_accents", {"do_lower_case": True, "strip_accents": False}, 250),
        ("strip_accents_only", {"do_lower_case": False, "strip_accents": True}, 150),
        ("no_chinese_split", {"tokenize_chinese_chars": False}, 150),
    ]
    with open(TRICKY, encoding="utf-8") as f:
        tricky = json.load(f)
    out = {
        "generator": f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, BertTokenizer.from_pretrained(test/fixtures/tiny-bert, **options)",
        "groups": [],
    }
    for name, options, count in configs:
        tok = BertTokenizer.from_pretrained(VOCAB_DIR, **options)
        cases = []
        for t in tricky:
            if t.get("options", {}) == options and not t.get("jsOnly"):
                ml = t.get("maxLength", 128)
                cases.append({"text": t["text"], "maxLength": ml, "ids": encode_all(tok, [t["text"]], ml)[0]})
        for _ in range(count):
            text = random_text(rng, 70)
            ml = rng.choice([128, 128, 128, 128, 2, 5, 16])
            cases.append({"text": text, "maxLength": ml, "ids": encode_all(tok, [text], ml)[0]})
        out["groups"].append({"name": name, "options": options, "cases": cases})

    # vocab.txt parsing: CRLF, a lone CR, trailing spaces, duplicates, an empty line.
    vocab_text = "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nab \r\nab\r\ncd\rx\n##x\n\nab\n##b\t\ny\u3000\n"
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(vocab_text)
        tok = BertTokenizer.from_pretrained(d)
        texts = ["ab cd x abx ab abb y cd\rx", "AB ABX xb", "abab"]
        out["vocabParsing"] = {
            "vocabText": vocab_text,
            "vocab": tok.get_vocab(),
            "cases": [{"text": t, "maxLength": 128, "ids": ids} for t, ids in zip(texts, encode_all(tok, texts, 128))],
        }
    with open(os.path.join(HERE, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
