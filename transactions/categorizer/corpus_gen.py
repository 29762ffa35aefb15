# ruff: noqa: E501 - hand-written data tables read best one entry a line
"""Deterministic generator of the labelled training corpus of raw bank strings.

For every PFC v2 detailed category it takes the hand-written merchants in ``corpus_spec`` (real
brands per country style plus local businesses built from name patterns) and prints each one
the way banks print statement lines in the US, UK, Canada, Australia and continental Europe:
POS and card prefixes, store numbers, card masks, cities and region codes, dates, reference
numbers, truncation, upper and mixed case.

Two template families are produced:

- ``A``: the training family (classic bank-core formats per country);
- ``B``: a differently styled held-out family (neobank / app-style lines: mixed case,
  "Card transaction at X, City", "Payment to X", lower case, short truncation). The model never
  trains on B; ``evaluate`` reports accuracy on it to show the model learned merchants and
  words, not our templates.

Run ``python -m transactions.categorizer.corpus_gen`` to rewrite
``transactions/data/categorizer_corpus.csv.gz``. The seed is fixed, so the output is
byte-for-byte reproducible for a given code version.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from transactions.categorizer.corpus_spec import POOLS, SPECS, Spec
from transactions.categorizer.taxonomy import DATA_DIR, detailed_categories

CORPUS_PATH = DATA_DIR / "categorizer_corpus.csv.gz"
CORPUS_COLUMNS = (
    "description",
    "amount",
    "payment_channel",
    "category_detailed",
    "merchant",
    "merchant_type",
    "country",
    "family",
)
DEFAULT_SEED = 20240601
COUNTRIES = ("US", "UK", "CA", "AU", "EU")
COUNTRY_WEIGHTS = (0.45, 0.2, 0.12, 0.12, 0.11)

# (city, region code) per country; the second half of each list are smaller towns that the
# normaliser's gazetteer does not know, as in real statements.
# fmt: off
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("NEW YORK", "NY"), ("BROOKLYN", "NY"), ("LOS ANGELES", "CA"), ("SAN FRANCISCO", "CA"),
        ("SEATTLE", "WA"), ("CHICAGO", "IL"), ("HOUSTON", "TX"), ("AUSTIN", "TX"), ("DALLAS", "TX"),
        ("PHOENIX", "AZ"), ("DENVER", "CO"), ("BOSTON", "MA"), ("ATLANTA", "GA"), ("MIAMI", "FL"),
        ("ORLANDO", "FL"), ("PORTLAND", "OR"), ("NASHVILLE", "TN"), ("CHARLOTTE", "NC"),
        ("MINNEAPOLIS", "MN"), ("DETROIT", "MI"), ("COLUMBUS", "OH"), ("PHILADELPHIA", "PA"),
        ("LAS VEGAS", "NV"), ("SAN DIEGO", "CA"), ("OAKLAND", "CA"),
        ("FREMONT", "CA"), ("PLANO", "TX"), ("KATY", "TX"), ("NAPERVILLE", "IL"), ("ROUND ROCK", "TX"),
        ("SCOTTSDALE", "AZ"), ("BELLEVUE", "WA"), ("CARY", "NC"), ("FRISCO", "TX"), ("TEMPE", "AZ"),
        ("DES MOINES", "IA"), ("BOZEMAN", "MT"), ("ITHACA", "NY"), ("ANN ARBOR", "MI"), ("MESA", "AZ"),
    ),
    "UK": (
        ("LONDON", "GB"), ("MANCHESTER", "GB"), ("BIRMINGHAM", "GB"), ("LEEDS", "GB"), ("GLASGOW", "GB"),
        ("EDINBURGH", "GB"), ("BRISTOL", "GB"), ("LIVERPOOL", "GB"), ("CARDIFF", "GB"), ("OXFORD", "GB"),
        ("NOTTINGHAM", "GB"), ("SHEFFIELD", "GB"),
        ("WATFORD", "GB"), ("GUILDFORD", "GB"), ("SWINDON", "GB"), ("HARROGATE", "GB"), ("STOCKPORT", "GB"),
        ("MILTON KEYNES", "GB"), ("CHELMSFORD", "GB"), ("BASINGSTOKE", "GB"), ("SLOUGH", "GB"), ("IPSWICH", "GB"),
    ),
    "CA": (
        ("TORONTO", "ON"), ("MONTREAL", "QC"), ("VANCOUVER", "BC"), ("CALGARY", "AB"), ("OTTAWA", "ON"),
        ("EDMONTON", "AB"), ("WINNIPEG", "MB"), ("HALIFAX", "NS"), ("VICTORIA", "BC"), ("MISSISSAUGA", "ON"),
        ("MARKHAM", "ON"), ("BURNABY", "BC"), ("LAVAL", "QC"), ("OAKVILLE", "ON"), ("GUELPH", "ON"),
        ("KELOWNA", "BC"), ("LETHBRIDGE", "AB"), ("MONCTON", "NB"), ("BARRIE", "ON"), ("RICHMOND HILL", "ON"),
    ),
    "AU": (
        ("SYDNEY", "NSW"), ("MELBOURNE", "VIC"), ("BRISBANE", "QLD"), ("PERTH", "WA"), ("ADELAIDE", "SA"),
        ("CANBERRA", "ACT"), ("HOBART", "TAS"), ("PARRAMATTA", "NSW"), ("CHATSWOOD", "NSW"),
        ("BONDI JUNCTION", "NSW"), ("FOOTSCRAY", "VIC"), ("TOOWONG", "QLD"), ("FREMANTLE", "WA"),
        ("GLENELG", "SA"), ("PENRITH", "NSW"), ("RINGWOOD", "VIC"), ("SOUTHPORT", "QLD"), ("JOONDALUP", "WA"),
    ),
    "EU": (
        ("BERLIN", "DE"), ("MUENCHEN", "DE"), ("HAMBURG", "DE"), ("FRANKFURT", "DE"), ("PARIS", "FR"),
        ("LYON", "FR"), ("MADRID", "ES"), ("BARCELONA", "ES"), ("AMSTERDAM", "NL"), ("ROTTERDAM", "NL"),
        ("MILANO", "IT"), ("ROMA", "IT"), ("DUBLIN", "IE"), ("WIEN", "AT"),
        ("POTSDAM", "DE"), ("HEIDELBERG", "DE"), ("VERSAILLES", "FR"), ("ANNECY", "FR"), ("GIRONA", "ES"),
        ("HAARLEM", "NL"), ("BERGAMO", "IT"), ("GALWAY", "IE"), ("SALZBURG", "AT"), ("BONN", "DE"),
    ),
}
COUNTRY_NAMES = {"US": "USA", "UK": "United Kingdom", "CA": "Canada", "AU": "Australia", "EU": ""}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# Template fields: {M} merchant as printed, {CITY} {ST} {CC}, {store}, {last4}, {mmdd},
# {mm_dd} (MM/DD), {ddmmyyyy} (DD-MM-YYYY), {dmy} (DD/MM/YYYY), {iso}, {ddMONyy}, {ref6},
# {ref10}, {ref12}, {ref16}, {phone}, {time}.
FAMILY_A: dict[str, dict[str, tuple[str, ...]]] = {
    "store": {
        "US": (
            "POS DEBIT {M} {store} {CITY} {ST}",
            "DEBIT CARD PURCHASE XXXXX{last4} {M} {CITY} {ST}",
            "CHECKCARD {mmdd} {M} {CITY} {ST} {ref16}",
            "PURCHASE AUTHORIZED ON {mm_dd} {M} {CITY} {ST} S{ref12} CARD {last4}",
            "{M} #{store} {CITY} {ST}",
            "{M} {store} {CITY} {ST}",
            "{M} {CITY} {ST}",
            "SQ *{M} {CITY} {ST}",
            "TST* {M} {CITY} {ST}",
            "POS PURCHASE {M} {CITY} {ST} {mm_dd}",
            "{M}",
        ),
        "UK": (
            "CARD PAYMENT TO {M} ON {ddmmyyyy}",
            "{M} {CITY} GB",
            "POS {last4} {ddMONyy} C {M} {CITY}",
            "VIS {M} {CITY}",
            "CONTACTLESS {M} {CITY} GB",
            "{M} {store} {CITY}",
            "{M} CD {last4}",
        ),
        "CA": (
            "INTERAC PURCHASE {store} {M} {CITY} {ST}",
            "IDP PURCHASE - {last4} {M} {CITY} {ST}",
            "POINT OF SALE - INTERAC RETAIL PURCHASE {ref12} {M}",
            "{M} #{store} {CITY} {ST}",
            "VISA DEBIT PURCHASE {M} {CITY} {ST}",
        ),
        "AU": (
            "EFTPOS {M} {CITY} {ST} AU",
            "VISA PURCHASE {M} {CITY} {ST} AUS CARD XX{last4} VALUE DATE: {dmy}",
            "{M} {CITY} {ST} AUS",
            "EFTPOS PURCHASE {M} {store} {CITY}",
        ),
        "EU": (
            "KARTENZAHLUNG {M} {CITY} {CC} {iso}",
            "PAIEMENT CB {mmdd} {CITY} {M}",
            "CB {M} {dd_mm} {CITY}",
            "COMPRA TARJ. {M} {CITY} {CC}",
            "{M} {CITY} {CC}",
            "GIROCARD {M} {store} {CITY}",
        ),
    },
    "web": {
        "US": (
            "{M} {phone} {ST}",
            "PAYPAL *{M} {phone} {ST}",
            "RECURRING PAYMENT AUTHORIZED ON {mm_dd} {M} {ST} S{ref12} CARD {last4}",
            "DEBIT CARD PURCHASE XXXXX{last4} {M} {ST}",
            "CHECKCARD {mmdd} {M} {phone} {ST} {ref16}",
            "{M}.COM {ST}",
            "{M}",
        ),
        "UK": ("{M} {phone} GB", "CARD PAYMENT TO {M} ON {ddmmyyyy}", "VIS {M} {CITY}", "PAYPAL *{M}", "{M} ONLINE"),
        "CA": ("{M} {phone} {ST}", "VISA DEBIT PURCHASE {M}", "{M} WWW"),
        "AU": ("VISA PURCHASE {M} {CITY} {ST} AUS CARD XX{last4} VALUE DATE: {dmy}", "{M} {phone} AU"),
        "EU": ("KARTENZAHLUNG {M} {iso}", "PAIEMENT CB {mmdd} {M}", "PAYPAL EUROPE {M}", "{M} {CC}"),
    },
    "bill": {
        "US": (
            "ACH DEBIT {M} PPD ID: {ref10}",
            "{M} BILL PAYMENT {ref10}",
            "ONLINE PMT {M} CONF# {ref6}",
            "{M} AUTOPAY {ref12}",
            "ELECTRONIC PMT {M}",
            "PREAUTHORIZED DEBIT {M} WEB ID: {ref10}",
            "{M} DES:PAYMENT ID:{ref10} INDN:{PERSON} CO ID:{ref10} PPD",
            "{M}",
        ),
        "UK": ("DD {M} {ref10}", "DIRECT DEBIT {M} REF {ref10}", "{M} DDR", "DD {M}", "BILL PAYMENT TO {M} REF {ref6}"),
        "CA": ("PRE-AUTHORIZED DEBIT {M}", "PAD {M} {ref10}", "BILL PAYMENT {M}", "MISC PAYMENT {M}"),
        "AU": ("DIRECT DEBIT {ref10} {M}", "BPAY {M} {ref10}", "{M} {ref12} DD"),
        "EU": ("SEPA-LASTSCHRIFT {M} MANDAT {ref10}", "PRLV SEPA {M} {ref10}", "RECIBO {M} {ref10}", "LASTSCHRIFT {M}"),
    },
    "credit": {
        "US": (
            "ACH CREDIT {M} PPD ID: {ref10}",
            "DIRECT DEP {M}",
            "DIRECT DEPOSIT {M} {ref10}",
            "{M} DES:DIR DEP ID:{ref10} INDN:{PERSON} CO ID:{ref10} PPD",
            "DEPOSIT {M} {ref6}",
            "{M} {ref10}",
            "{M}",
        ),
        "UK": ("BGC {M}", "FASTER PAYMENT RECEIVED {M} REF {ref10}", "FPI {M} {ref10}", "BANK GIRO CREDIT {M}", "{M}"),
        "CA": ("DIRECT DEPOSIT {M}", "PAYROLL DEP {M}", "DEPOSIT {M} {ref6}", "{M}"),
        "AU": ("DIRECT CREDIT {ref6} {M}", "OSKO DEPOSIT {M}", "{M} {ref10}", "{M}"),
        "EU": ("GUTSCHRIFT {M}", "SEPA-GUTSCHRIFT {M} {ref10}", "VIREMENT RECU {M}", "TRANSFERENCIA RECIBIDA {M}"),
    },
    "bank": {
        "US": ("{M}", "{M} {mm_dd}", "{M} {ref10}", "{M} XXXXXX{last4}", "{mm_dd} {M}"),
        "UK": ("{M}", "{M} {ddMONyy}", "{M} REF {ref10}"),
        "CA": ("{M}", "{M} {ref6}"),
        "AU": ("{M}", "{M} {ref10}", "{M} VALUE DATE: {dmy}"),
        "EU": ("{M}", "{M} {iso}", "{M} {ref10}"),
    },
}
FAMILY_B: dict[str, tuple[str, ...]] = {
    "store": (
        "{Mt}",
        "Card transaction at {Mt}, {City}",
        "{Mt} {City}",
        "{Mt} ({City}, {Country})",
        "Purchase at {Mt} on {Mon} {d}",
        "{Ml}",
        "APPLE PAY {M} {CITY}",
        "{M}*{ref6}",
        "To {Mt}",
        "{Mt} - {City}",
    ),
    "web": ("{Mt}", "{Mt} online purchase", "{Ml}", "Payment to {Mt}", "{Mt} subscription", "{M}*{ref6}", "{Mt} - web"),
    "bill": (
        "Direct Debit to {Mt}",
        "{Mt} - monthly payment",
        "Bill pay: {Mt}",
        "{Mt} autopay ref {ref6}",
        "Payment to {Mt}",
        "{Ml}",
    ),
    "credit": ("Payment from {Mt}", "{Mt} - deposit", "Incoming transfer from {Mt}", "{Mt} ref {ref6}", "{Ml}", "{Mt}"),
    "bank": ("{Mt}", "{Mt} ({Mon} {d})", "{Mt} - {ref6}", "{Ml}"),
}
# fmt: on
CHANNEL_BY_KIND = {
    "store": (("in store", 0.88), ("online", 0.06), ("other", 0.06)),
    "web": (("online", 0.9), ("other", 0.06), ("in store", 0.04)),
    "bill": (("other", 0.7), ("online", 0.3)),
    "credit": (("other", 0.95), ("online", 0.05)),
    "bank": (("other", 0.95), ("in store", 0.05)),
}
BRAND_ROWS_A, LOCAL_ROWS_A, ROWS_B = 8, 5, 2
# 60 local businesses per category: about two per local pattern, and a brand / local row mix
# (57 / 43) close to the first corpus (51 / 49) after the brand lists doubled.
LOCALS_PER_CATEGORY = 60


@dataclass(frozen=True)
class Merchant:
    name: str
    detailed: str
    country: str | None  # None: any country
    spec: Spec
    local: bool = False


def _split_brands(text: str) -> list[str]:
    return [b.strip() for b in text.split("|") if b.strip()]


def _fill(pattern: str, rng: random.Random) -> str:
    out = pattern
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        key = out[start + 1 : end]
        if key == "person":
            value = f"{rng.choice(POOLS['first'])} {rng.choice(POOLS['sur'])}"
        elif key == "co":
            value = f"{rng.choice(POOLS['sur'])} {rng.choice(POOLS['corp'])}"
        else:
            value = rng.choice(POOLS[key])
        out = out[:start] + value + out[end + 1 :]
    return out


def build_merchants(seed: int = DEFAULT_SEED) -> list[Merchant]:
    """All merchants: the brands listed per country plus generated local businesses."""
    rng = random.Random(seed)
    merchants: list[Merchant] = []
    for spec in SPECS:
        seen: set[str] = set()
        for country in ("us", "uk", "ca", "au", "eu", "any"):
            for brand in _split_brands(getattr(spec, country)):
                if brand not in seen:
                    seen.add(brand)
                    code = None if country == "any" else country.upper()
                    merchants.append(Merchant(brand, spec.detailed, code, spec))
        made, attempts = 0, 0
        while made < LOCALS_PER_CATEGORY and attempts < LOCALS_PER_CATEGORY * 20 and spec.local:
            attempts += 1
            name = _fill(rng.choice(spec.local), rng)
            if name not in seen:
                seen.add(name)
                merchants.append(Merchant(name, spec.detailed, None, spec, local=True))
                made += 1
    return merchants


def _amount(spec: Spec, rng: random.Random, kind: str) -> str:
    value = math.exp(rng.uniform(math.log(spec.lo), math.log(spec.hi)))
    if rng.random() < 0.15:  # round figures are common for bills, transfers, rent
        value = max(round(value), 1) if value >= 1 else value
    sign = spec.sign
    if kind in ("store", "web") and rng.random() < 0.03:
        sign = -sign  # refunds keep the merchant's category
    return f"{sign * value:.2f}"


def _channel(kind: str, rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for channel, weight in CHANNEL_BY_KIND[kind]:
        acc += weight
        if roll < acc:
            return channel
    return CHANNEL_BY_KIND[kind][0][0]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(n))


_VOWELS = set("AEIOU")


def _squeeze(word: str) -> str:
    """Drop inner vowels as card descriptors do: MARKET -> MRKT, FOODS -> FDS."""
    if len(word) <= 4 or not word.isalpha():
        return word
    return word[0] + "".join(c for c in word[1:] if c.upper() not in _VOWELS)


def abbreviate(name: str, rng: random.Random) -> str:
    """A descriptor-style abbreviation: WHOLE FOODS MARKET -> WHOLEFDS MRKT, or one squeezed word."""
    words = name.split()
    if len(words) >= 2 and rng.random() < 0.5:
        return " ".join([words[0] + _squeeze(words[1]), *map(_squeeze, words[2:])])
    index = max(range(len(words)), key=lambda i: len(words[i]))
    return " ".join(_squeeze(w) if i == index else w for i, w in enumerate(words))


def _truncate(text: str, width: int) -> str:
    return text[:width].rstrip()


def _fields(m: Merchant, country: str, rng: random.Random, family: str) -> dict[str, str]:
    city, region = rng.choice(CITIES[country])
    month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.randint(2021, 2026)
    name = m.name
    if family == "A":
        printed = name if rng.random() < 0.85 else name.title()
        if not m.local and rng.random() < 0.1:
            printed = abbreviate(printed, rng)
        if rng.random() < 0.3:
            printed = _truncate(printed, rng.choice((18, 20, 22, 25)))
    else:
        printed = _truncate(name, 16) if rng.random() < 0.2 else name
    fields = {
        "M": printed,
        "Mt": printed.title(),
        "Ml": printed.lower(),
        "CITY": city,
        "City": city.title(),
        "ST": region,
        "CC": region,
        "Country": COUNTRY_NAMES[country] or region,
        "store": rng.choice(
            (_digits(rng, rng.choice((3, 4, 5))), "0" + _digits(rng, 3), _digits(rng, 2))
        ),
        "last4": _digits(rng, 4),
        "mmdd": f"{month:02d}{day:02d}",
        "mm_dd": f"{month:02d}/{day:02d}",
        "dd_mm": f"{day:02d}/{month:02d}",
        "ddmmyyyy": f"{day:02d}-{month:02d}-{year}",
        "dmy": f"{day:02d}/{month:02d}/{year}",
        "iso": f"{year}-{month:02d}-{day:02d}",
        "ddMONyy": f"{day:02d}{MONTHS[month - 1]}{year % 100:02d}",
        "Mon": MONTHS[month - 1].title(),
        "d": str(day),
        "ref6": _alnum(rng, 6),
        "ref10": _digits(rng, 10),
        "ref12": _digits(rng, 12),
        "ref16": _digits(rng, 16),
        "phone": f"{rng.choice(('800', '888', '866', '855', '844'))}-{_digits(rng, 3)}-{_digits(rng, 4)}",
        "PERSON": f"{rng.choice(POOLS['sur'])} {rng.choice(POOLS['first'])}",
    }
    return fields


def _render(template: str, fields: dict[str, str]) -> str:
    text = template.format(**fields)
    return " ".join(text.split())


def _country_for(m: Merchant, rng: random.Random) -> str:
    if m.country is not None:
        return m.country
    return rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]


def generate_rows(seed: int = DEFAULT_SEED) -> Iterator[dict[str, str]]:
    """Yield corpus rows (plain dicts with CORPUS_COLUMNS) in a deterministic order."""
    rng = random.Random(seed + 1)
    for m in build_merchants(seed):
        kind = m.spec.kind
        n_a = LOCAL_ROWS_A if m.local else BRAND_ROWS_A
        home = _country_for(m, rng)  # a local business mostly stays in one country
        for family, count in (("A", n_a), ("B", ROWS_B)):
            for _ in range(count):
                stays = m.country is not None or (m.local and rng.random() < 0.8)
                country = home if stays else _country_for(m, rng)
                fields = _fields(m, country, rng, family)
                if family == "A":
                    template = rng.choice(FAMILY_A[kind][country])
                else:
                    template = rng.choice(FAMILY_B[kind])
                description = _render(template, fields)
                if family == "A" and rng.random() < 0.08:
                    description = description.title()
                yield {
                    "description": description,
                    "amount": _amount(m.spec, rng, kind),
                    "payment_channel": _channel(kind, rng),
                    "category_detailed": m.detailed,
                    "merchant": m.name,
                    "merchant_type": "local" if m.local else "brand",
                    "country": country,
                    "family": family,
                }


def write_corpus(path: Path = CORPUS_PATH, seed: int = DEFAULT_SEED) -> int:
    """Write the gzip CSV (mtime 0 so the bytes are reproducible). Returns the row count."""
    missing = set(detailed_categories()) - {s.detailed for s in SPECS}
    if missing:
        raise ValueError(f"corpus spec misses categories: {sorted(missing)}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CORPUS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in generate_rows(seed):
        writer.writerow(row)
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue().encode("utf-8"))
    return count


def load_corpus(path: Path = CORPUS_PATH) -> list[dict[str, str]]:
    """Read the shipped corpus as a list of plain dicts."""
    if not path.exists():
        raise FileNotFoundError(
            f"corpus {path} is missing; run `python -m transactions.categorizer.corpus_gen`"
        )
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the categoriser training corpus.")
    parser.add_argument("--out", type=Path, default=CORPUS_PATH)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    count = write_corpus(args.out, args.seed)
    print(f"wrote {count} rows to {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
