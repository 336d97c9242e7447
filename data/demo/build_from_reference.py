#!/usr/bin/env python3
"""Build the published part of the Xinjiang demo bundle from shared/reference/.

Run from the repository root:  python3 data/demo/build_from_reference.py ../shared/reference
It rewrites data/demo/xinjiang-2010/{program,quota_periods,regions,pairs,indicators,facts,targets}.csv.
Every row keeps the source and confidence of the reference row it comes from. The simulated
record-level data (projects, money, people, outcome series) is made by `counterpart demo`.
"""
import csv
import re
import sys
from pathlib import Path

REF = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
OUT = Path(__file__).resolve().parent / "xinjiang-2010"
PROV = ["provenance", "source", "confidence"]


def slug(text):
    text = re.sub(r"\(.*?\)", "", text).strip().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def publication(source):
    """A source as readers know it: the publication, never the team's notes or files.

    The reference files cite their rows as "research-notes.md §5b (no source named there)",
    "… (per research-notes.md §5c)" or "… (shared/reference/x.csv)": the notes are ours, not a
    publication. What the notes attribute to a publication keeps its name; what they do not
    says so.
    """
    s = re.sub(r"\s*\((?:per |as cited in )?research-notes\.md[^)]*\)", "", source)
    s = re.sub(r"\s*\(shared/reference/[^)]*\)", "", s)
    s = re.sub(r"research-notes\.md(?: §[0-9a-z.]+)?(?: \(no source named there\))?;\s*", "", s)
    s = re.sub(r"research-notes\.md(?: §[0-9a-z.]+)?(?: inference)?(?: \(no source named there\))?",
               "publication not named", s)
    s = s.replace("seed news article", "news article (not named)")
    s = s.replace("sum of providers.csv", "sum of the providers' published figures")
    return s.strip()


def note(text):
    return re.sub(r"research-notes\.md(?: author's)?", "the team's research notes", text)


def write(name, header, rows):
    sources = [i for i, h in enumerate(header) if h in ("source", "rules_source")]
    notes = [i for i, h in enumerate(header) if h == "note"]
    rows = [[publication(c) if i in sources else note(c) if i in notes and isinstance(c, str) else c
             for i, c in enumerate(row)] for row in rows]
    with open(OUT / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def read(name):
    with open(REF / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


providers = read("providers.csv")
prefectures = read("prefectures.csv")
pairings = read("xinjiang-pairings-2010.csv")
facts = read("program-facts.csv")
fact = {f["key"]: f for f in facts}

# --- regions -------------------------------------------------------------------------------
regions = [["china", "", "country", "China", "中国", ""]]
kinds = {"municipality": "municipality", "province": "province", "sub_provincial_city": "sub_provincial_city"}
for p in providers:
    parent = slug(p["parent_en"]) if p["parent_en"] else "china"
    regions.append([slug(p["provider_en"]), parent, kinds[p["kind"]], p["provider_en"], p["provider_zh"], ""])
regions.append(["xinjiang", "china", "autonomous_region", "Xinjiang Uygur Autonomous Region", "新疆维吾尔自治区", ""])
regions.append(["xpcc", "xinjiang", "xpcc", "Xinjiang Production and Construction Corps", "新疆生产建设兵团", ""])
pref_code = {}
for p in prefectures:
    code = "ili" if p["prefecture_en"].startswith("Ili") else slug(p["prefecture_en"])
    pref_code[p["prefecture_en"]] = code
    kind = "city" if p["prefecture_en"] == "Karamay" else "prefecture"
    regions.append([code, "xinjiang", kind, p["prefecture_en"], p["prefecture_zh"], ""])

unit_kind = {"city": "county_level_city", "county": "county", "xpcc_division": "xpcc_division"}
pairs = []
for row in pairings:
    if row["recipient_kind"] == "xpcc_division":
        number = row["recipient_en"].split()[0].lower()
        code, parent = f"xpcc.{number}-division", "xpcc"
    else:
        parent = pref_code[row["recipient_prefecture_en"]]
        code = f"{parent}.{slug(row['recipient_en'])}"
    regions.append([code, parent, unit_kind[row["recipient_kind"]], row["recipient_en"], row["recipient_zh"], ""])
    pairs.append([slug(row["provider_en"]), code, 2010, "", "published",
                  "2010 pairing table (shared/reference/xinjiang-pairings-2010.csv)", row["confidence"], row["note"]])
write("regions", ["code", "parent", "kind", "name_en", "name_zh", "admin_code"], regions)
write("pairs", ["provider", "recipient", "first_year", "last_year", *PROV, "note"], pairs)

# --- program and quota rule ------------------------------------------------------------------
write("program", ["code", "name_en", "name_zh", "currency", "first_year", "last_year", "livelihood_share_min",
                  "county_level_share_min", "rules_source"], [[
    "xinjiang-2010", "Pairing assistance to Xinjiang, 2010 round", "对口援疆（2010年新一轮）", "CNY", 2010, 2019,
    "70%", "80%",
    f"livelihood ≥70%: {fact['xj.rule.livelihood_share_min_early']['source_url_or_publication']} [V]; "
    f"county level and below ≥80%: {fact['xj.rule.county_level_share_min']['source_url_or_publication']} [V]",
]])
rule_source = fact["xj.rule.quota_share_min"]["source_url_or_publication"]
write("quota_periods", ["first_year", "last_year", "indicator", "base_year", "growth", "growth_years", "rate_min",
                        "rate_max", *PROV], [
    # Rate band and 8% growth [V]; the fixed 2009 base year is the research notes' inference [L].
    [2011, 2015, "fiscal_revenue", 2009, "8%", 4, "0.3%", "0.6%", "published",
     f"{rule_source} (band and +8%/yr [V]); fixed base year 2009: research-notes.md §0.2 inference [L]", "L"],
    # No published rule after 2015: a simulated setting calibrated to the published 2018 and 2019 totals.
    [2016, 2020, "fiscal_revenue", 2009, "16%", 4, "0.3%", "0.6%", "simulated", "", ""],
])

# --- published indicators --------------------------------------------------------------------
indicators = []
BN = 100 * 10**9  # fen per bn yuan
for p in providers:
    src = "NBS initial 2019 figures, approximate (shared/reference/providers.csv)"
    code = slug(p["provider_en"])
    indicators.append([code, "gdp", 2019, 1, int(p["gdp_2019_bn_yuan"]) * BN, "published", src, "M"])
    indicators.append([code, "fiscal_revenue", 2019, 1, int(p["fiscal_revenue_2019_bn_yuan"]) * BN, "published", src, "L"])
for p in prefectures:
    code = pref_code[p["prefecture_en"]]
    if p["population_2020"]:
        indicators.append([code, "population", 2020, 1, int(p["population_2020"]), "published",
                           "7th national census 2020 (shared/reference/prefectures.csv)", p["confidence"]])
    if p["population_2010"]:
        indicators.append([code, "population", 2010, 1, int(p["population_2010"]), "published",
                           "2020 census minus reported 2010-2020 growth (shared/reference/prefectures.csv)", "M"])
tash = "kashgar.tashkurgan-tajik-autonomous-county"
tsrc = fact["tashkurgan.poverty.registered_poor_2018"]["source_url_or_publication"]
indicators.append([tash, "registered_poor", 2018, 1, 16505, "published", tsrc, "V"])
indicators.append([tash, "poverty_incidence", 2018, 1, 1234, "published", tsrc, "V"])
indicators.append(["kashgar.shache-county", "population", 2020, 1, 860800, "published",
                   fact["shache.population_2020"]["source_url_or_publication"], "V*"])
write("indicators", ["region", "indicator", "year", "version", "value", *PROV], indicators)

# --- facts, copied with source and confidence --------------------------------------------------
write("facts", ["key", "value", "unit", "period", "confidence", "source", "note"],
      [[f["key"], f["value"], f["unit"], f["period"], f["confidence"], f["source_url_or_publication"], f["note"]]
       for f in facts])

# --- targets ----------------------------------------------------------------------------------
goal = "seed news article (as cited in research-notes.md): end absolute poverty in Kashgar by the end of 2020"
south = "research-notes.md §5b: all registered poor, villages and counties out of poverty by 2020-11-14"
write("targets", ["id", "region", "indicator", "value", "deadline", *PROV], [
    ["kashgar.poor.2020", "kashgar", "registered_poor", 0, "2020-12-31", "published", goal, "V"],
    ["hotan.poor.2020", "hotan", "registered_poor", 0, "2020-12-31", "published", south, "V"],
    ["aksu.poor.2020", "aksu", "registered_poor", 0, "2020-12-31", "published", south, "V"],
    ["kizilsu.poor.2020", "kizilsu", "registered_poor", 0, "2020-12-31", "published", south, "V"],
])
print(f"wrote {len(regions)} regions, {len(pairs)} pairs, {len(indicators)} indicators, {len(facts)} facts")
